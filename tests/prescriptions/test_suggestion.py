from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.prescriptions.models import LogSource, Prescription
from app.rules.progression import Dosing
from tests.builders import make_exercise, make_exercise_log, make_prescription
from tests.prescriptions import API, Setup, if_match, prescription_url, setup

TODAY = datetime.now(UTC).date()


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def _squat(session: Session, s: Setup, started: int = 0, **parameters: Any) -> Prescription:
    return make_prescription(
        session, plan=s.plan, exercise=s.exercise, effective_on=days_ago(started), **parameters
    )


def test_a_progressive_program_from_prescription_to_pain_hold(
    client: TestClient, session: Session
) -> None:
    """The issue's item 2: prescribe, log, suggest 2-for-2, apply, see the history, hold on
    pain."""
    s = setup(session, started_days_ago=10)
    payload = s.payload(effective_on=days_ago(10).isoformat())
    created = client.post(s.prescriptions_url, json=payload, headers=s.headers)
    assert created.status_code == 201, created.text
    prescription = session.get_one(Prescription, uuid.UUID(created.json()["id"]))
    first = make_exercise_log(session, prescription, 8, 9, 10, performed_on=days_ago(6))
    second = make_exercise_log(
        session, prescription, 8, 8, 10, performed_on=days_ago(4), source=LogSource.clinic
    )
    url = prescription_url(prescription.id)

    suggested = client.get(f"{url}/suggestion", headers=s.headers)
    assert suggested.status_code == 200, suggested.text
    body = suggested.json()
    assert (body["action"], body["rule"]) == ("progress", "two_for_two")
    assert set(body["log_ids"]) == {str(first.id), str(second.id)}
    assert (body["before"]["load_value"], body["after"]["load_value"]) == (40, 42)
    assert body["after"]["reps"] == 8
    assert body["notes"] == []

    applied = client.post(
        f"{url}/progress", json={"apply_suggestion": True}, headers=if_match(s.headers, 1)
    )
    assert applied.status_code == 200, applied.text
    assert applied.headers["etag"] == '"2"'
    new = applied.json()["versions"][-1]
    assert (new["number"], new["rule"], new["effective_on"]) == (2, "two_for_two", str(TODAY))
    assert new["reason"] == body["reason"]
    assert applied.json()["current"]["load_value"] == 42

    history = client.get(f"{API}/plans/{s.plan.id}/program/history", headers=s.headers).json()
    [rows] = [p["weeks"] for p in history["prescriptions"]]
    assert [(r["week"], r["version"], r["changed"]) for r in rows] == [(1, 1, False), (2, 2, True)]
    assert [r["parameters"]["load_value"] for r in rows] == [40, 42]

    make_exercise_log(session, prescription, 8, 8, 8, pain_during=7, version_number=2)
    held = client.get(f"{url}/suggestion", headers=s.headers).json()
    assert (held["action"], held["rule"], held["based_on_version"]) == ("hold", "pain", 2)
    assert held["after"] == held["before"]
    assert len(held["log_ids"]) == 1


def test_without_logs_since_the_current_version_it_holds(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    prescription = _squat(session, s)
    make_exercise_log(session, prescription, 10, 10, 10, performed_on=days_ago(3))
    url = prescription_url(prescription.id)
    body = client.get(f"{url}/suggestion", headers=s.headers).json()
    assert (body["action"], body["rule"], body["log_ids"]) == ("hold", "no_logs", [])
    refused = client.post(
        f"{url}/progress", json={"apply_suggestion": True}, headers=if_match(s.headers, 1)
    )
    assert refused.status_code == 409
    assert refused.json()["suggestion"]["rule"] == "no_logs"
    assert "Nothing to apply" in refused.json()["detail"]


def test_two_painful_sessions_suggest_a_reduction_that_applies(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    prescription = _squat(session, s, started=7)
    make_exercise_log(session, prescription, 8, 8, 8, pain_during=6, performed_on=days_ago(3))
    make_exercise_log(
        session, prescription, 8, 8, 8, pain_before=2, pain_next_morning=None,
        pain_during=6, performed_on=days_ago(1),
    )  # fmt: skip
    url = prescription_url(prescription.id)
    body = client.get(f"{url}/suggestion", headers=s.headers).json()
    assert (body["action"], body["rule"], body["after"]["load_value"]) == ("reduce", "pain", 38)
    assert body["notes"]  # next-morning pain is missing for the latest log
    reason = {"apply_suggestion": True, "reason": "Flare-up after two sessions"}
    applied = client.post(f"{url}/progress", json=reason, headers=if_match(s.headers, 1)).json()
    assert applied["versions"][-1]["reason"] == "Flare-up after two sessions"
    assert applied["current"]["load_value"] == 38


def test_a_time_dosed_hold_progresses_by_ten_percent(client: TestClient, session: Session) -> None:
    s = setup(session)
    plank = make_exercise(session, dosing=Dosing.time, name="Copenhagen plank")
    prescription = make_prescription(
        session, plan=s.plan, exercise=plank, effective_on=days_ago(5), reps=None,
        duration_s=60.0, load_unit="bodyweight", load_value=None,
    )  # fmt: skip
    make_exercise_log(
        session, prescription, performed_on=days_ago(1),
        sets=[{"duration_s": 60}, {"duration_s": 61}, {"duration_s": 60}],
    )  # fmt: skip
    body = client.get(f"{prescription_url(prescription.id)}/suggestion", headers=s.headers).json()
    assert (body["rule"], body["after"]["duration_s"]) == ("time", 66)


def test_the_clinicians_own_parameters_are_a_version_by_the_clinician(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    url = prescription_url(_squat(session, s).id)
    own = {"parameters": {"load_value": 45, "reps": 6}, "reason": "Tested a 6RM today"}
    applied = client.post(f"{url}/progress", json=own, headers=if_match(s.headers, 1))
    assert applied.status_code == 200, applied.text
    new = applied.json()["versions"][-1]
    assert (new["rule"], new["parameters"]["load_value"], new["parameters"]["reps"]) == (
        "clinician",
        45,
        6,
    )
    assert new["parameters"]["sets"] == 3
    assert (
        client.post(f"{url}/progress", json=own, headers=if_match(s.headers, 1)).status_code == 412
    )
    assert client.post(f"{url}/progress", json=own, headers=s.headers).status_code == 428


def test_progress_refuses_an_ambiguous_or_invalid_body(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    url = f"{prescription_url(_squat(session, s).id)}/progress"
    headers = if_match(s.headers, 1)
    cases = [
        ({}, "/apply_suggestion"),
        ({"apply_suggestion": True, "parameters": {"sets": 4}}, "/apply_suggestion"),
        ({"parameters": {"sets": 4}}, "/reason"),
        ({"parameters": {"sets": 0}, "reason": "more"}, "/parameters/sets"),
        ({"parameters": {"duration_s": 30}, "reason": "plank"}, "/parameters/duration_s"),
        (
            {"parameters": {"load_unit": "bodyweight"}, "reason": "no load"},
            "/parameters/load_value",
        ),
    ]
    for payload, pointer in cases:
        response = client.post(url, json=payload, headers=headers)
        assert response.status_code == 422, (payload, response.text)
        assert pointer in [e["pointer"] for e in response.json()["errors"]], payload
    cleared = {"parameters": {"load_unit": "bodyweight", "load_value": None}, "reason": "unload"}
    assert client.post(url, json=cleared, headers=headers).status_code == 200
