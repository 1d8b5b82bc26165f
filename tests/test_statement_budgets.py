"""What the hot endpoints cost in SQL statements: a fixed budget each, the same with a few rows
as with many. The benchmarks (bench/) measure time; these hold the shape that makes the time
flat. The plan read and its progress are one statement (tests/plans/test_documents.py), the
worklist's page and the home log have their own budgets beside their tests.

A read's session (app.core.db) adds nothing to its statements: on PostgreSQL no BEGIN and no
COMMIT reach the server, and on either database it cannot write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.db import transaction
from tests.builders import auth_headers, make_patient
from tests.conftest import StatementCounter
from tests.plans.plan_builders import make_observation
from tests.sessions.builders import make_active_plan, make_care

NOW = datetime.now(UTC)
# Whom the token names, then the record.
PATIENT_READ = 2
# Whom the token names, then the page (the list endpoints have no count query).
PATIENTS_PAGE = 2
OBSERVATIONS_PAGE = 3
# Whom the token names, the patient, the measures, the inserts, the audit events, and the
# projection step: the patient's plans, each one locked with its clinic's inputs version, its
# audit's facts and its renderings (app.projections).
OBSERVATION_BATCH = 22


def _cost(client: TestClient, statements: StatementCounter, *request: object) -> int:
    method, url, headers, body = request
    statements.reset()
    response = client.request(str(method), str(url), headers=headers, json=body)  # type: ignore[arg-type]
    assert response.status_code in (200, 201), response.text
    return len(statements)


def test_a_patient_read_costs_the_caller_and_the_record(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    care = make_care(session)
    url = f"/api/v1/patients/{care.patient.id}"
    assert _cost(client, statements, "GET", url, auth_headers(care.clinician), None) == PATIENT_READ


def test_a_read_session_opens_no_transaction_on_postgresql() -> None:
    with transaction(write=False) as read:
        connection = read.connection()
        assert read.execute(text("SELECT 1")).scalar() == 1
        if connection.dialect.name != "postgresql":
            pytest.skip("SQLite's read takes BEGIN: one snapshot for its statements, no lock")
        driver = connection.connection.driver_connection
        assert driver is not None
        assert driver.info.transaction_status.name == "IDLE"


def test_a_read_session_cannot_write() -> None:
    with pytest.raises(DBAPIError), transaction(write=False) as read:
        read.execute(text("UPDATE clinics SET name = name"))


def test_a_page_of_patients_costs_the_same_for_three_as_for_three_hundred(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    care = make_care(session)
    clinic = session.get_one(Clinic, care.clinic.id)
    headers = auth_headers(care.clinician)
    request = ("GET", "/api/v1/patients?limit=50", headers, None)
    few = _cost(client, statements, *request)
    for _ in range(300):
        make_patient(session, clinic=clinic)
    assert (few, _cost(client, statements, *request)) == (PATIENTS_PAGE, PATIENTS_PAGE)


def test_a_page_of_observations_costs_the_same_for_five_as_for_five_hundred(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    care = make_care(session)
    headers = auth_headers(care.clinician)
    url = f"/api/v1/patients/{care.patient.id}/observations?limit=50"

    def observe(count: int) -> None:
        for i in range(count):
            at = NOW - timedelta(hours=i)
            make_observation(session, care.patient.id, care.clinic.id, "pain_nrs", i % 10, at)

    observe(5)
    few = _cost(client, statements, "GET", url, headers, None)
    observe(495)
    many = _cost(client, statements, "GET", url, headers, None)
    assert (few, many) == (OBSERVATIONS_PAGE, OBSERVATIONS_PAGE)


def test_an_observation_batch_costs_the_same_however_busy_the_clinic(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    care = make_care(session)
    headers = auth_headers(care.clinician)
    url = f"/api/v1/patients/{care.patient.id}/observations/batch"
    batch = {
        "observations": [
            {"measure_code": "pain_nrs", "value": 3, "observed_at": NOW.isoformat()},
            {"measure_code": "psfs", "value": 6, "observed_at": NOW.isoformat()},
        ]
    }
    alone = _cost(client, statements, "POST", url, headers, batch)
    clinic = session.get_one(Clinic, care.clinic.id)
    for _ in range(20):
        make_active_plan(
            session, clinician=care.clinician, patient=make_patient(session, clinic=clinic)
        )
    busy = _cost(client, statements, "POST", url, headers, batch)
    assert (alone, busy) == (OBSERVATION_BATCH, OBSERVATION_BATCH)
