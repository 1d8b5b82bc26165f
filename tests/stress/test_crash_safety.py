"""Crash safety: the API process is killed (SIGKILL) in the middle of a stream of multi-row
writes and started again on the same database. Every write answered 2xx is there, whole; a
write that got no answer is wholly there or wholly absent, never in part.

The writes are treatment sessions (the session, its work as exercise logs, its adjuncts, its
observations, its audit event) and observation batches. Each request carries its own marker
(its own moment: a session's occurred_at, a batch's observed_at), so the database can be
checked against everything sent, not only against what was answered. The server is killed
twice, so that at least one kill is likely to land inside a transaction.
"""

from __future__ import annotations

import itertools
import logging
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.observations.models import Observation
from app.prescriptions.models import ExerciseLog
from app.sessions.models import Adjunct, TreatmentSession
from tests import database
from tests.builders import auth_headers
from tests.sessions.builders import Care, make_care, prescribe
from tests.stress.servers import Server, seed, throwaway_database

WRITERS = 3
ROUNDS = 2
WRITE_FOR_S = 1.0
MIN_ANSWERED = 5  # per round, before the kill: waited for (bounded) on a slow machine
BATCH = 5
SESSION_WORK, SESSION_ADJUNCTS, SESSION_OBSERVATIONS = 2, 2, 3
MEASURES = ("pain_nrs", "psfs", "lefs", "odi", "koos_pain")
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seeded:
    care: Care
    prescription_ids: tuple[uuid.UUID, ...]

    @property
    def headers(self) -> dict[str, str]:
        return auth_headers(self.care.clinician)


def _seed(session: Session) -> Seeded:
    care = make_care(session)
    prescriptions = tuple(prescribe(session, care.plan).id for _ in range(SESSION_WORK))
    return Seeded(care, prescriptions)


@dataclass
class Sent:
    """One request of the stream: what it was, its marker, and its answer if one came."""

    kind: str  # "session" or "batch"
    marker: datetime
    answer: httpx2.Response | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None and self.answer.is_success


@dataclass
class Stream:
    seeded: Seeded
    base: str
    sent: list[Sent] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Sent:
        with self._lock:
            index = next(self._numbers)
            # Each request's moment is its own: the marker that finds its rows in the database.
            sent = Sent("session" if index % 2 else "batch", START - timedelta(seconds=index))
            self.sent.append(sent)
        return sent

    def write(self) -> None:
        with httpx2.Client(timeout=10.0, headers=self.seeded.headers) as client:
            while not self.stop.is_set():
                sent = self.next()
                try:
                    url, body = self._request(sent)
                    sent.answer = client.post(url, json=body)
                except httpx2.TransportError:
                    return  # the server is gone: this request stays unanswered

    def _request(self, sent: Sent) -> tuple[str, dict[str, Any]]:
        care, at = self.seeded.care, sent.marker.isoformat()
        if sent.kind == "batch":
            url = f"{self.base}/api/v1/patients/{care.patient.id}/observations/batch"
            return url, {"observations": _observations(at, BATCH)}
        body = {
            "occurred_at": at,
            "work": [
                {"prescription_id": str(p), "sets": [{"reps": 10, "load_value": 20}] * 3}
                for p in self.seeded.prescription_ids
            ],
            "adjuncts": [{"kind": "soft_tissue", "minutes": 10}, {"kind": "ice", "minutes": 5}],
            "observations": _observations(at, SESSION_OBSERVATIONS),
            "pain_before": 4,
            "pain_after": 2,
            "notes": at,
        }
        return f"{self.base}/api/v1/plans/{care.plan.id}/sessions", body


def _observations(at: str, count: int) -> list[dict[str, Any]]:
    return [{"measure_code": code, "value": 5, "observed_at": at} for code in MEASURES[:count]]


def test_a_killed_server_keeps_every_answered_write_and_no_half_written_one() -> None:
    started = time.monotonic()
    with (
        throwaway_database("rehab_stress_crash") as (url, engine),
        tempfile.TemporaryFile() as log,
    ):
        server = Server(url, log)
        stream = Stream(seed(engine, _seed), server.base)
        try:
            for _ in range(ROUNDS):
                server.start()  # the same database, the same port
                server.wait_ready()
                _write_until_killed(stream, server)
            server.start()
            server.wait_ready()
            _check_answered_writes_read_back(stream)
            found = _check_nothing_half_written(engine, stream)
        finally:
            server.stop()
    answered = {s.marker for s in stream.sent if s.answered}
    logger.info(
        "%s: %d kills; %d writes sent, %d answered 2xx before a kill, %d of them found after; "
        "%d unanswered, %d of them found whole, none in part; %.1f s",
        database.kind(),
        ROUNDS,
        len(stream.sent),
        len(answered),
        len(answered & found),
        len(stream.sent) - len(answered),
        len(found - answered),
        time.monotonic() - started,
    )


def _write_until_killed(stream: Stream, server: Server) -> None:
    """Writers stream for about WRITE_FOR_S, then the server is killed under them."""
    before = sum(s.answered for s in stream.sent)
    stream.stop.clear()
    writers = [threading.Thread(target=stream.write) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    time.sleep(WRITE_FOR_S)
    deadline = time.monotonic() + 10
    while sum(s.answered for s in stream.sent) < before + MIN_ANSWERED:
        assert time.monotonic() < deadline, "the writes barely started before the kill"
        time.sleep(0.05)
    server.kill()
    stream.stop.set()
    for writer in writers:
        writer.join(timeout=15)
    assert not any(w.is_alive() for w in writers)
    refused = [s.answer.text for s in stream.sent if s.answer and s.answer.status_code != 201]
    assert not refused


def _check_answered_writes_read_back(stream: Stream) -> None:
    with httpx2.Client(base_url=stream.base, headers=stream.seeded.headers, timeout=10) as client:
        for sent in (s for s in stream.sent if s.answered):
            assert sent.answer is not None
            body = sent.answer.json()
            if sent.kind == "session":
                read = client.get(f"/api/v1/sessions/{body['id']}")
                assert read.status_code == 200, read.text
                assert _by_id(read.json()) == _by_id(body)
                assert len(body["work"]) == SESSION_WORK
                assert len(body["adjuncts"]) == SESSION_ADJUNCTS
                assert len(body["observations"]) == SESSION_OBSERVATIONS
                continue
            assert len(body["items"]) == BATCH
            for item in body["items"]:
                read = client.get(f"/api/v1/observations/{item['id']}")
                assert read.status_code == 200, read.text
                assert read.json() == item


def _by_id(session: dict[str, Any]) -> dict[str, Any]:
    """A session's children in one order: a read lists observations by observed_at, then id;
    the answer to the create lists them as sent."""
    children = ("work", "adjuncts", "observations")
    return {**session, **{name: sorted(session[name], key=lambda c: c["id"]) for name in children}}


def _check_nothing_half_written(engine: Engine, stream: Stream) -> set[datetime]:
    """Compares the database with every request sent; returns the markers of the writes it
    holds (each one whole)."""
    kinds = {s.marker: s.kind for s in stream.sent}
    with Session(engine) as session:
        sessions = _sessions(session)
        batches = _batches(session)
    for marker, rows in sessions.items():
        assert kinds.get(marker) == "session", marker
        assert rows == (SESSION_WORK, SESSION_ADJUNCTS, SESSION_OBSERVATIONS, 1), marker
    for marker, observations in batches.items():
        assert kinds.get(marker) == "batch", marker
        assert observations == (BATCH, BATCH), marker
    for sent in stream.sent:
        present = sent.marker in (sessions if sent.kind == "session" else batches)
        assert present or not sent.answered, sent
    numbers = sorted(_session_numbers(engine))
    assert numbers == list(range(1, len(numbers) + 1))
    return set(sessions) | set(batches)


def _sessions(session: Session) -> dict[datetime, tuple[int, int, int, int]]:
    """Each session's marker and its rows: work logs, adjuncts, observations, audit events."""
    counts = {}
    for visit in session.scalars(select(TreatmentSession)):
        children = (
            _count(session, ExerciseLog, ExerciseLog.session_id == visit.id),
            _count(session, Adjunct, Adjunct.session_id == visit.id),
            _count(session, Observation, Observation.session_id == visit.id),
            _count(session, AuditEvent, AuditEvent.entity_id == visit.id),
        )
        counts[visit.occurred_at] = children
    assert _count(session, ExerciseLog, ExerciseLog.session_id.is_(None)) == 0
    return counts


def _batches(session: Session) -> dict[datetime, tuple[int, int]]:
    """Each batch's marker (observed_at) and its rows: observations and their audit events."""
    rows = session.execute(
        select(Observation.observed_at, func.count(Observation.id), func.count(AuditEvent.id))
        .outerjoin(AuditEvent, AuditEvent.entity_id == Observation.id)
        .where(Observation.session_id.is_(None))
        .group_by(Observation.observed_at)
    )
    return {observed_at: (count, audited) for observed_at, count, audited in rows}


def _count(session: Session, model: type[Any], *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _session_numbers(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(TreatmentSession.number)))
