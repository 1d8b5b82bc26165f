"""50 concurrent PATCHes of one plan with the same If-Match, over two API processes: exactly
one wins (200), the other 49 are told the plan changed (412), and the version moves by one."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

import httpx2
from sqlalchemy.orm import Session

from app.plans.models import Plan, PlanStatus
from tests import database
from tests.builders import auth_headers
from tests.sessions.builders import Care, make_care
from tests.stress.servers import Cluster, assert_no_failures, in_threads, seed

REQUESTS = 50
SERVERS = 2
logger = logging.getLogger(__name__)


def test_one_if_match_lets_exactly_one_of_fifty_concurrent_patches_through(
    cluster: Cluster,
) -> None:
    started = time.monotonic()
    care = seed(cluster.engine, lambda session: make_care(session, status=PlanStatus.draft))
    bases = cluster.bases[:SERVERS]
    answers = _patch_at_once(care, bases)
    read = httpx2.get(
        f"{bases[0]}/api/v1/plans/{care.plan.id}", headers=auth_headers(care.clinician), timeout=10
    )
    with Session(cluster.engine) as session:
        stored = session.get_one(Plan, care.plan.id)
        version, title = stored.version, stored.title
    statuses = Counter(a.status_code for a in answers)
    logger.info(
        "%s: %d PATCHes over %d processes: %s in %.1f s",
        database.kind(),
        REQUESTS,
        SERVERS,
        dict(statuses),
        time.monotonic() - started,
    )
    assert_no_failures(answers)
    assert statuses == {200: 1, 412: REQUESTS - 1}, {a.status_code: a.text for a in answers}
    (winner,) = (a for a in answers if a.status_code == 200)
    assert winner.headers["etag"] == f'"{care.plan.version + 1}"'
    assert version == care.plan.version + 1
    assert title == winner.json()["title"]
    assert read.headers["etag"] == winner.headers["etag"]
    assert read.json()["title"] == title
    for refused in (a for a in answers if a.status_code == 412):
        assert refused.headers["content-type"] == "application/problem+json"


def _patch_at_once(care: Care, bases: list[str]) -> list[httpx2.Response]:
    headers = {**auth_headers(care.clinician), "If-Match": f'"{care.plan.version}"'}

    def patch(index: int) -> Callable[[httpx2.Client], httpx2.Response]:
        def call(client: httpx2.Client) -> httpx2.Response:
            url = f"{bases[index % len(bases)]}/api/v1/plans/{care.plan.id}"
            return client.patch(url, json={"title": f"Knee, take {index}"}, headers=headers)

        return call

    return in_threads([patch(i) for i in range(REQUESTS)], threads=REQUESTS)
