from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.models import Assessment
from app.clinics.models import Clinic
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import Plan, Stage
from app.users.models import User
from tests.builders import auth_headers, make_clinic, make_patient, make_user
from tests.conftest import StatementCounter
from tests.plans.plan_builders import (
    HOP_LSI,
    PAIN_SETTLED,
    PSFS_8,
    SQUAT_REPS,
    add_finding,
    criterion,
    make_observation,
    make_plan,
    plan_url,
)

ASSESSED = datetime(2026, 11, 2, 9, tzinfo=UTC)  # make_full_assessment's assessed_at
PSFS_GAIN = criterion(
    "psfs", "gte", 2, mode="change_from_baseline", statement="PSFS up by its MCID"
)


def at(days: float) -> datetime:
    return ASSESSED + timedelta(days=days)


def clinician_and_plan(session: Session, **plan_fields: Any) -> tuple[User, Plan]:
    clinician = make_user(session)
    patient = make_patient(session, clinic=session.get_one(Clinic, clinician.clinic_id))
    plan = make_plan(session, clinician=clinician, patient=patient, **plan_fields)
    return clinician, plan


def observe(session: Session, plan: Plan, code: str, value: float, day: float, side: str = "none"):
    return make_observation(session, plan.patient_id, plan.clinic_id, code, value, at(day), side)


def by_code(criteria: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        c["measure_code"] + ("/" + c["mode"] if c["mode"] != "absolute" else ""): c
        for c in criteria
    }


def test_each_criterion_is_evaluated_on_the_counted_observations(
    client: TestClient, session: Session
) -> None:
    clinician, plan = clinician_and_plan(
        session,
        active=True,
        stages=[(PAIN_SETTLED, SQUAT_REPS), (HOP_LSI,)],
        discharge=[HOP_LSI, PSFS_8, PSFS_GAIN],
    )
    add_finding(session, session.get_one(Assessment, plan.assessment_id), "psfs", 4, "{score}")
    observe(session, plan, "pain_nrs", 6, 1)
    latest_pain = observe(session, plan, "pain_nrs", 2, 8)
    observe(session, plan, "single_leg_squat_reps", 20, -3, "left")  # before the assessment
    observe(session, plan, "single_leg_squat_reps", 10, 8, "left")
    left = observe(session, plan, "single_leg_hop", 170, 9, "left")
    right = observe(session, plan, "single_leg_hop", 200, 10, "right")
    observe(session, plan, "psfs", 7, 10)
    wrong = observe(session, plan, "psfs", 9, 11)
    wrong.entered_in_error_at = at(12)
    other = make_patient(session, clinic=session.get_one(Clinic, plan.clinic_id))
    make_observation(session, other.id, plan.clinic_id, "psfs", 10, at(12))

    response = client.get(plan_url(plan.id, "progress"), headers=auth_headers(clinician))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["plan_version"] == plan.version
    assert (body["may_advance"], body["discharge_ready"]) == (False, False)
    first, second = body["stages"]
    assert (first["state"], first["all_met"], second["state"]) == ("current", False, "pending")
    pain, squat = first["criteria"]
    assert (pain["status"], pain["current"], pain["baseline"]) == ("met", 2, 6)
    assert (pain["progress"], pain["observation_ids"]) == (1, [str(latest_pain.id)])
    assert (squat["status"], squat["current"]) == ("not_met", 10)
    hop = second["criteria"][0]
    assert hop["status"] == "not_met"
    assert hop["current"] == 85
    assert set(hop["observation_ids"]) == {str(left.id), str(right.id)}
    assert second["timeline"] is None
    today = datetime.now(UTC).date()
    assert first["timeline"] == {
        "due_on": (today + timedelta(weeks=4)).isoformat(),
        "status": "on_track",
        "days_behind": 0,
    }
    discharge = by_code(body["discharge"])
    assert discharge["psfs"]["current"] == 7  # the one entered in error no longer counts
    assert (discharge["psfs"]["baseline"], discharge["psfs"]["progress"]) == (4, 0.75)
    gain = discharge["psfs/change_from_baseline"]
    assert (gain["status"], gain["current"], gain["baseline"]) == ("met", 3, 4)
    assert discharge["single_leg_hop/limb_symmetry"]["measure_category"] == "performance"
    assert body["timeline"]["status"] == "on_track"
    assert body["timeline"]["expected_sessions_max"] == 20


def test_a_stage_past_its_expected_weeks_is_behind(client: TestClient, session: Session) -> None:
    clinician, plan = clinician_and_plan(session, active=True)
    stage = session.scalars(select(Stage).where(Stage.id == plan.current_stage_id)).one()
    started = datetime.now(UTC).date() - timedelta(weeks=6)
    stage.started_on = started
    body = client.get(plan_url(plan.id, "progress"), headers=auth_headers(clinician)).json()
    current = body["stages"][0]["timeline"]
    assert current == {
        "due_on": (started + timedelta(weeks=4)).isoformat(),
        "status": "behind",
        "days_behind": 14,
    }
    assert (body["timeline"]["status"], body["timeline"]["days_behind"]) == ("behind", 14)


def test_a_draft_has_no_current_stage_and_no_schedule(client: TestClient, session: Session) -> None:
    clinician, plan = clinician_and_plan(session)
    body = client.get(plan_url(plan.id, "progress"), headers=auth_headers(clinician)).json()
    assert body["status"] == "draft"
    assert body["current_stage_id"] is None
    assert {s["state"] for s in body["stages"]} == {"pending"}
    assert body["timeline"]["status"] is None
    assert (
        body["timeline"]["expected_end_on"] == (ASSESSED + timedelta(weeks=20)).date().isoformat()
    )
    assert body["may_advance"] is False
    assert all(c["status"] == "no_data" for c in body["discharge"])


def test_may_advance_and_discharge_ready_follow_the_criteria(
    client: TestClient, session: Session
) -> None:
    clinician, plan = clinician_and_plan(
        session, active=True, stages=[(PAIN_SETTLED,), (SQUAT_REPS,)], discharge=[PSFS_8]
    )
    observe(session, plan, "pain_nrs", 1, 3)
    observe(session, plan, "psfs", 9, 3)
    body = client.get(plan_url(plan.id, "progress"), headers=auth_headers(clinician)).json()
    assert (body["may_advance"], body["discharge_ready"]) == (True, True)


def _progress_statements(
    client: TestClient, session: Session, statements: StatementCounter, plan: Plan, user: User
) -> int:
    headers = auth_headers(user)
    session.flush()
    statements.reset()
    response = client.get(plan_url(plan.id, "progress"), headers=headers)
    assert response.status_code == 200, response.text
    return len(statements)


def test_progress_costs_the_same_statements_however_big_the_plan(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    clinician, small = clinician_and_plan(
        session, active=True, stages=[(PAIN_SETTLED,)], discharge=[PSFS_8]
    )
    observe(session, small, "pain_nrs", 3, 1)
    many = (PAIN_SETTLED, SQUAT_REPS, HOP_LSI, PSFS_GAIN)
    _, big = clinician_and_plan(
        session,
        active=True,
        stages=[many] * 6,
        discharge=[HOP_LSI, PSFS_8, PSFS_GAIN, PAIN_SETTLED],
    )
    big_clinician = make_user(session, clinic=session.get_one(Clinic, big.clinic_id))
    for day in range(20):
        observe(session, big, "pain_nrs", 5 - day % 5, day)
        observe(session, big, "psfs", day % 10, day)
        observe(session, big, "single_leg_hop", 150 + day, day, "left")
        observe(session, big, "single_leg_hop", 180, day, "right")
        observe(session, big, "single_leg_squat_reps", day, day, "left")

    small_count = _progress_statements(client, session, statements, small, clinician)
    big_count = _progress_statements(client, session, statements, big, big_clinician)

    assert small_count == big_count
    assert small_count <= 12, small_count


def test_a_patient_reads_their_own_progress_only(client: TestClient, session: Session) -> None:
    _, plan = clinician_and_plan(session, active=True)
    clinic = session.get_one(Clinic, plan.clinic_id)
    own = make_user(
        session, clinic=clinic, role=Role.patient, patient=session.get_one(Patient, plan.patient_id)
    )
    someone_else = make_user(session, clinic=clinic, role=Role.patient)
    stranger = make_user(session, clinic=make_clinic(session))

    assert client.get(plan_url(plan.id, "progress"), headers=auth_headers(own)).status_code == 200
    for user in (someone_else, stranger):
        response = client.get(plan_url(plan.id, "progress"), headers=auth_headers(user))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(plan_url(plan.id, "progress")).status_code == 401


def test_unknown_plan_is_404(client: TestClient, session: Session) -> None:
    response = client.get(
        plan_url(uuid.uuid4(), "progress"), headers=auth_headers(make_user(session))
    )
    assert response.status_code == 404
