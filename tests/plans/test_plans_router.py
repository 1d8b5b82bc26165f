from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, Driver, DriverKind
from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import Plan, PlanEvent, PlanStatus
from app.users.models import User
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_clinic,
    make_full_assessment,
    make_user,
)
from tests.conftest import StatementCounter
from tests.plans.plan_builders import HOP_LSI, PAIN_SETTLED, if_match, make_plan, measure_id

PLANS = "/api/v1/plans"


def _clinician(session: Session, clinic_id: uuid.UUID, role: Role = Role.clinician) -> User:
    return make_user(session, clinic=session.get_one(Clinic, clinic_id), role=role)


def _add_driver(session: Session, assessment: Assessment) -> Driver:
    driver = Driver(
        clinic_id=assessment.clinic_id,
        assessment_id=assessment.id,
        position=1,
        kind=DriverKind.load_tolerance_gap,
        description="Low tolerance to running load",
        priority=2,
    )
    session.add(driver)
    session.flush()
    return driver


def _plan_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Plan)) or 0


def _criterion(code: str, **fields: Any) -> dict[str, Any]:
    return {"measure_code": code, "comparator": "gte", "target": 90, "statement": "s", **fields}


def test_create_from_a_finalised_assessment_with_defaults(
    client: TestClient, session: Session
) -> None:
    assessment = make_full_assessment(session, finalized=True)
    clinician = _clinician(session, assessment.clinic_id)
    headers = auth_headers(clinician)
    created = client.post(PLANS, json={"assessment_id": str(assessment.id)}, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"{PLANS}/{body['id']}"
    assert created.headers["etag"] == f'"{body["version"]}"'
    assert body["status"] == "draft"
    assert body["patient_id"] == str(assessment.patient_id)
    assert body["clinician_id"] == str(clinician.id)
    assert body["title"] == "Knee rehabilitation"
    assert [d["kind"] for d in body["drivers"]] == ["capacity_deficit"]
    today = datetime.now(UTC).date()
    assert body["timeline"] == {
        "expected_sessions_min": 12,
        "expected_sessions_max": 20,
        "expected_end_on": (today + timedelta(weeks=22)).isoformat(),
        "suggested": True,
        "basis": "chronic onset: 12-20 sessions over about 22 weeks",
    }
    assert (body["stages"], body["discharge_criteria"], body["overrides"]) == ([], [], [])
    read = client.get(created.headers["location"], headers=headers)
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == created.headers["etag"]


def test_create_with_everything_given_builds_the_tree_in_order(
    client: TestClient, session: Session
) -> None:
    assessment = make_full_assessment(session, finalized=True, onset="acute")
    second = _add_driver(session, assessment)
    hop = measure_id(session, "single_leg_hop")
    payload = {
        "assessment_id": str(assessment.id),
        "title": "Back to football",
        "driver_ids": [str(second.id)],
        "timeline": {
            "expected_sessions_min": 6,
            "expected_sessions_max": 10,
            "expected_end_on": "2027-03-01",
        },
        "stages": [
            {"name": "Settle", "goal": "Calm pain", "expected_weeks": 2, "criteria": []},
            {
                "name": "Build",
                "goal": "Build capacity",
                "expected_weeks": 4,
                "driver_ids": [str(second.id)],
                "criteria": [
                    _criterion(
                        "quadriceps_strength_kg", mode="limb_symmetry", involved_side="left"
                    ),
                    {**_criterion("psfs", target=8), "sustained_count": 2},
                ],
            },
        ],
        "discharge_criteria": [
            {**_criterion("x"), "measure_code": None, "measure_id": str(hop)},
            _criterion("lefs", target=9, mode="change_from_baseline"),
        ],
    }
    headers = auth_headers(_clinician(session, assessment.clinic_id))
    created = client.post(PLANS, json=payload, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["title"] == "Back to football"
    assert [d["id"] for d in body["drivers"]] == [str(second.id)]
    assert body["timeline"]["suggested"] is False
    assert body["timeline"]["basis"] is None
    assert body["timeline"]["expected_end_on"] == "2027-03-01"
    assert [(s["position"], s["name"]) for s in body["stages"]] == [(0, "Settle"), (1, "Build")]
    build = body["stages"][1]
    assert build["driver_ids"] == [str(second.id)]
    assert [(c["position"], c["kind"], c["mode"]) for c in build["criteria"]] == [
        (0, "progression", "limb_symmetry"),
        (1, "progression", "absolute"),
    ]
    assert build["criteria"][1]["sustained_count"] == 2
    discharge = body["discharge_criteria"]
    assert [(c["position"], c["kind"], c["stage_id"]) for c in discharge] == [
        (0, "discharge", None),
        (1, "discharge", None),
    ]
    assert discharge[0]["measure_id"] == str(hop)
    assert discharge[1]["change_unit"] == "points"
    assert client.get(created.headers["location"], headers=headers).json() == body


def test_a_draft_assessment_is_refused(client: TestClient, session: Session) -> None:
    assessment = make_full_assessment(session)
    headers = auth_headers(_clinician(session, assessment.clinic_id))
    response = client.post(PLANS, json={"assessment_id": str(assessment.id)}, headers=headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "finalise the assessment first" in response.json()["detail"]
    assert _plan_count(session) == 0


def test_another_clinics_assessment_is_404_naming_nothing_else(
    client: TestClient, session: Session
) -> None:
    assessment = make_full_assessment(session, finalized=True)
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    response = client.post(
        PLANS, json={"assessment_id": str(assessment.id)}, headers=auth_headers(stranger)
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "No assessment with that id in your clinic."
    assert _plan_count(session) == 0


@pytest.mark.parametrize(
    ("driver_ids", "pointer"),
    [
        (["foreign"], "/driver_ids/0"),
        (["own", "own"], "/driver_ids/1"),
        ([], "/driver_ids"),
    ],
)
def test_driver_ids_must_be_the_assessments_own(
    client: TestClient, session: Session, driver_ids: list[str], pointer: str
) -> None:
    assessment = make_full_assessment(session, finalized=True)
    own = session.scalars(select(Driver.id).where(Driver.assessment_id == assessment.id)).one()
    other = make_full_assessment(
        session, patient=None, clinician=_clinician(session, assessment.clinic_id), finalized=True
    )
    foreign = session.scalars(select(Driver.id).where(Driver.assessment_id == other.id)).one()
    ids = [str(own if name == "own" else foreign) for name in driver_ids]
    headers = auth_headers(_clinician(session, assessment.clinic_id))
    response = client.post(
        PLANS, json={"assessment_id": str(assessment.id), "driver_ids": ids}, headers=headers
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    assert _plan_count(session) == 0


def test_the_clinician_defaults_to_the_caller_and_an_integration_must_name_one(
    client: TestClient, session: Session
) -> None:
    assessment = make_full_assessment(session, finalized=True)
    clinic = session.get_one(Clinic, assessment.clinic_id)
    _, secret = make_api_key(session, clinic=clinic)
    clinician = _clinician(session, clinic.id)
    patient_user = make_user(session, clinic=clinic, role=Role.patient)
    outsider = make_user(session, clinic=make_clinic(session))
    new = {"assessment_id": str(assessment.id)}
    missing = client.post(PLANS, json=new, headers=key_headers(secret))
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["pointer"] == "/clinician_id"
    for wrong in (patient_user, outsider):
        refused = client.post(
            PLANS, json={**new, "clinician_id": str(wrong.id)}, headers=key_headers(secret)
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/clinician_id"
    named = client.post(
        PLANS, json={**new, "clinician_id": str(clinician.id)}, headers=key_headers(secret)
    )
    assert named.status_code == 201
    assert named.json()["clinician_id"] == str(clinician.id)
    admin = _clinician(session, clinic.id, Role.admin)
    by_admin = client.post(PLANS, json=new, headers=auth_headers(admin))
    assert by_admin.json()["clinician_id"] == str(admin.id)


def test_every_problem_in_the_nested_tree_is_named_and_nothing_is_written(
    client: TestClient, session: Session
) -> None:
    assessment = make_full_assessment(session, finalized=True)
    stranger_driver = uuid.uuid4()
    payload = {
        "assessment_id": str(assessment.id),
        "stages": [
            {
                "name": "Settle",
                "goal": "Calm pain",
                "expected_weeks": 2,
                "position": 3,
                "driver_ids": [str(stranger_driver)],
                "criteria": [
                    _criterion("pain_nrs", mode="limb_symmetry", involved_side="left"),
                    _criterion("no_such_measure"),
                ],
            }
        ],
        "discharge_criteria": [
            {**_criterion("x"), "measure_code": None, "measure_id": str(uuid.uuid4())}
        ],
    }
    headers = auth_headers(_clinician(session, assessment.clinic_id))
    response = client.post(PLANS, json=payload, headers=headers)
    assert response.status_code == 422
    assert sorted(e["pointer"] for e in response.json()["errors"]) == [
        "/discharge_criteria/0/measure_id",
        "/stages/0/criteria/0/mode",
        "/stages/0/criteria/1/measure_code",
        "/stages/0/driver_ids/0",
        "/stages/0/position",
    ]
    assert _plan_count(session) == 0


def test_another_clinics_own_measure_is_unknown(client: TestClient, session: Session) -> None:
    assessment = make_full_assessment(session, finalized=True)
    other_admin = make_user(session, clinic=make_clinic(session), role=Role.admin)
    measure = {
        "code": "clinic_hop",
        "name": "Our hop",
        "category": "performance",
        "unit": "cm",
        "better": "higher",
        "bilateral": True,
    }
    made = client.post("/api/v1/measures", json=measure, headers=auth_headers(other_admin))
    assert made.status_code == 201, made.text
    payload = {
        "assessment_id": str(assessment.id),
        "discharge_criteria": [_criterion("clinic_hop")],
    }
    headers = auth_headers(_clinician(session, assessment.clinic_id))
    response = client.post(PLANS, json=payload, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/discharge_criteria/0/measure_code"


def test_list_filters_and_pages(client: TestClient, session: Session) -> None:
    first = make_plan(session)
    clinic = session.get_one(Clinic, first.clinic_id)
    clinician = _clinician(session, clinic.id)
    second = make_plan(session, clinician=clinician)
    third = make_plan(session, clinician=clinician, status=PlanStatus.active)
    make_plan(session)  # another clinic's
    headers = auth_headers(clinician)

    def ids(**params: Any) -> list[str]:
        response = client.get(PLANS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert sorted(ids()) == sorted(str(p.id) for p in (first, second, third))
    assert ids(patient_id=str(first.patient_id)) == [str(first.id)]
    assert sorted(ids(clinician_id=str(clinician.id))) == sorted([str(second.id), str(third.id)])
    assert ids(status="active") == [str(third.id)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(PLANS, params=params, headers=headers).json()
        seen += [p["id"] for p in page["items"]]
        assert all("stages" not in p for p in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(str(p.id) for p in (first, second, third))
    assert client.get(PLANS, params={"status": "bogus"}, headers=headers).status_code == 422


def test_reading_a_plan_costs_the_same_statements_whatever_its_size(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    small = make_plan(session, stages=[[PAIN_SETTLED]], discharge=[HOP_LSI])
    big = make_plan(session, stages=[[PAIN_SETTLED] * 6] * 5, discharge=[HOP_LSI] * 6)
    small_headers = auth_headers(_clinician(session, small.clinic_id))
    big_headers = auth_headers(_clinician(session, big.clinic_id))
    session.add(
        PlanEvent(
            clinic_id=big.clinic_id,
            plan_id=big.id,
            action="advance",
            from_status="active",
            to_status="active",
            actor_type="user",
            actor_id=uuid.uuid4(),
            reason="Clinical judgement",
            override=True,
        )
    )
    session.commit()
    statements.reset()
    small_read = client.get(f"{PLANS}/{small.id}", headers=small_headers)
    small_count = len(statements)
    statements.reset()
    big_read = client.get(f"{PLANS}/{big.id}", headers=big_headers)
    assert len(statements) == small_count
    assert small_read.status_code == big_read.status_code == 200
    body = big_read.json()
    assert len(body["stages"]) == 5
    assert {len(stage["criteria"]) for stage in body["stages"]} == {6}
    assert len(body["discharge_criteria"]) == 6
    assert [o["reason"] for o in body["overrides"]] == ["Clinical judgement"]
    assert small_count <= 10


def test_update_needs_if_match_and_refuses_a_stale_one(
    client: TestClient, session: Session
) -> None:
    plan = make_plan(session)
    headers = auth_headers(_clinician(session, plan.clinic_id))
    url = f"{PLANS}/{plan.id}"
    assert client.patch(url, json={"title": "x"}, headers=headers).status_code == 428
    first = client.patch(url, json={"title": "First"}, headers=if_match(headers, plan.version))
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == f'"{plan.version + 1}"'
    stale = client.patch(url, json={"title": "Second"}, headers=if_match(headers, plan.version))
    assert stale.status_code == 412
    assert client.get(url, headers=headers).json()["title"] == "First"


def test_update_title_clinician_and_timeline(client: TestClient, session: Session) -> None:
    plan = make_plan(session, status=PlanStatus.active, timeline_suggested=True)
    other = _clinician(session, plan.clinic_id)
    headers = auth_headers(_clinician(session, plan.clinic_id))
    timeline = {
        "expected_sessions_min": 8,
        "expected_sessions_max": 9,
        "expected_end_on": "2027-01-02",
    }
    changes = {"title": "Hip", "clinician_id": str(other.id), "timeline": timeline}
    url = f"{PLANS}/{plan.id}"
    updated = client.patch(url, json=changes, headers=if_match(headers, plan.version))
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["title"], body["clinician_id"]) == ("Hip", str(other.id))
    assert body["timeline"] == {**timeline, "suggested": False, "basis": None}
    patient_user = make_user(
        session, clinic=session.get_one(Clinic, plan.clinic_id), role=Role.patient
    )
    wrong = client.patch(
        url,
        json={"clinician_id": str(patient_user.id)},
        headers=if_match(headers, body["version"]),
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "/clinician_id"


@pytest.mark.parametrize(
    "payload",
    [{"title": None}, {"timeline": None}, {"clinician_id": None}, {"driver_ids": []}, {"x": 1}],
)
def test_update_refuses_nulls_and_unknown_fields(
    client: TestClient, session: Session, payload: dict[str, Any]
) -> None:
    plan = make_plan(session)
    headers = if_match(auth_headers(_clinician(session, plan.clinic_id)), plan.version)
    response = client.patch(f"{PLANS}/{plan.id}", json=payload, headers=headers)
    assert response.status_code == 422


def test_driver_ids_change_only_while_draft(client: TestClient, session: Session) -> None:
    assessment = make_full_assessment(session, finalized=True)
    second = _add_driver(session, assessment)
    plan = make_plan(session, assessment=assessment, stages=[[PAIN_SETTLED]])
    headers = auth_headers(_clinician(session, plan.clinic_id))
    url = f"{PLANS}/{plan.id}"
    retarget = {"driver_ids": [str(second.id)]}
    changed = client.patch(url, json=retarget, headers=if_match(headers, plan.version))
    assert changed.status_code == 200, changed.text
    assert [d["id"] for d in changed.json()["drivers"]] == [str(second.id)]
    foreign = client.patch(
        url,
        json={"driver_ids": [str(uuid.uuid4())]},
        headers=if_match(headers, changed.json()["version"]),
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["pointer"] == "/driver_ids/0"
    active = make_plan(session, assessment=assessment, status=PlanStatus.active)
    refused = client.patch(
        f"{PLANS}/{active.id}", json=retarget, headers=if_match(headers, active.version)
    )
    assert refused.status_code == 409
    titled = client.patch(
        f"{PLANS}/{active.id}", json={"title": "Still fine"}, headers=if_match(headers, 1)
    )
    assert titled.status_code == 200


def test_dropping_a_driver_a_stage_addresses_is_409(client: TestClient, session: Session) -> None:
    assessment = make_full_assessment(session, finalized=True)
    first = session.scalars(select(Driver.id).where(Driver.assessment_id == assessment.id)).one()
    second = _add_driver(session, assessment)
    headers = auth_headers(_clinician(session, assessment.clinic_id))
    stage = {"name": "S", "goal": "G", "expected_weeks": 2, "driver_ids": [str(first)]}
    created = client.post(
        PLANS, json={"assessment_id": str(assessment.id), "stages": [stage]}, headers=headers
    ).json()
    response = client.patch(
        f"{PLANS}/{created['id']}",
        json={"driver_ids": [str(second.id)]},
        headers=if_match(headers, created["version"]),
    )
    assert response.status_code == 409


@pytest.mark.parametrize("status", [PlanStatus.discharged, PlanStatus.cancelled])
def test_an_ended_plan_cannot_be_changed(
    client: TestClient, session: Session, status: PlanStatus
) -> None:
    plan = make_plan(session, status=status, ended_at=datetime.now(UTC))
    headers = auth_headers(_clinician(session, plan.clinic_id))
    response = client.patch(
        f"{PLANS}/{plan.id}", json={"title": "Late"}, headers=if_match(headers, plan.version)
    )
    assert response.status_code == 409


def test_patient_reads_their_own_plan_but_cannot_write(
    client: TestClient, session: Session
) -> None:
    mine = make_plan(session)
    clinic = session.get_one(Clinic, mine.clinic_id)
    me = make_user(
        session, clinic=clinic, role=Role.patient, patient=session.get_one(Patient, mine.patient_id)
    )
    neighbour = make_plan(
        session,
        assessment=make_full_assessment(
            session, clinician=_clinician(session, clinic.id), finalized=True
        ),
    )
    headers = if_match(auth_headers(me), mine.version)
    assert client.get(f"{PLANS}/{mine.id}", headers=headers).status_code == 200
    assert client.get(f"{PLANS}/{neighbour.id}", headers=headers).status_code == 404
    listed = client.get(PLANS, headers=headers).json()["items"]
    assert [p["id"] for p in listed] == [str(mine.id)]
    new = {"assessment_id": str(mine.assessment_id)}
    assert client.post(PLANS, json=new, headers=headers).status_code == 403
    assert (
        client.patch(f"{PLANS}/{mine.id}", json={"title": "x"}, headers=headers).status_code == 403
    )


def test_another_clinics_user_gets_404_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    plan = make_plan(session)
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    headers = if_match(auth_headers(stranger), plan.version)
    url = f"{PLANS}/{plan.id}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"title": "x"}, headers=headers).status_code == 404
    assert client.get(PLANS, headers=headers).json()["items"] == []
    assert session.get_one(Plan, plan.id).title == plan.title
    assert session.get_one(Plan, plan.id).version == plan.version


def test_each_plan_write_records_exactly_one_audit_event(
    client: TestClient, session: Session
) -> None:
    assessment = make_full_assessment(session, finalized=True)
    clinician = _clinician(session, assessment.clinic_id)
    headers = auth_headers(clinician)
    payload = {
        "assessment_id": str(assessment.id),
        "stages": [
            {"name": "S", "goal": "G", "expected_weeks": 2, "criteria": [_criterion("psfs")]}
        ],
        "discharge_criteria": [_criterion("lefs")],
    }
    created = client.post(PLANS, json=payload, headers=headers).json()
    url = f"{PLANS}/{created['id']}"
    client.patch(url, json={"title": "T"}, headers=if_match(headers, created["version"]))
    client.patch(url, json={"title": "Stale"}, headers=if_match(headers, created["version"]))
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.clinic_id == assessment.clinic_id)
        .order_by(AuditEvent.at)
    ).all()
    assert [(e.action, e.entity_type, str(e.entity_id)) for e in events] == [
        ("create", "plan", created["id"]),
        ("update", "plan", created["id"]),
    ]
    assert {e.actor_id for e in events} == {clinician.id}
