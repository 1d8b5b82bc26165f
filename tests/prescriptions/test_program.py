from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.prescriptions.models import Prescription, PrescriptionStatus, PrescriptionVersion
from app.users.models import User
from tests.builders import auth_headers, make_prescription, make_user
from tests.conftest import StatementCounter
from tests.prescriptions import API, Setup, setup

TODAY = datetime.now(UTC).date()


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def add_version(
    session: Session, prescription: Prescription, number: int, effective_on: date, **changes: Any
) -> None:
    fields: dict[str, Any] = {"sets": 3, "reps": 8, "load_unit": "kg", "load_value": 40.0}
    session.add(
        PrescriptionVersion(
            clinic_id=prescription.clinic_id,
            prescription_id=prescription.id,
            number=number,
            effective_on=effective_on,
            created_by_type="user",
            created_by_id=prescription.clinic_id,
            reason="progression",
            sessions_per_week=3,
            **{**fields, **changes},
        )
    )
    session.flush()


def three_prescriptions(session: Session, s: Setup) -> dict[str, Prescription]:
    """Plan started 20 days ago: week 1 is days 20-14 ago, week 2 13-7, week 3 6-0.
    squat: 40 kg, then 42 kg from week 2. bridge: from week 3. plank: stopped in week 2."""
    squat = make_prescription(session, plan=s.plan, effective_on=days_ago(20))
    add_version(session, squat, 2, days_ago(10), load_value=42.0)
    bridge = make_prescription(session, plan=s.plan, effective_on=days_ago(5))
    plank = make_prescription(session, plan=s.plan, effective_on=days_ago(20))
    plank.status = PrescriptionStatus.stopped
    plank.stopped_at = datetime.now(UTC) - timedelta(days=12)
    session.flush()
    return {"squat": squat, "bridge": bridge, "plank": plank}


def test_a_week_shows_the_version_in_force_at_its_end(client: TestClient, session: Session) -> None:
    s = setup(session, started_days_ago=20)
    made = three_prescriptions(session, s)
    names = {str(p.id): name for name, p in made.items()}
    url = f"{API}/plans/{s.plan.id}/program"

    def week(number: int | None) -> dict[str, Any]:
        params = {"week": number} if number else {}
        response = client.get(url, params=params, headers=s.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def shown(body: dict[str, Any]) -> dict[str, tuple[int, float]]:
        return {
            names[i["prescription_id"]]: (i["version"], i["parameters"]["load_value"])
            for i in body["items"]
        }

    first = week(1)
    assert (first["starts_on"], first["ends_on"]) == (str(days_ago(20)), str(days_ago(14)))
    assert shown(first) == {"squat": (1, 40), "plank": (1, 40)}
    assert shown(week(2)) == {"squat": (2, 42), "plank": (1, 40)}
    assert shown(week(3)) == {"squat": (2, 42), "bridge": (1, 40)}
    assert week(None)["week"] == 3
    bad = client.get(url, params={"week": 0}, headers=s.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["parameter"] == "week"


def test_history_is_each_prescriptions_parameters_week_by_week(
    client: TestClient, session: Session
) -> None:
    s = setup(session, started_days_ago=20)
    made = three_prescriptions(session, s)
    body = client.get(f"{API}/plans/{s.plan.id}/program/history", headers=s.headers).json()
    assert (body["current_week"], body["starts_on"]) == (3, str(days_ago(20)))
    rows = {p["prescription_id"]: p["weeks"] for p in body["prescriptions"]}

    def summary(name: str) -> list[tuple[int, int, bool]]:
        return [(w["week"], w["version"], w["changed"]) for w in rows[str(made[name].id)]]

    assert summary("squat") == [(1, 1, False), (2, 2, True), (3, 2, False)]
    assert summary("bridge") == [(3, 1, False)]
    assert summary("plank") == [(1, 1, False), (2, 1, False)]
    assert [p["status"] for p in body["prescriptions"]] == ["active", "active", "stopped"]


def test_a_plan_never_activated_counts_weeks_from_its_creation(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    s.plan.activated_at = None
    session.flush()
    make_prescription(session, plan=s.plan)
    body = client.get(f"{API}/plans/{s.plan.id}/program", headers=s.headers).json()
    assert (body["week"], body["starts_on"]) == (1, str(s.plan.created_at.date()))
    assert len(body["items"]) == 1


def _statements(
    client: TestClient, session: Session, statements: StatementCounter, s: Setup, user: User
) -> tuple[int, int]:
    headers = auth_headers(user)
    session.flush()
    counts = []
    for path in ("program?week=2", "program/history"):
        statements.reset()
        response = client.get(f"{API}/plans/{s.plan.id}/{path}", headers=headers)
        assert response.status_code == 200, response.text
        counts.append(len(statements))
    return counts[0], counts[1]


def test_program_and_history_cost_the_same_statements_however_many_prescriptions(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    small = setup(session, started_days_ago=30)
    make_prescription(session, plan=small.plan, effective_on=days_ago(30))
    big = setup(session, started_days_ago=30)
    for n in range(10):
        p = make_prescription(session, plan=big.plan, effective_on=days_ago(30))
        add_version(session, p, 2, days_ago(20 - n), load_value=41.0 + n)
    big_user = make_user(session, clinic=session.get_one(Clinic, big.plan.clinic_id))

    small_counts = _statements(client, session, statements, small, small.clinician)
    big_counts = _statements(client, session, statements, big, big_user)

    assert small_counts == big_counts
    assert max(small_counts) <= 6, small_counts
