"""Twenty observations for one patient posted at once over the API processes, each of left grip
(which both of the patient's plans under way judge on their latest ten values): afterwards the
active plan and the plan on hold each store the projection a fresh evaluation of the committed
records gives (tests/projection_check.py). Five rounds, each on its own clinic.

Each write is its own transaction on a real database. A write that computes a plan from what it
reads before the others commit, and stores it after them, leaves the plan missing their values:
the last writer to a plan must read everything committed before it.

PostgreSQL only: SQLite's write transaction takes the database's lock at its first statement
(BEGIN IMMEDIATE), so writers are serial there and there is no race to lose.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy.orm import Session

from tests import database
from tests.projection_check import describe, differences
from tests.stress.servers import Cluster, in_threads, seed
from tests.write_fixture import World, build_world

pytestmark = pytest.mark.skipif(
    database.kind() != "postgres",
    reason="SQLite serialises write transactions (BEGIN IMMEDIATE): no concurrent projection",
)

ROUNDS = 5
WRITES = 20
UNDER_WAY = ("active", "on hold")
logger = logging.getLogger(__name__)

Call = Callable[[httpx2.Client], httpx2.Response]


def _seed(session: Session) -> World:
    return build_world(session, grip_sustained=10, copied_program=False)


def _observation(base: str, world: World, index: int) -> Call:
    """Left grip, a value and a minute of its own (the latest ten are what the plans judge)."""
    at = datetime.now(UTC) - timedelta(minutes=WRITES - index)
    url = f"{base}/api/v1/patients/{world.ids['patient_id']}/observations"
    body = {
        "measure_id": str(world.ids["measure_id"]),
        "value": 36 + index / 2,
        "side": "left",
        "observed_at": at.isoformat(),
    }
    return lambda client: client.post(url, json=body, headers=world.clinician)


@pytest.mark.parametrize("round_", range(1, ROUNDS + 1))
def test_concurrent_observations_leave_both_plans_current(cluster: Cluster, round_: int) -> None:
    world = seed(cluster.engine, _seed)
    calls = [_observation(cluster.bases[i % len(cluster.bases)], world, i) for i in range(WRITES)]
    started = time.monotonic()
    answers = in_threads(calls, threads=WRITES)
    took = time.monotonic() - started
    with Session(cluster.engine) as session:  # what the writes that were answered committed
        stale = {name: differences(session, world.plans[name]) for name in UNDER_WAY}
    statuses = Counter(a.status_code for a in answers)
    logger.info(
        "round %d: %d observations over %d processes in %.1f s: %s; stale: %s",
        round_,
        WRITES,
        len(cluster.bases),
        took,
        dict(statuses),
        {name: sorted(parts) for name, parts in stale.items() if parts} or "none",
    )
    refused = [f"{a.status_code} {a.text[:300]}" for a in answers if a.status_code != 201]
    problems = [f"{len(refused)} of {WRITES} writes refused, e.g. {refused[0]}"] if refused else []
    problems += [describe(name, parts) for name, parts in stale.items() if parts]
    if problems:
        raise AssertionError("\n".join(problems))
