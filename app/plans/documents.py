"""The plan's response and its progress, rendered on write and served in one statement.

Every write that changes what a plan shows already ends in
`app.accountability.service.refresh_attention`, which evaluates the plan's criteria and audits
it; it stores both renderings here, in the same transaction. A read then checks the caller and
fetches the rendering with one indexed statement (app.core.direct).

A rendering says which state of the plan it was made from (the plan's version and its
`reassessment_due`; for progress, also the day it was evaluated on). A read that finds it
behind the plan (a write path that does not refresh, a plan that predates this table, a new
day) renders afresh through the ORM instead: slower, never stale.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from functools import cache
from typing import Any

from fastapi import Response

from app.core import direct
from app.core.concurrency import etag
from app.core.errors import NotFound, Unauthorized
from app.plans import progress as progress_service
from app.plans import reading
from app.plans.models import PlanStatus

JSON = "application/json"
# Observations on a plan under way refresh it (refresh_patient); a draft's or an ended
# plan's progress is evaluated afresh on every read.
STORED_PROGRESS = frozenset({PlanStatus.active.value, PlanStatus.on_hold.value})


# Columns after the caller's (0-4): the plan's id, status, version and reassessment_due
# (5-8); the document's plan_version, reassessment_due, progress_on and revision (9-12).
_STATE = (
    "SELECT c.clinic_id, c.role, c.user_id, c.api_key_id, c.patient_id,"
    " p.id, p.status, p.version, p.reassessment_due,"
    " d.plan_version, d.reassessment_due, d.progress_on, d.revision"
    " FROM ({caller}) c"
    " LEFT JOIN plans p ON p.clinic_id = c.clinic_id AND p.id = :plan_id"
    " AND (c.role <> 'patient' OR p.patient_id = c.patient_id)"
    " LEFT JOIN plan_documents d ON d.clinic_id = p.clinic_id AND d.plan_id = p.id"
)
_RENDERING = "SELECT {column} FROM plan_documents WHERE plan_id = :plan_id AND revision = :revision"


@cache
def _statement(caller: str) -> str:
    return _STATE.format(caller=caller)


class _Renderings:
    """The renderings this process has served lately, by plan and revision. Only ever used
    after the statement that checks the caller has found the same revision current, so it
    saves moving the bytes from the database, never a check: a revision is written once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._bytes: OrderedDict[tuple[uuid.UUID, int, str], bytes] = OrderedDict()

    def get(self, key: tuple[uuid.UUID, int, str]) -> bytes | None:
        found = self._bytes.get(key)
        if found is not None:
            self._bytes.move_to_end(key)
        return found

    def put(self, key: tuple[uuid.UUID, int, str], body: bytes) -> None:
        self._bytes[key] = body
        if len(self._bytes) > self._size:
            self._bytes.popitem(last=False)


_renderings = _Renderings(size=2048)


def _state(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> tuple[Any, ...]:
    """The caller, the plan's state and its stored renderings' state, in one statement."""
    caller = direct.credentials(token)
    params = {**caller.params, "plan_id": plan_id}
    row = reader.fetch_one(_statement(caller.sql), params)
    if row is None:
        raise Unauthorized("The credentials are invalid, expired or revoked.")
    if row[5] is None:
        raise NotFound("No plan with that id in your clinic.")
    return row


def _stored(
    reader: direct.DirectRead, plan_id: uuid.UUID, revision: int, column: str
) -> bytes | None:
    """The stored rendering of that revision: from memory, or one statement more."""
    key = (plan_id, revision, column)
    body = _renderings.get(key)
    if body is None:
        row = reader.fetch_one(
            _RENDERING.format(column=column), {"plan_id": plan_id, "revision": revision}
        )
        if row is None:  # rendered again since the first statement
            return None
        body = bytes(row[0])
        _renderings.put(key, body)
    return body


def read_plan(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> Response:
    """The plan's response with its ETag: the stored rendering while it is the plan's own."""
    row = _state(reader, token, plan_id)
    version, due = row[7], bool(row[8])
    body = None
    if row[9] == version and row[10] is not None and bool(row[10]) == due:
        body = _stored(reader, plan_id, row[12], "body")
    if body is None:
        with reader.session() as session:
            plan = reading.read(session, direct.actor(row), plan_id)
        body, version = plan.model_dump_json().encode(), plan.version
    return Response(body, media_type=JSON, headers={"ETag": etag(version)})


def read_progress(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> Response:
    """The plan's progress: the stored evaluation while the plan is unchanged, under way,
    and it is still the day it was evaluated on."""
    row = _state(reader, token, plan_id)
    today = datetime.now(UTC).date()
    fresh = row[9] == row[7] and row[6] in STORED_PROGRESS and direct.as_date(row[11]) == today
    body = _stored(reader, plan_id, row[12], "progress_body") if fresh else None
    if body is None:
        with reader.session() as session:
            evaluation = progress_service.get(session, direct.actor(row), plan_id)
        body = evaluation.model_dump_json().encode()
    return Response(body, media_type=JSON)
