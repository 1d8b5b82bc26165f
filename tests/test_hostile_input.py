"""Input the fuzzer found crashing the app: a 422 naming the field, never a 500.

NUL characters, which PostgreSQL text cannot hold, in a query, form or JSON string; aware
timestamps that UTC cannot hold (year 1 at +14:00), which overflowed when stored or compared.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.types import Role
from tests.builders import auth_headers, make_clinic, make_patient, make_user

EARLIEST = "0001-01-01T00:00:00+14:00"
LATEST = "9999-12-31T23:00:00-05:00"


@pytest.fixture
def caller(session: Session) -> dict[str, Any]:
    clinic = make_clinic(session)
    return {
        "patient": make_patient(session, clinic=clinic),
        "clinician": auth_headers(make_user(session, clinic=clinic)),
        "admin": auth_headers(make_user(session, clinic=clinic, role=Role.admin)),
    }


def _refused(response: Any, where: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    named = {e.get("pointer") or e.get("parameter") for e in response.json()["errors"]}
    assert where in named, named


@pytest.mark.parametrize(
    ("url", "parameter", "role"),
    [
        ("/api/v1/patients?q=a%00", "q", "clinician"),
        ("/api/v1/exercises?q=%00", "q", "clinician"),
        ("/api/v1/exercises?body_region=knee%00", "body_region", "clinician"),
        ("/api/v1/measures?code=%00", "code", "clinician"),
        ("/api/v1/audit-events?entity_type=%00", "entity_type", "admin"),
        (f"/api/v1/audit-events?since={EARLIEST.replace('+', '%2B')}", "since", "admin"),
        (f"/api/v1/audit-events?until={LATEST}", "until", "admin"),
    ],
)
def test_a_query_nul_or_unstorable_time_is_a_422(
    client: TestClient, caller: dict[str, Any], url: str, parameter: str, role: str
) -> None:
    _refused(client.get(url, headers=caller[role]), parameter)


def test_a_nul_in_a_json_string_is_a_422_however_deep(
    client: TestClient, caller: dict[str, Any]
) -> None:
    body = {"display_name": "Ann\x00", "date_of_birth": "1990-01-01"}
    _refused(
        client.post("/api/v1/patients", json=body, headers=caller["clinician"]), "/display_name"
    )
    observation = {"measure_code": "pain_nrs", "value": 3, "observed_at": "2026-11-01T09:00:00Z"}
    batch = {"observations": [{**observation, "unit": "p\x00ts"}]}
    url = f"/api/v1/patients/{caller['patient'].id}/observations/batch"
    _refused(client.post(url, json=batch, headers=caller["clinician"]), "/observations/0/unit")


def test_a_nul_in_the_login_email_is_a_422(client: TestClient) -> None:
    form = {"username": "ann\x00@example.org", "password": "x"}
    _refused(client.post("/api/v1/auth/token", data=form), "/username")


def test_a_timestamp_utc_cannot_hold_is_a_422(client: TestClient, caller: dict[str, Any]) -> None:
    patient = caller["patient"].id
    observation = {"measure_code": "pain_nrs", "value": 3, "observed_at": EARLIEST}
    url = f"/api/v1/patients/{patient}/observations"
    _refused(client.post(url, json=observation, headers=caller["clinician"]), "/observed_at")
    response = client.get(f"{url}?since={LATEST}", headers=caller["clinician"])
    _refused(response, "since")
    assessment = {"assessed_at": EARLIEST}
    response = client.post(
        f"/api/v1/patients/{patient}/assessments", json=assessment, headers=caller["clinician"]
    )
    _refused(response, "/assessed_at")
