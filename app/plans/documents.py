"""The plan's response and its progress, rendered on write and served in one statement.

Every transaction that changes what a plan shows ends in the projection step (app.projections),
which evaluates the plan's criteria, audits it and stores both renderings. A read then checks
the caller and fetches the rendering's state with one indexed statement (app.core.direct).

A rendering says which state of the plan it was made from (the plan's version and its
`reassessment_due`; for progress, also the day it was evaluated on), and the plan says which of
its clinic's inputs it was projected with (`projected_inputs_version`, against the clinic's
`inputs_version`). A read that finds it behind the plan or the clinic (a write path that does
not refresh, a plan that predates this table, a clinic-wide change, a new day) renders afresh
through the ORM instead: slower, never stale.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from functools import cache
from typing import Any

from fastapi import Response
from sqlalchemy import Select, Uuid, and_, bindparam, or_, select

from app.clinics.models import Clinic
from app.core import caller, direct
from app.core.auth import Actor
from app.core.concurrency import etag
from app.core.errors import NotFound, Unauthorized
from app.plans import progress as progress_service
from app.plans.models import Plan, PlanDocument, PlanStatus
from app.projections import compute

JSON = "application/json"
# Observations on a plan under way project it again; a draft's or an ended
# plan's progress is evaluated afresh on every read.
STORED_PROGRESS = frozenset({PlanStatus.active.value, PlanStatus.on_hold.value})

plans, documents, clinics = Plan.__table__, PlanDocument.__table__, Clinic.__table__


@cache
def _state(caller_statement: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """The caller; the plan, if they may read it; its renderings' state; the clinic's inputs."""
    who = caller_statement.subquery("caller")
    readable = and_(
        plans.c.clinic_id == who.c.clinic_id,
        plans.c.id == bindparam("plan_id", type_=Uuid()),
        or_(who.c.role != caller.PATIENT, plans.c.patient_id == who.c.patient_id),
    )
    rendering = and_(documents.c.clinic_id == plans.c.clinic_id, documents.c.plan_id == plans.c.id)
    return select(
        *who.c,
        plans.c.id.label("plan_id"),
        plans.c.status,
        plans.c.version,
        plans.c.reassessment_due,
        plans.c.projected_inputs_version,
        clinics.c.inputs_version,
        documents.c.plan_version.label("rendered_version"),
        documents.c.reassessment_due.label("rendered_reassessment_due"),
        documents.c.progress_on.label("rendered_progress_on"),
        documents.c.revision,
    ).select_from(
        who.outerjoin(plans, readable)
        .outerjoin(documents, rendering)
        .outerjoin(clinics, clinics.c.id == who.c.clinic_id)
    )


@cache
def _rendering(column: str) -> Select[*tuple[Any, ...]]:
    return select(documents.c[column].label("body")).where(
        documents.c.clinic_id == bindparam("clinic_id", type_=Uuid()),
        documents.c.plan_id == bindparam("plan_id", type_=Uuid()),
        documents.c.revision == bindparam("revision"),
    )


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


def _read_state(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> caller.Row:
    """The caller, the plan's state and its stored renderings' state, in one statement."""
    found = caller.credentials(token)
    row = reader.fetch_one(_state(found.statement), {**found.params, "plan_id": plan_id})
    if row is None:
        raise Unauthorized(caller.INVALID)
    if row["plan_id"] is None:
        raise NotFound("No plan with that id in your clinic.")
    return row


def _rendered_current(row: caller.Row) -> bool:
    """The renderings were made from the plan as it is, with its clinic's inputs as they are."""
    rendered_due = row["rendered_reassessment_due"]
    return (
        row["rendered_version"] == row["version"]
        and rendered_due is not None
        and bool(rendered_due) == bool(row["reassessment_due"])
        and row["projected_inputs_version"] == row["inputs_version"]
    )


def _stored(
    reader: direct.DirectRead, actor: Actor, plan_id: uuid.UUID, revision: int, column: str
) -> bytes | None:
    """The stored rendering of that revision: from memory, or one statement more."""
    key = (plan_id, revision, column)
    body = _renderings.get(key)
    if body is None:
        params = {"clinic_id": actor.clinic_id, "plan_id": plan_id, "revision": revision}
        row = reader.fetch_one(_rendering(column), params)
        if row is None:  # rendered again since the first statement
            return None
        body = bytes(row["body"])
        _renderings.put(key, body)
    return body


def read_plan(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> Response:
    """The plan's response with its ETag: the stored rendering while it is the plan's own."""
    row = _read_state(reader, token, plan_id)
    actor, version = Actor.from_row(row), row["version"]
    body = None
    if _rendered_current(row):
        body = _stored(reader, actor, plan_id, row["revision"], "body")
    if body is None:
        with reader.session() as session:
            plan = compute.plan_read(session, actor.clinic_id, plan_id, now=datetime.now(UTC))
        body, version = plan.model_dump_json().encode(), plan.version
    return Response(body, media_type=JSON, headers={"ETag": etag(version)})


def read_progress(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> Response:
    """The plan's progress: the stored evaluation while the plan is unchanged, under way,
    and it is still the day it was evaluated on."""
    row = _read_state(reader, token, plan_id)
    actor, today = Actor.from_row(row), datetime.now(UTC).date()
    fresh = (
        _rendered_current(row)
        and row["status"] in STORED_PROGRESS
        and direct.as_date(row["rendered_progress_on"]) == today
    )
    body = _stored(reader, actor, plan_id, row["revision"], "progress_body") if fresh else None
    if body is None:
        with reader.session() as session:
            evaluation = progress_service.get(session, actor, plan_id)
        body = evaluation.model_dump_json().encode()
    return Response(body, media_type=JSON)
