from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import Plan, PlanEvent, Stage
from app.users.models import User
from tests.builders import auth_headers, make_clinic, make_patient, make_user
from tests.plans.plan_builders import (
    PAIN_SETTLED,
    PSFS_8,
    SQUAT_REPS,
    if_match,
    make_observation,
    make_plan,
    plan_url,
)

NOW = datetime.now(UTC).replace(microsecond=0)
HOP_LEFT, HOP_RIGHT = "hop-left", "hop-right"  # refs: the driver cites the new findings by them
KNEE_ASSESSMENT = {
    "kind": "initial",
    "assessed_at": (NOW - timedelta(days=30)).isoformat(),
    "presenting_complaint": "Left knee gives way when landing and cutting",
    "body_region": "knee",
    "onset": "chronic",
    "symptom_duration_days": 150,
    "pain_now": 3,
    "pain_worst": 6,
    "goals": [{"statement": "Return to 90 minutes of football"}],
    "findings": [
        {"name": "PSFS", "measure_code": "psfs", "value": 4, "unit": "{score}"},
        {
            "ref": HOP_LEFT,
            "name": "Single-leg hop",
            "measure_code": "single_leg_hop",
            "side": "left",
            "value": 110,
            "unit": "cm",
        },
        {
            "ref": HOP_RIGHT,
            "name": "Single-leg hop",
            "measure_code": "single_leg_hop",
            "side": "right",
            "value": 180,
            "unit": "cm",
        },
    ],
    "drivers": [
        {
            "kind": "capacity_deficit",
            "description": "Left quadriceps and landing capacity deficit",
            "finding_refs": [HOP_LEFT, HOP_RIGHT],
        }
    ],
}


def obs(code: str, value: float, days_ago: float, side: str = "none") -> dict[str, Any]:
    at = NOW - timedelta(days=days_ago)
    return {"measure_code": code, "value": value, "side": side, "observed_at": at.isoformat()}


def version(client: TestClient, plan_id: object, headers: dict[str, str]) -> int:
    return int(
        client.get(plan_url(str(plan_id), "progress"), headers=headers).json()["plan_version"]
    )


def post(
    client: TestClient, plan_id: object, action: str, headers: dict[str, str], **body: Any
) -> Any:
    """A transition on the plan's current version."""
    current = if_match(headers, version(client, plan_id, headers))
    return client.post(plan_url(str(plan_id), action), json=body or None, headers=current)


def rule(code: str, comparator: str, target: float, statement: str, **extra: Any) -> dict[str, Any]:
    """A criterion as the plan editor takes it."""
    return {
        "measure_code": code,
        "comparator": comparator,
        "target": target,
        "statement": statement,
        **extra,
    }


HOP_SYMMETRY = rule(
    "single_leg_hop",
    "gte",
    90,
    "Hops as far on the left as on the right",
    mode="limb_symmetry",
    involved_side="left",
)
KNEE_PLAN_STAGES = [
    {
        "name": "Settle and load",
        "goal": "Stairs and squats without flare-ups",
        "expected_weeks": 3,
        "criteria": [
            rule("pain_nrs", "lte", 3, "Pain 3/10 or less on stairs"),
            rule("single_leg_squat_reps", "gte", 15, "15 left single-leg squats", side="left"),
        ],
    },
    {
        "name": "Build capacity",
        "goal": "Left quadriceps strength close to the right",
        "expected_weeks": 6,
        "criteria": [
            rule(
                "quadriceps_strength_kg",
                "gte",
                80,
                "Left quadriceps at 80 % of the right",
                mode="limb_symmetry",
                involved_side="left",
            )
        ],
    },
    {
        "name": "Return to demand",
        "goal": "Landing, cutting and football drills",
        "expected_weeks": 6,
        "criteria": [],
    },
]


def test_knee_from_assessment_to_discharge_on_function(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)

    # A patient, and an initial assessment with its goal and driver, finalised.
    patient = client.post(
        "/api/v1/patients",
        json={"display_name": "Sam Keeper", "date_of_birth": "2001-04-09"},
        headers=headers,
    ).json()
    observations = f"/api/v1/patients/{patient['id']}/observations/batch"
    created = client.post(
        f"/api/v1/patients/{patient['id']}/assessments", json=KNEE_ASSESSMENT, headers=headers
    )
    assert created.status_code == 201, created.text
    assessment_id = created.json()["id"]
    final = client.post(
        f"/api/v1/assessments/{assessment_id}/finalize", headers=if_match(headers, 1)
    )
    assert final.status_code == 200, final.text

    # The plan, drafted unfinished: the last stage has no criterion, and the only discharge
    # criterion is about pain.
    draft = client.post(
        "/api/v1/plans",
        json={
            "assessment_id": assessment_id,
            "title": "Left knee: capacity, then back to football",
            "stages": KNEE_PLAN_STAGES,
            "discharge_criteria": [rule("pain_nrs", "lte", 2, "Pain 2/10 or less in training")],
        },
        headers=headers,
    )
    assert draft.status_code == 201, draft.text
    plan_id = draft.json()["id"]
    stage_ids = [stage["id"] for stage in draft.json()["stages"]]

    refused = post(client, plan_id, "activate", headers)
    assert refused.status_code == 422
    assert {e["pointer"] for e in refused.json()["errors"]} == {
        "/stages/2/criteria",
        "/discharge_criteria",
    }

    # The clinician completes it: hop symmetry for the last stage, and functional discharge.
    for url, criterion in [
        (f"/api/v1/stages/{stage_ids[2]}/criteria", HOP_SYMMETRY),
        (f"/api/v1/plans/{plan_id}/discharge-criteria", HOP_SYMMETRY),
        (f"/api/v1/plans/{plan_id}/discharge-criteria", rule("psfs", "gte", 8, "PSFS 8 or more")),
    ]:
        added = client.post(url, json=criterion, headers=headers)
        assert added.status_code == 201, added.text
    activated = post(client, plan_id, "activate", headers)
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active"
    assert activated.json()["current_stage_id"] == stage_ids[0]

    # Stage 1 gate: nothing measured yet.
    refused = post(client, plan_id, "advance", headers)
    assert refused.status_code == 409
    evaluation = refused.json()["evaluation"]
    assert evaluation["stage_id"] == stage_ids[0]
    assert [c["status"] for c in evaluation["criteria"]] == ["no_data", "no_data"]

    batch = [obs("pain_nrs", 3, 20), obs("single_leg_squat_reps", 16, 20, "left")]
    recorded = client.post(observations, json={"observations": batch}, headers=headers)
    assert recorded.status_code == 201, recorded.text
    advanced = post(client, plan_id, "advance", headers)
    assert advanced.status_code == 200, advanced.text
    assert advanced.json()["current_stage_id"] == stage_ids[1]

    # No dynamometer this week: the clinician moves on to hop testing, and says why.
    reason = "No dynamometer available; progressing to hop testing"
    overridden = post(client, plan_id, "advance", headers, override_reason=reason)
    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["event"]["override"] is True

    # Pain has settled, but the knee is not ready: discharge refused.
    pain_free = {"observations": [obs("pain_nrs", 0, 5)]}
    assert client.post(observations, json=pain_free, headers=headers).status_code == 201
    refused = post(client, plan_id, "discharge", headers)
    assert refused.status_code == 409
    unmet = {u["measure_code"]: u for u in refused.json()["unmet"]}
    assert set(unmet) == {"single_leg_hop", "psfs"}
    assert unmet["psfs"]["target"] == 8
    assert unmet["single_leg_hop"]["status"] == "no_data"

    # Hop symmetry (172 / 185 = 93 %) within a week, and PSFS 8: discharge on function.
    batch = [
        obs("single_leg_hop", 172, 3, "left"),
        obs("single_leg_hop", 185, 2, "right"),
        obs("psfs", 8, 2),
    ]
    recorded = client.post(observations, json={"observations": batch}, headers=headers)
    assert recorded.status_code == 201, recorded.text
    discharged = post(client, plan_id, "discharge", headers)
    assert discharged.status_code == 200, discharged.text
    assert discharged.json()["status"] == "discharged"
    assert discharged.json()["against_criteria"] is False
    assert discharged.headers["etag"] == f'"{discharged.json()["version"]}"'

    history = client.get(plan_url(plan_id, "history"), headers=headers).json()
    assert [(e["action"], e["from_status"], e["to_status"], e["override"]) for e in history] == [
        ("activate", "draft", "active", False),
        ("advance", "active", "active", False),
        ("advance", "active", "active", True),
        ("discharge", "active", "discharged", False),
    ]
    assert history[2]["reason"] == reason
    assert {c["status"] for c in history[3]["details"]["discharge"]} == {"met"}
    transitions = {"activate", "advance", "discharge"}  # the plan editor audits its own writes
    assert [a for a in audit_actions(session, uuid.UUID(plan_id)) if a in transitions] == [
        "activate",
        "advance",
        "advance",
        "discharge",
    ]
    plan = client.get(plan_url(plan_id), headers=headers).json()
    assert [o["reason"] for o in plan["overrides"]] == [reason]


def audit_actions(session: Session, plan_id: uuid.UUID) -> list[str]:
    rows = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "plan", AuditEvent.entity_id == plan_id)
        .order_by(AuditEvent.at)
    )
    return list(rows)


def event_count(session: Session, plan_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).where(PlanEvent.plan_id == plan_id)) or 0


def setup(session: Session, **plan_fields: Any) -> tuple[User, Plan, dict[str, str]]:
    clinician = make_user(session)
    patient = make_patient(session, clinic=session.get_one(Clinic, clinician.clinic_id))
    plan = make_plan(session, clinician=clinician, patient=patient, **plan_fields)
    return clinician, plan, auth_headers(clinician)


def observe(session: Session, plan: Plan, code: str, value: float, side: str = "none") -> None:
    make_observation(
        session, plan.patient_id, plan.clinic_id, code, value, NOW - timedelta(days=1), side
    )


@pytest.mark.parametrize(
    ("plan_fields", "pointers"),
    [
        (
            {"stages": [], "discharge": [], "timeline": False, "target_drivers": False},
            {"/driver_ids", "/stages", "/discharge_criteria", "/timeline"},
        ),
        (
            {"stages": [(PAIN_SETTLED,), ()], "discharge": [PAIN_SETTLED]},
            {"/stages/1/criteria", "/discharge_criteria"},
        ),
        ({"stages": [(), ()]}, {"/stages/0/criteria", "/stages/1/criteria"}),
    ],
)
def test_activation_lists_every_gap_and_changes_nothing(
    client: TestClient, session: Session, plan_fields: dict[str, Any], pointers: set[str]
) -> None:
    _, plan, headers = setup(session, **plan_fields)
    refused = client.post(plan_url(plan.id, "activate"), headers=if_match(headers, plan.version))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert {e["pointer"] for e in refused.json()["errors"]} == pointers
    assert session.get_one(Plan, plan.id).status == "draft"
    assert event_count(session, plan.id) == 0


def test_activation_starts_the_first_stage_today(client: TestClient, session: Session) -> None:
    clinician, plan, headers = setup(session)
    response = client.post(plan_url(plan.id, "activate"), headers=if_match(headers, plan.version))
    assert response.status_code == 200, response.text
    body = response.json()
    first = session.scalars(
        select(Stage).where(Stage.plan_id == plan.id, Stage.position == 0)
    ).one()
    assert body["current_stage_id"] == str(first.id)
    assert first.started_on == datetime.now(UTC).date()
    assert body["activated_at"] is not None
    assert body["version"] == plan.version + 1
    assert response.headers["etag"] == f'"{plan.version + 1}"'
    assert body["progress"]["stages"][0]["state"] == "current"
    event = body["event"]
    assert (event["action"], event["actor_id"], event["override"]) == (
        "activate",
        str(clinician.id),
        False,
    )
    assert (event["actor_type"], event["from_status"], event["to_status"]) == (
        "user",
        "draft",
        "active",
    )
    assert audit_actions(session, plan.id) == ["activate"]
    assert event_count(session, plan.id) == 1


def test_advance_needs_the_stage_met_or_an_override_with_its_reason(
    client: TestClient, session: Session
) -> None:
    clinician, plan, headers = setup(session, active=True)
    stages = session.scalars(
        select(Stage).where(Stage.plan_id == plan.id).order_by(Stage.position)
    ).all()
    observe(session, plan, "pain_nrs", 5)

    refused = client.post(plan_url(plan.id, "advance"), headers=if_match(headers, plan.version))
    assert refused.status_code == 409
    (pain,) = refused.json()["evaluation"]["criteria"]
    assert (pain["status"], pain["current"], pain["target"]) == ("not_met", 5, 2)

    reason = "Pain is work-related; load tolerance is fine in clinic"
    response = client.post(
        plan_url(plan.id, "advance"),
        json={"override_reason": reason},
        headers=if_match(headers, plan.version),
    )
    assert response.status_code == 200, response.text
    assert response.json()["current_stage_id"] == str(stages[1].id)
    event = session.scalars(select(PlanEvent).where(PlanEvent.plan_id == plan.id)).one()
    assert (event.override, event.reason, event.actor_id) == (True, reason, clinician.id)
    assert event.details is not None
    assert event.details["from_stage_id"] == str(stages[0].id)
    assert event.details["stage"]["criteria"][0]["status"] == "not_met"
    first, second = (session.get_one(Stage, stage.id) for stage in stages[:2])
    assert first.completed_at is not None
    assert second.started_on == datetime.now(UTC).date()


def test_advancing_past_the_last_stage_is_refused(client: TestClient, session: Session) -> None:
    _, plan, headers = setup(session, active=True, stages=[(PAIN_SETTLED,)])
    observe(session, plan, "pain_nrs", 1)
    response = client.post(
        plan_url(plan.id, "advance"),
        json={"override_reason": "try anyway"},
        headers=if_match(headers, plan.version),
    )
    assert response.status_code == 409
    assert "discharge" in response.json()["detail"]
    assert event_count(session, plan.id) == 0


def test_discharge_is_refused_when_only_pain_has_improved(
    client: TestClient, session: Session
) -> None:
    _, plan, headers = setup(session, active=True, discharge=[PAIN_SETTLED, PSFS_8])
    observe(session, plan, "pain_nrs", 0)
    observe(session, plan, "psfs", 5)
    response = client.post(plan_url(plan.id, "discharge"), headers=if_match(headers, plan.version))
    assert response.status_code == 409
    (unmet,) = response.json()["unmet"]
    assert unmet["measure_code"] == "psfs"
    assert (unmet["status"], unmet["current"], unmet["target"]) == ("not_met", 5, 8)
    assert set(unmet) == {
        "criterion_id",
        "measure_code",
        "statement",
        "status",
        "current",
        "target",
    }


def test_pain_criteria_alone_never_discharge(client: TestClient, session: Session) -> None:
    # Activation refuses such a plan; one that got there anyway is still not discharged.
    _, plan, headers = setup(session, active=True, discharge=[PAIN_SETTLED])
    observe(session, plan, "pain_nrs", 0)
    response = client.post(plan_url(plan.id, "discharge"), headers=if_match(headers, plan.version))
    assert response.status_code == 409
    assert response.json()["unmet"] == []
    assert "pain" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"override_reason": "Moving abroad next week"},
        {"override_category": "moved_away"},
        {"override_reason": "Moving", "override_category": "emigrated"},
    ],
)
def test_a_discharge_override_needs_reason_and_category(
    client: TestClient, session: Session, body: dict[str, str]
) -> None:
    _, plan, headers = setup(session, active=True)
    response = client.post(
        plan_url(plan.id, "discharge"), json=body, headers=if_match(headers, plan.version)
    )
    assert response.status_code == 422
    assert session.get_one(Plan, plan.id).status == "active"


def test_discharge_against_the_criteria_is_recorded(client: TestClient, session: Session) -> None:
    _, plan, headers = setup(session, active=True)
    body = {"override_reason": "Moving abroad next week", "override_category": "moved_away"}
    response = client.post(
        plan_url(plan.id, "discharge"), json=body, headers=if_match(headers, plan.version)
    )
    assert response.status_code == 200, response.text
    read = response.json()
    assert (read["status"], read["against_criteria"]) == ("discharged", True)
    assert (read["end_reason"], read["discharge_override_category"]) == (
        "Moving abroad next week",
        "moved_away",
    )
    assert read["ended_at"] is not None
    assert (read["event"]["override"], read["event"]["details"]["override_category"]) == (
        True,
        "moved_away",
    )
    assert audit_actions(session, plan.id) == ["discharge"]


def test_hold_resume_and_cancel(client: TestClient, session: Session) -> None:
    _, plan, headers = setup(session, active=True)
    reason = {"reason": "Knee surgery scheduled"}
    held = post(client, plan.id, "hold", headers, **reason)
    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["event"]["reason"]) == ("on_hold", reason["reason"])
    assert post(client, plan.id, "hold", headers, **reason).status_code == 409
    assert post(client, plan.id, "advance", headers).status_code == 409
    resumed = post(client, plan.id, "resume", headers)
    assert resumed.json()["status"] == "active"
    assert post(client, plan.id, "resume", headers).status_code == 409
    assert post(client, plan.id, "activate", headers).status_code == 409
    cancelled = post(client, plan.id, "cancel", headers, reason="Referred to orthopaedics")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["end_reason"]) == ("cancelled", "Referred to orthopaedics")
    assert body["ended_at"] is not None
    for action, extra in [("cancel", reason), ("discharge", {}), ("resume", {}), ("hold", reason)]:
        refused = post(client, plan.id, action, headers, **extra)
        assert refused.status_code == 409, action
        assert refused.headers["content-type"] == "application/problem+json"
    assert audit_actions(session, plan.id) == ["hold", "resume", "cancel"]
    history = client.get(plan_url(plan.id, "history"), headers=headers).json()
    assert [e["action"] for e in history] == ["hold", "resume", "cancel"]


def test_a_plan_on_hold_may_be_discharged_and_a_draft_cancelled(
    client: TestClient, session: Session
) -> None:
    _, on_hold, headers = setup(session, active=True)
    post(client, on_hold.id, "hold", headers, reason="Travelling for work")
    body = {"override_reason": "Will not return", "override_category": "patient_choice"}
    assert post(client, on_hold.id, "discharge", headers, **body).json()["status"] == "discharged"
    _, draft, headers = setup(session)
    assert post(client, draft.id, "advance", headers).status_code == 409
    assert post(client, draft.id, "discharge", headers).status_code == 409
    cancelled = post(client, draft.id, "cancel", headers, reason="Duplicate plan")
    assert cancelled.json()["event"]["from_status"] == "draft"


def test_transitions_need_the_current_version(client: TestClient, session: Session) -> None:
    _, plan, headers = setup(session, active=True)
    url = plan_url(plan.id, "hold")
    assert client.post(url, json={"reason": "Away"}, headers=headers).status_code == 428
    stale = client.post(url, json={"reason": "Away"}, headers=if_match(headers, plan.version + 5))
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == f'"{plan.version}"'
    assert session.get_one(Plan, plan.id).status == "active"
    assert event_count(session, plan.id) == 0


TRANSITIONS: list[tuple[str, dict[str, str] | None]] = [
    ("activate", None),
    ("advance", None),
    ("discharge", {"override_reason": "Patient moved", "override_category": "moved_away"}),
    ("hold", {"reason": "Away for a month"}),
    ("resume", None),
    ("cancel", {"reason": "Duplicate plan"}),
]


def test_another_clinic_gets_404_everywhere_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    _, plan, _ = setup(session, active=True)
    before = plan.version
    stranger = auth_headers(make_user(session, clinic=make_clinic(session), role=Role.admin))
    for action in ("progress", "history"):
        assert client.get(plan_url(plan.id, action), headers=stranger).status_code == 404
    for action, body in TRANSITIONS:
        response = client.post(
            plan_url(plan.id, action), json=body, headers=if_match(stranger, plan.version)
        )
        assert response.status_code == 404, action
    unchanged = session.get_one(Plan, plan.id)
    assert (unchanged.status, unchanged.version) == ("active", before)
    assert event_count(session, plan.id) == 0
    assert audit_actions(session, plan.id) == []


def test_a_patient_reads_their_plans_progress_and_history_but_changes_nothing(
    client: TestClient, session: Session
) -> None:
    _, plan, headers = setup(session, active=True)
    post(client, plan.id, "hold", headers, reason="Holiday")
    patient = session.get_one(Patient, plan.patient_id)
    clinic = session.get_one(Clinic, plan.clinic_id)
    own = auth_headers(make_user(session, clinic=clinic, role=Role.patient, patient=patient))
    assert client.get(plan_url(plan.id, "progress"), headers=own).status_code == 200
    history = client.get(plan_url(plan.id, "history"), headers=own)
    assert [e["action"] for e in history.json()] == ["hold"]
    current = session.get_one(Plan, plan.id).version
    for action, body in TRANSITIONS:
        response = client.post(plan_url(plan.id, action), json=body, headers=if_match(own, current))
        assert response.status_code == 403, action
    other = auth_headers(make_user(session, clinic=clinic, role=Role.patient))
    assert client.get(plan_url(plan.id, "history"), headers=other).status_code == 404
    assert session.get_one(Plan, plan.id).status == "on_hold"
    assert audit_actions(session, plan.id) == ["hold"]


def test_every_transition_bumps_the_version_and_records_one_event_each(
    client: TestClient, session: Session
) -> None:
    _, plan, headers = setup(session, stages=[(PAIN_SETTLED,), (SQUAT_REPS,)])
    versions = [plan.version]
    for action, body in [
        ("activate", {}),
        ("hold", {"reason": "Flu"}),
        ("resume", {}),
        ("advance", {"override_reason": "Pain from the flu, not the knee"}),
        ("discharge", {"override_reason": "Moved", "override_category": "moved_away"}),
    ]:
        response = post(client, plan.id, action, headers, **body)
        assert response.status_code == 200, (action, response.text)
        versions.append(response.json()["version"])
        assert response.headers["etag"] == f'"{versions[-1]}"'
    assert versions == sorted(set(versions))
    assert audit_actions(session, plan.id) == ["activate", "hold", "resume", "advance", "discharge"]
    assert event_count(session, plan.id) == 5
