"""The issue's item 2 with every step over HTTP, as the clinician's front-end and the
patient's app would do it: prescribe; the patient logs two sessions that beat the target by two
reps with low pain; a load increase is suggested and applied; the week-by-week program shows
both versions; a painful session then holds the load."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.builders import auth_headers
from tests.prescriptions import API, if_match, patient_user, prescription_url, setup

TODAY = datetime.now(UTC).date()


def _log(reps: list[int], days_ago: int, *, pain: int, morning: int | None) -> dict[str, object]:
    return {
        "performed_on": (TODAY - timedelta(days=days_ago)).isoformat(),
        "sets": [{"reps": r, "load_value": 40, "rpe": 7} for r in reps],
        "pain_before": 1,
        "pain_during": pain,
        **({"pain_next_morning": morning} if morning is not None else {}),
    }


def test_prescribe_log_suggest_apply_and_hold_on_pain(client: TestClient, session: Session) -> None:
    s = setup(session, started_days_ago=10)
    clinician = s.headers
    patient = auth_headers(patient_user(session, s.plan))
    created = client.post(
        s.prescriptions_url,
        json=s.payload(effective_on=(TODAY - timedelta(days=10)).isoformat(), target_rpe=8),
        headers=clinician,
    )
    assert created.status_code == 201, created.text
    url = prescription_url(uuid.UUID(created.json()["id"]))

    for reps, days_ago in (([8, 9, 10], 6), ([9, 9, 10], 4)):
        logged = client.post(
            f"{url}/logs",
            json=_log(reps, days_ago, pain=2, morning=1),
            headers={**patient, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert logged.status_code == 201, logged.text

    suggestion = client.get(f"{url}/suggestion", headers=clinician).json()
    assert (suggestion["action"], suggestion["rule"]) == ("progress", "two_for_two")
    assert (suggestion["before"]["load_value"], suggestion["after"]["load_value"]) == (40, 42)
    assert len(suggestion["log_ids"]) == 2

    applied = client.post(
        f"{url}/progress", json={"apply_suggestion": True}, headers=if_match(clinician, 1)
    )
    assert applied.status_code == 200, applied.text
    assert [v["parameters"]["load_value"] for v in applied.json()["versions"]] == [40, 42]

    history = client.get(f"{API}/plans/{s.plan.id}/program/history", headers=clinician).json()
    [weeks] = [p["weeks"] for p in history["prescriptions"]]
    assert [(w["version"], w["parameters"]["load_value"]) for w in weeks] == [(1, 40), (2, 42)]
    week_two = client.get(f"{API}/plans/{s.plan.id}/program", params={"week": 2}, headers=patient)
    assert week_two.status_code == 200, week_two.text
    assert [i["parameters"]["load_value"] for i in week_two.json()["items"]] == [42]

    painful = client.post(
        f"{url}/logs",
        json=_log([10, 10, 10], 0, pain=7, morning=None)
        | {"sets": [{"reps": 10, "load_value": 42}] * 3},
        headers={**patient, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert painful.status_code == 201, painful.text
    held = client.get(f"{url}/suggestion", headers=clinician).json()
    assert (held["action"], held["rule"]) == ("hold", "pain")
    assert held["after"]["load_value"] == 42
    assert any("Next-morning pain is missing" in note for note in held["notes"])
