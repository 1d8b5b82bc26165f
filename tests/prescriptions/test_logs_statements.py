"""The home-log POST's statement budget, through HTTP: the patient app posts one per exercise
per day, the hottest write there is (bench/run.py's log_post row). However many logs and
prescriptions exist, a new log costs the caller's lookup, the prescription's, the key's insert
(its answer in it) and the log's and audit event's inserts, which PostgreSQL takes as one
statement: nothing is read back, nothing updated. BEGIN and COMMIT come on top (two more round
trips on PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import database
from tests.builders import auth_headers
from tests.conftest import StatementCounter
from tests.sessions.builders import Care, make_care, prescribe

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
BODY = {"performed_on": YESTERDAY, "sets": [{"reps": 10, "load_value": 20}], "pain_during": 2}
# caller, prescription, key, log and audit event (one statement on PostgreSQL)
NEW_LOG = 4 if database.kind() == "postgres" else 5
REPLAY = 4  # caller, prescription, the key's insert that finds it, its read (+ 1 on PostgreSQL)


def _post(client: TestClient, care: Care, prescription_id: uuid.UUID, key: str) -> None:
    response = client.post(
        f"/api/v1/prescriptions/{prescription_id}/logs",
        json=BODY,
        headers={**auth_headers(care.patient_user), "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text


def test_a_home_log_costs_the_same_statements_however_many_exist(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    costs = []
    for _ in range(2):
        for _ in range(4):  # more logs, and more prescriptions with versions, each round
            _post(client, care, prescribe(session, care.plan).id, str(uuid.uuid4()))
            prescribe(session, care.plan, versions=[(datetime.now(UTC).date(), 3)] * 2)
        statements.reset()
        _post(client, care, prescription.id, str(uuid.uuid4()))
        costs.append(len(statements))
    assert costs == [NEW_LOG, NEW_LOG], statements.statements


def test_a_replay_writes_nothing_and_stays_within_its_budget(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    _post(client, care, prescription.id, "retry")
    statements.reset()
    _post(client, care, prescription.id, "retry")
    sent = statements.statements
    assert len(sent) <= REPLAY + 1, sent
    assert not [s for s in sent if s.lstrip().upper().startswith("UPDATE")], sent
    assert [s for s in sent if "INSERT INTO" in s] == [
        s
        for s in sent
        if "INSERT INTO idempotency_keys" in s  # the key's, which did nothing
    ], sent
