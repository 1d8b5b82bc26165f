"""Three API processes over one database, many threads posting treatment sessions (clinician)
and home logs (patient and clinician, half with an Idempotency-Key): every write is accepted,
no 5xx and no "database is locked" reach a client, and everything accepted reads back whole,
with each plan's sessions numbered 1..N."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.sessions.models import TreatmentSession
from tests import database
from tests.builders import auth_headers
from tests.sessions.builders import make_care, prescribe
from tests.stress.servers import Cluster, assert_no_failures, in_threads, seed

THREADS = 12
REQUESTS = 300
NOW = datetime.now(UTC).replace(microsecond=0)
logger = logging.getLogger(__name__)

Call = Callable[[httpx2.Client], httpx2.Response]


@dataclass(frozen=True)
class Target:
    """One patient's active plan and prescription, with both callers' headers."""

    plan_id: uuid.UUID
    prescription_id: uuid.UUID
    clinician: dict[str, str]
    patient: dict[str, str]


def _seed_targets(session: Session) -> list[Target]:
    targets = []
    for _ in range(2):
        care = make_care(session)
        prescription = prescribe(session, care.plan)
        targets.append(
            Target(
                care.plan.id,
                prescription.id,
                auth_headers(care.clinician),
                auth_headers(care.patient_user),
            )
        )
    return targets


def _session_body(target: Target, index: int) -> dict[str, Any]:
    at = (NOW - timedelta(minutes=index)).isoformat()
    return {
        "occurred_at": at,
        "work": [
            {
                "prescription_id": str(target.prescription_id),
                "sets": [{"reps": 10, "load_value": 20, "rpe": 7}, {"reps": 9, "load_value": 20}],
                "pain_during": index % 4,
            }
        ],
        "adjuncts": [{"kind": "soft_tissue", "region": "left quadriceps", "minutes": 10}],
        "pain_before": 3,
        "observations": [{"measure_code": "pain_nrs", "value": index % 11, "observed_at": at}],
        "notes": f"stress session {index}",
    }


def _log_body(index: int) -> dict[str, Any]:
    return {
        "performed_on": (NOW - timedelta(days=index % 7)).date().isoformat(),
        "sets": [{"reps": 8 + index % 5, "load_value": 20}, {"reps": 8, "load_value": 20}],
        "pain_during": index % 5,
        "notes": f"stress log {index}",
    }


def _call(bases: list[str], targets: list[Target], index: int) -> Call:
    """Request `index`: a session, a patient's log, or a clinician's log, in turn."""
    base, target = bases[index % len(bases)], targets[index % len(targets)]
    if index % 3 == 0:
        url, body = f"{base}/api/v1/plans/{target.plan_id}/sessions", _session_body(target, index)
        headers = target.clinician
    else:
        url = f"{base}/api/v1/prescriptions/{target.prescription_id}/logs"
        body, headers = _log_body(index), target.patient if index % 3 == 1 else target.clinician
        if index % 2:
            headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    return lambda client: client.post(url, json=body, headers=headers)


def _read_back(base: str, answer: httpx2.Response, headers: dict[str, str]) -> Call:
    url = f"{base}{answer.headers['location']}"
    return lambda client: client.get(url, headers=headers)


def test_many_processes_writing_at_once_lose_nothing_and_never_fail(cluster: Cluster) -> None:
    started = time.monotonic()
    targets = seed(cluster.engine, _seed_targets)
    bases = cluster.bases
    writing = time.monotonic()
    answers = in_threads([_call(bases, targets, i) for i in range(REQUESTS)], THREADS)
    wrote = time.monotonic() - writing
    statuses = Counter(a.status_code for a in answers)
    logger.info(
        "%s: %d requests in %.1f s over %d processes: %s, %d with 5xx",
        database.kind(),
        len(answers),
        wrote,
        len(bases),
        dict(statuses),
        sum(a.status_code >= 500 for a in answers),
    )
    assert_no_failures(answers)
    assert statuses == {201: REQUESTS}, Counter(a.text[:200] for a in answers)
    reads = in_threads(
        [_read_back(bases[i % len(bases)], a, _reader(targets, a)) for i, a in enumerate(answers)],
        THREADS,
    )
    numbers = _session_numbers(cluster.engine)
    assert_no_failures(reads)
    assert [r.status_code for r in reads] == [200] * REQUESTS
    for answer, read in zip(answers, reads, strict=True):
        assert read.json() == answer.json()
    sessions = [a.json() for a in answers if "number" in a.json()]
    for target in targets:
        posted = [s for s in sessions if s["plan_id"] == str(target.plan_id)]
        assert sorted(s["number"] for s in posted) == list(range(1, len(posted) + 1))
        assert numbers[target.plan_id] == list(range(1, len(posted) + 1))
    logger.info(
        "%s: all read back whole; %.1f s in all", database.kind(), time.monotonic() - started
    )


def _reader(targets: list[Target], answer: httpx2.Response) -> dict[str, str]:
    """The clinician of the record's clinic, who may read every record in it."""
    body = answer.json()
    plan_id = body["plan_id"]
    (target,) = (t for t in targets if str(t.plan_id) == plan_id)
    return target.clinician


def _session_numbers(engine: Engine) -> dict[uuid.UUID, list[int]]:
    numbers: dict[uuid.UUID, list[int]] = defaultdict(list)
    with Session(engine) as session:
        rows = session.execute(
            select(TreatmentSession.plan_id, TreatmentSession.number).order_by(
                TreatmentSession.plan_id, TreatmentSession.number
            )
        )
        for plan_id, number in rows:
            numbers[plan_id].append(number)
    return numbers
