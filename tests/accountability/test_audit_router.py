from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.types import Role
from app.exercises.models import Exercise
from app.plans.models import Plan, Stage
from app.projections import step
from app.sessions.models import AdjunctKind
from app.users.models import User
from tests.accountability.builders import (
    TODAY,
    WellRun,
    audit_of,
    codes,
    days_ago,
    make_prescription,
    make_session,
    well_run_plan,
)
from tests.builders import auth_headers, key_headers, make_api_key, make_patient, make_user
from tests.conftest import StatementCounter
from tests.plans.plan_builders import PAIN_SETTLED, make_plan, plan_url


def test_a_well_run_plan_has_no_findings(client: TestClient, session: Session) -> None:
    built = well_run_plan(session)

    body = audit_of(client, built.plan, built.clinician)

    assert body["findings"] == []
    assert body["reassessment_due"] is False
    assert body["plan_id"] == str(built.plan.id)
    assert body["reassessed_at"] is None
    assert body["thresholds"] == {
        "not_progressing_days": 14,
        "passive_recent_sessions": 2,
        "passive_share": 0.5,
        "stalled_observations": 3,
        "stalled_min_days": 14,
        "no_recent_measurement_sessions": 3,
        "draft_max_days": 7,
        "sessions_without_plan": 2,
    }
    assert body["evaluated_at"].startswith(TODAY.isoformat())


def _passive_only(session: Session, built: WellRun) -> Plan:
    """The latest two sessions: massage and ultrasound, no active work."""
    adjuncts = [AdjunctKind.soft_tissue, AdjunctKind.ultrasound]
    for days in (2, 1):
        number = len(built.sessions) + 1
        visit = make_session(
            session, built.plan, number, days_ago(days), adjuncts=adjuncts, observed=[("psfs", 7)]
        )
        built.sessions.append(visit)
    return built.plan


def _not_progressing(_session: Session, built: WellRun) -> Plan:
    for prescription in built.program:
        prescription.versions[-1].effective_on = TODAY - timedelta(days=15)
    return built.plan


def _not_individualised(session: Session, built: WellRun) -> Plan:
    """Another patient's active plan in the clinic runs the very same program (its stored
    signature written by the refresh that every prescription write ends in)."""
    clinic = session.get_one(Clinic, built.plan.clinic_id)
    other = make_plan(session, patient=make_patient(session, clinic=clinic), active=True)
    changed = [TODAY - timedelta(days=20), TODAY - timedelta(days=3)]
    for prescription in built.program:
        exercise = session.get_one(Exercise, prescription.exercise_id)
        make_prescription(session, other, changed_on=changed, exercise=exercise)
    step.project(session, [(clinic.id, other.id)])
    return built.plan


def _pain_only_discharge(session: Session, built: WellRun) -> Plan:
    return well_run_plan(session, clinician=built.clinician, discharge=[PAIN_SETTLED]).plan


def _no_plan(session: Session, built: WellRun) -> Plan:
    """A draft left for ten days."""
    return make_plan(session, clinician=built.clinician, created_at=days_ago(10))


def _milestone_overdue(session: Session, built: WellRun) -> Plan:
    stage = session.get_one(Stage, built.plan.current_stage_id)
    stage.started_on = TODAY - timedelta(weeks=7)
    return built.plan


def _over_session_estimate(_session: Session, built: WellRun) -> Plan:
    built.plan.expected_sessions_min, built.plan.expected_sessions_max = 2, 3
    return built.plan


def _stalled(session: Session, built: WellRun) -> Plan:
    """The PSFS moved 1 point (its MCID is 2) over the latest three weekly sessions."""
    return well_run_plan(session, clinician=built.clinician, psfs_step=0.5).plan


def _no_recent_measurement(session: Session, built: WellRun) -> Plan:
    """Three more sessions of work, none measuring the PSFS the stage's criterion needs."""
    for number, days in ((5, 3), (6, 2), (7, 1)):
        make_session(
            session,
            built.plan,
            number,
            days_ago(days),
            work=built.program,
            observed=[("pain_nrs", 2)],
        )
    return built.plan


FAILURES: list[tuple[Callable[[Session, WellRun], Plan], str, bool]] = [
    (_passive_only, "PASSIVE_ONLY", True),
    (_not_progressing, "NOT_PROGRESSING", True),
    (_not_individualised, "NOT_INDIVIDUALISED", False),
    (_pain_only_discharge, "PAIN_ONLY_DISCHARGE", True),
    (_no_plan, "NO_PLAN", False),
    (_milestone_overdue, "MILESTONE_OVERDUE", False),
    (_over_session_estimate, "OVER_SESSION_ESTIMATE", False),
    (_stalled, "STALLED", True),
    (_no_recent_measurement, "NO_RECENT_MEASUREMENT", False),
]


@pytest.mark.parametrize(("build", "code", "critical"), FAILURES, ids=[f[1] for f in FAILURES])
def test_each_failure_mode_is_found(
    client: TestClient,
    session: Session,
    build: Callable[[Session, WellRun], Plan],
    code: str,
    critical: bool,
) -> None:
    plan = build(session, well_run_plan(session))
    clinician = session.get_one(User, plan.clinician_id)

    body = audit_of(client, plan, clinician)

    assert codes(body) == {code}
    assert body["reassessment_due"] is critical
    severities = [f["severity"] for f in body["findings"]]
    assert ("critical" in severities) is critical
    assert all(f["message"] and isinstance(f["evidence"], dict) for f in body["findings"])


def test_findings_name_their_evidence(client: TestClient, session: Session) -> None:
    built = well_run_plan(session)
    plan = _passive_only(session, built)

    (finding,) = audit_of(client, plan, built.clinician)["findings"]

    assert finding["code"] == "PASSIVE_ONLY"
    assert len(finding["evidence"]["session_ids"]) == 2
    assert finding["evidence"]["share"] == pytest.approx(2 / 6, abs=0.001)


def test_patients_may_not_read_the_audit(client: TestClient, session: Session) -> None:
    built = well_run_plan(session)
    clinic = session.get_one(Clinic, built.plan.clinic_id)
    patient_user = make_user(session, clinic=clinic, role=Role.patient)
    patient_user.patient_id = built.plan.patient_id

    response = client.get(plan_url(built.plan.id, "audit"), headers=auth_headers(patient_user))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_admins_and_integration_keys_read_the_audit(client: TestClient, session: Session) -> None:
    built = well_run_plan(session)
    clinic = session.get_one(Clinic, built.plan.clinic_id)
    admin = make_user(session, clinic=clinic, role=Role.admin)
    _, secret = make_api_key(session, clinic=clinic)

    assert client.get(plan_url(built.plan.id, "audit"), headers=auth_headers(admin)).is_success
    by_key = client.get(plan_url(built.plan.id, "audit"), headers=key_headers(secret))
    assert by_key.status_code == 200


def test_another_clinics_plan_is_not_found(client: TestClient, session: Session) -> None:
    built = well_run_plan(session)
    stranger = make_user(session)

    response = client.get(plan_url(built.plan.id, "audit"), headers=auth_headers(stranger))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def _audit_statements(
    client: TestClient, statements: StatementCounter, plan: Plan, user: User
) -> int:
    headers = auth_headers(user)
    statements.reset()
    assert client.get(plan_url(plan.id, "audit"), headers=headers).status_code == 200
    return len(statements)


def test_the_audit_costs_the_same_statements_however_big_the_plan(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    small = well_run_plan(session)
    big = well_run_plan(session, clinician=small.clinician, sessions=15)
    for _ in range(4):
        make_prescription(session, big.plan, changed_on=[TODAY - timedelta(days=30)])
    _not_individualised(session, big)
    _passive_only(session, big)
    _not_individualised(session, small)

    small_count = _audit_statements(client, statements, small.plan, small.clinician)
    big_count = _audit_statements(client, statements, big.plan, big.clinician)

    assert small_count == big_count
    assert small_count <= 16
