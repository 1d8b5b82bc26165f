"""Idempotency across real processes: 20 concurrent identical posts with one key create
exactly one log; the same key with another body is a 422.

TestClient serialises requests, so this test serves the app for real: two uvicorn processes on
127.0.0.1 over a throwaway database of the suite's kind (tests/database.kind()), migrated and
seeded with committed transactions. The servers are always stopped, every wait is bounded.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.auth.security import issue_token
from app.core import migrations
from app.core.auth import Actor
from app.core.config import get_settings
from app.core.db import WRITE_OPTION, create_db_engine
from app.core.errors import Conflict
from app.core.types import Role
from app.idempotency import service as idempotency_service
from app.idempotency.models import IdempotencyKey
from app.idempotency.service import StoredResponse
from app.prescriptions.models import ExerciseLog
from tests import database
from tests.sessions.builders import make_care, prescribe

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 20
START_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 30.0
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Live:
    engine: Engine
    bases: list[str]
    token: str
    clinic_id: uuid.UUID
    actor_id: uuid.UUID
    prescription_id: uuid.UUID

    def url(self, server: int) -> str:
        base = self.bases[server % len(self.bases)]
        return f"{base}/api/v1/prescriptions/{self.prescription_id}/logs"

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}

    def count(self, model: type[Any]) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(url: str, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REHAB_ENV": "test",
        "REHAB_SECRET_KEY": get_settings().secret_key,
        "REHAB_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_ready(process: subprocess.Popen[bytes], base: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"uvicorn exited with {process.returncode}: {log.read().decode()}")
        try:
            if httpx2.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"uvicorn on {base} was not ready within {START_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _seed(engine: Engine) -> tuple[str, uuid.UUID, uuid.UUID, uuid.UUID]:
    with Session(engine, expire_on_commit=False) as session:
        care = make_care(session)
        prescription = prescribe(session, care.plan)
        session.commit()
    token, _ = issue_token(get_settings(), care.patient_user.id, care.clinic.id)
    return token, care.clinic.id, care.patient_user.id, prescription.id


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    url = database.create("rehab_idempotency")
    engine = create_db_engine(url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        migrations.upgrade(url)
        token, clinic_id, actor_id, prescription_id = _seed(engine)
        with tempfile.TemporaryFile() as first_log, tempfile.TemporaryFile() as second_log:
            bases = []
            for log in (first_log, second_log):
                port = _free_port()
                processes.append(_start(url, port, log))
                bases.append(f"http://127.0.0.1:{port}")
            for process, base, log in zip(processes, bases, (first_log, second_log), strict=True):
                _wait_ready(process, base, log)
            yield Live(engine, bases, token, clinic_id, actor_id, prescription_id)
    finally:
        for process in processes:
            _stop(process)
        engine.dispose()
        database.drop(url)


def _post_at_once(live: Live, key: str, body: dict[str, Any]) -> list[httpx2.Response]:
    barrier = threading.Barrier(REQUESTS)
    answers: list[httpx2.Response | BaseException] = [RuntimeError("no answer")] * REQUESTS

    def post(index: int) -> None:
        with httpx2.Client(timeout=REQUEST_TIMEOUT_S) as client:
            barrier.wait(timeout=REQUEST_TIMEOUT_S)
            try:
                answers[index] = client.post(live.url(index), json=body, headers=live.headers(key))
            except httpx2.HTTPError as exc:
                answers[index] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S + 5)
    failed = [a for a in answers if isinstance(a, BaseException)]
    assert not failed, failed
    return [a for a in answers if isinstance(a, httpx2.Response)]


BODY = {
    "performed_on": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
    "sets": [{"reps": 10, "load_value": 20}, {"reps": 9, "load_value": 20, "rpe": 8}],
    "pain_during": 2,
}


def test_concurrent_identical_posts_with_one_key_create_one_log(live: Live) -> None:
    key = str(uuid.uuid4())
    started = time.monotonic()
    answers = _post_at_once(live, key, BODY)
    elapsed = time.monotonic() - started
    statuses = Counter(a.status_code for a in answers)
    logger.info("%s: %s in %.2f s", database.kind(), dict(statuses), elapsed)
    assert set(statuses) <= {201, 409}, {a.status_code: a.text for a in answers}
    created = [a for a in answers if a.status_code == 201]
    assert created
    assert len({a.json()["id"] for a in created}) == 1
    assert len({a.headers["location"] for a in created}) == 1
    assert sum("idempotent-replayed" not in a.headers for a in created) == 1
    assert all(a.headers["retry-after"] == "1" for a in answers if a.status_code == 409)
    assert live.count(ExerciseLog) == 1

    changed = httpx2.post(
        live.url(0), json={**BODY, "pain_during": 3}, headers=live.headers(key), timeout=10
    )
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["parameter"] == "Idempotency-Key"
    assert live.count(ExerciseLog) == 1


@pytest.mark.skipif(
    database.kind() != "postgres",
    reason="SQLite queues writers on its database lock: a retry never overlaps the first",
)
def test_a_retry_while_the_first_is_in_progress_is_409(live: Live) -> None:
    key, now = str(uuid.uuid4()), datetime.now(UTC)
    path = f"/api/v1/prescriptions/{live.prescription_id}/logs"
    with Session(live.engine) as holder:  # the first request, mid-transaction
        holder.add(
            IdempotencyKey(
                clinic_id=live.clinic_id,
                actor_id=live.actor_id,
                key=key,
                method="POST",
                path=path,
                request_hash="0" * 64,
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        holder.flush()
        started = time.monotonic()
        busy = httpx2.post(live.url(1), json=BODY, headers=live.headers(key), timeout=10)
        waited = time.monotonic() - started
        holder.rollback()
    logger.info("in progress: %s after %.3f s", busy.status_code, waited)
    assert busy.status_code == 409, busy.text
    assert busy.headers["retry-after"] == "1"
    assert waited < 5
    before = live.count(ExerciseLog)
    retried = httpx2.post(live.url(1), json=BODY, headers=live.headers(key), timeout=10)
    assert retried.status_code == 201, retried.text
    assert live.count(ExerciseLog) == before + 1


def _claim(session: Session, live: Live, key: str, lock_wait_ms: int) -> Any:
    actor = Actor(clinic_id=live.clinic_id, role=Role.patient, user_id=live.actor_id)
    return idempotency_service.claim(
        session,
        actor,
        key,
        method="POST",
        path="/api/v1/somewhere",
        request_hash="a" * 64,
        retention=timedelta(hours=1),
        lock_wait_ms=lock_wait_ms,
    )


def test_a_retry_that_waits_for_the_first_replays_its_answer(live: Live) -> None:
    """SQLite: the retry's BEGIN IMMEDIATE waits for the first to commit. PostgreSQL: its
    insert waits on the first's key row, fails on the unique key, and reads the committed row."""
    writer = live.engine.execution_options(**{WRITE_OPTION: True})
    key, answer = str(uuid.uuid4()), StoredResponse(201, {"id": "first"}, {"Location": "/x"})
    outcome: list[Any] = []

    def retry() -> None:
        with Session(writer) as session:
            outcome.append(_claim(session, live, key, lock_wait_ms=10_000))

    with Session(writer) as first:
        row = _claim(first, live, key, lock_wait_ms=10_000)
        assert isinstance(row, uuid.UUID)
        idempotency_service.complete(row, answer, first)
        waiting = threading.Thread(target=retry)
        waiting.start()
        time.sleep(0.3)
        assert waiting.is_alive()
        first.commit()
    waiting.join(timeout=10)
    assert outcome == [answer]


@pytest.mark.skipif(database.kind() != "postgres", reason="PostgreSQL's lock_timeout")
def test_no_lock_wait_answers_in_progress_at_once(live: Live) -> None:
    key = str(uuid.uuid4())
    with Session(live.engine) as first, Session(live.engine) as retry:
        assert isinstance(_claim(first, live, key, lock_wait_ms=0), uuid.UUID)
        started = time.monotonic()
        with pytest.raises(Conflict):
            _claim(retry, live, key, lock_wait_ms=0)
        assert time.monotonic() - started < 1
        first.rollback()
