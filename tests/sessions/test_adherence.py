from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.types import Role
from app.plans.models import PlanStatus
from app.prescriptions.models import ExerciseLog, LogSource, Prescription, PrescriptionStatus
from tests.builders import auth_headers, make_user
from tests.conftest import StatementCounter
from tests.sessions.builders import make_care, prescribe

TODAY = datetime.now(UTC).date()
D0 = TODAY - timedelta(days=20)  # activation: weeks 1 and 2 are over, week 3 holds today


def _day(offset: int) -> date:
    return D0 + timedelta(days=offset)


def _url(plan_id: uuid.UUID) -> str:
    return f"/api/v1/plans/{plan_id}/adherence"


def _log(session: Session, prescription: Prescription, offset: int, **fields: Any) -> None:
    fields.setdefault("sets", [{"reps": 10}])
    session.add(
        ExerciseLog(
            clinic_id=prescription.clinic_id,
            prescription_id=prescription.id,
            plan_id=prescription.plan_id,
            patient_id=prescription.patient_id,
            version_number=1,
            performed_on=_day(offset),
            source=LogSource.home,
            recorded_by_type="user",
            recorded_by_id=uuid.uuid4(),
            **fields,
        )
    )
    session.flush()


def _weeks(row: dict[str, Any]) -> list[tuple[int, int, int, int, float]]:
    return [
        (w["week"], w["version_number"], w["prescribed"], w["done"], w["ratio"])
        for w in row["weeks"]
    ]


def test_adherence_per_prescription_and_week(client: TestClient, session: Session) -> None:
    care = make_care(session, activated_on=D0)
    headers = auth_headers(care.clinician)
    # 3 a week from before activation, 4 a week from week 2.
    squat = prescribe(session, care.plan, versions=[(_day(-3), 3), (_day(7), 4)])
    # Starts in the middle of week 2, twice a week.
    bridge = prescribe(session, care.plan, versions=[(_day(9), 2)])
    # Stopped during week 1.
    lunge = prescribe(session, care.plan, status=PrescriptionStatus.stopped, versions=[(D0, 3)])
    lunge.stopped_at = datetime.combine(_day(5), time(12), UTC)
    _log(session, squat, -1)  # before activation: not counted
    for offset in (0, 2, 7, 8, 9, 10, 11, 15):
        _log(session, squat, offset)
    _log(session, squat, 4, skipped=True, skip_reason="busy", sets=[])
    _log(session, bridge, 12)
    _log(session, lunge, 1)
    visit = {
        "occurred_at": datetime.combine(_day(2), time(10), UTC).isoformat(),
        "work": [{"prescription_id": str(squat.id), "sets": [{"reps": 10}]}],
    }
    in_clinic = client.post(f"/api/v1/plans/{care.plan.id}/sessions", json=visit, headers=headers)
    assert in_clinic.status_code == 201, in_clinic.text  # a second log on day 2: one session

    response = client.get(_url(care.plan.id), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["activated_on"], body["through"]) == (D0.isoformat(), TODAY.isoformat())
    squat_row, bridge_row, lunge_row = body["prescriptions"]
    assert squat_row["prescription_id"] == str(squat.id)
    assert _weeks(squat_row) == [(1, 1, 3, 2, 0.67), (2, 2, 4, 5, 1.25), (3, 2, 4, 1, 0.25)]
    assert (squat_row["prescribed"], squat_row["done"], squat_row["ratio"]) == (11, 8, 0.73)
    assert _weeks(bridge_row) == [(2, 1, 2, 1, 0.5), (3, 1, 2, 0, 0.0)]
    assert _weeks(lunge_row) == [(1, 1, 3, 1, 0.33)]
    assert lunge_row["status"] == "stopped"
    assert (body["prescribed"], body["done"], body["ratio"]) == (18, 10, 0.56)
    week_3 = squat_row["weeks"][2]
    assert (week_3["starts_on"], week_3["ends_on"]) == (_day(14).isoformat(), _day(20).isoformat())
    assert [w["complete"] for w in squat_row["weeks"]] == [True, True, False]


def test_a_draft_plan_has_no_adherence_yet(client: TestClient, session: Session) -> None:
    care = make_care(session, status=PlanStatus.draft)
    prescribe(session, care.plan)
    body = client.get(_url(care.plan.id), headers=auth_headers(care.clinician)).json()
    assert body["activated_on"] is None
    assert body["prescriptions"] == []
    assert body["ratio"] is None


def test_adherence_costs_the_same_statements_however_long_and_large_the_plan(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    costs = []
    for count, days in ((1, 3), (4, 60)):
        care = make_care(session, activated_on=TODAY - timedelta(days=days))
        for _ in range(count):
            prescription = prescribe(session, care.plan, versions=[(D0, 2), (TODAY, 3)])
            _log(session, prescription, 19)
        statements.reset()
        assert client.get(_url(care.plan.id), headers=auth_headers(care.clinician)).is_success
        costs.append(len(statements))
    assert costs[0] == costs[1]


def test_the_patient_reads_their_own_and_strangers_get_404(
    client: TestClient, session: Session
) -> None:
    care = make_care(session, activated_on=D0)
    prescribe(session, care.plan)
    assert client.get(_url(care.plan.id), headers=auth_headers(care.patient_user)).is_success
    stranger = make_user(session, role=Role.admin)
    assert client.get(_url(care.plan.id), headers=auth_headers(stranger)).status_code == 404
    neighbour = make_user(session, clinic=care.clinic, role=Role.patient)
    assert client.get(_url(care.plan.id), headers=auth_headers(neighbour)).status_code == 404
