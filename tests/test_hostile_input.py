"""Input the fuzzer or a review found crashing or stalling the app: a small 422 naming the
field, never a 500.

NUL characters, which PostgreSQL text cannot hold, in a query, form or JSON string; aware
timestamps that UTC cannot hold (year 1 at +14:00), which overflowed when stored or compared.
Lists far longer than any bound (25,000 driver ids took 22 s to refuse, and 200,000 bad ones
answered 29.8 MB), and bodies that are nearly all errors: the answer names the first
MAX_ERRORS and counts the rest (tests/test_input_bounds.py checks every bound is declared).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import MAX_ERRORS
from app.core.types import Role
from app.plans.models import Plan, Stage
from tests.builders import auth_headers, make_clinic, make_patient, make_user
from tests.plans.plan_builders import make_plan

SMALL = 4096  # bytes: a problem naming MAX_ERRORS fields fits, any echo of the body does not

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


def _post(client: TestClient, url: str, body: Any, headers: dict[str, str], method: str) -> Any:
    raw = json.dumps(body)
    assert len(raw) < 1024 * 1024  # under the body limit: validation, not the limit, answers
    headers = {**headers, "Content-Type": "application/json", "If-Match": '"1"'}
    return client.request(method, url, content=raw, headers=headers)


def _small_problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.content) < SMALL
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/invalid-input")
    return body


@pytest.fixture
def plan(session: Session, caller: dict[str, Any]) -> Plan:
    return make_plan(session, patient=caller["patient"])


DRIVER_LISTS = [
    ("POST", "/api/v1/plans", {}),
    ("PATCH", "/api/v1/plans/{plan}", {}),
    ("POST", "/api/v1/plans/{plan}/stages", {"name": "S", "goal": "G", "expected_weeks": 2}),
    ("PATCH", "/api/v1/stages/{stage}", {}),
]


@pytest.mark.parametrize(("method", "route", "fields"), DRIVER_LISTS)
@pytest.mark.parametrize("ids", ["25,000 ids", "200,000 non-ids"])
def test_a_driver_list_far_over_its_bound_is_one_small_422(
    client: TestClient,
    session: Session,
    caller: dict[str, Any],
    plan: Plan,
    method: str,
    route: str,
    fields: dict[str, Any],
    ids: str,
) -> None:
    stage = session.scalars(select(Stage.id).where(Stage.plan_id == plan.id)).first()
    url = route.format(plan=plan.id, stage=stage)
    driver_ids = (
        [str(uuid.uuid4()) for _ in range(25_000)] if ids == "25,000 ids" else ["x"] * 200_000
    )
    body = {**fields, "driver_ids": driver_ids}
    if route == "/api/v1/plans":
        body["assessment_id"] = str(plan.assessment_id)
    problem = _small_problem(_post(client, url, body, caller["clinician"], method))
    assert [(e["pointer"], e["type"]) for e in problem["errors"]] == [("/driver_ids", "too_long")]
    assert problem["errors_omitted"] == 0


def test_a_body_of_errors_answers_the_first_ones_and_counts_the_rest(
    client: TestClient, caller: dict[str, Any], plan: Plan
) -> None:
    unknown = {f"k{i}": 0 for i in range(50_000)}
    body = {"assessment_id": str(plan.assessment_id), **unknown}
    problem = _small_problem(_post(client, "/api/v1/plans", body, caller["clinician"], "POST"))
    assert [e["pointer"] for e in problem["errors"]] == [f"/k{i}" for i in range(MAX_ERRORS)]
    assert problem["errors_omitted"] == 50_000 - MAX_ERRORS
    assert problem["detail"].endswith(f"and {50_000 - MAX_ERRORS} more")


def test_nested_errors_are_capped_too(
    client: TestClient, caller: dict[str, Any], plan: Plan
) -> None:
    body = {"assessment_id": str(plan.assessment_id), "stages": [{"criteria": [{}] * 20}] * 20}
    problem = _small_problem(_post(client, "/api/v1/plans", body, caller["clinician"], "POST"))
    assert len(problem["errors"]) == MAX_ERRORS
    assert problem["errors_omitted"] > 20 * 20


def test_an_unknown_key_of_any_length_is_named_short(
    client: TestClient, caller: dict[str, Any], plan: Plan
) -> None:
    body = {"assessment_id": str(plan.assessment_id), "k" * 500_000: 0}
    problem = _small_problem(_post(client, "/api/v1/plans", body, caller["clinician"], "POST"))
    [error] = problem["errors"]
    assert error["pointer"].startswith("/kkkk")
    assert len(error["pointer"]) < 200
