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
from datetime import UTC, datetime
from functools import cache
from typing import Any

from fastapi import Response
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core import direct
from app.core.concurrency import etag
from app.core.errors import NotFound, Unauthorized
from app.plans import progress as progress_service
from app.plans import reading
from app.plans.models import Plan, PlanDocument, PlanStatus
from app.plans.progress_schemas import PlanProgress

JSON = "application/json"
# Observations on a plan under way refresh it (refresh_patient); a draft's or an ended
# plan's progress is evaluated afresh on every read.
STORED_PROGRESS = frozenset({PlanStatus.active.value, PlanStatus.on_hold.value})


def store(session: Session, plan: Plan, progress: PlanProgress) -> None:
    """Renders the plan (loaded with its tree) and stores it with its progress: three
    statements (the plan's targeted drivers, its overrides, the upsert)."""
    values: dict[str, Any] = {
        "plan_id": plan.id,
        "clinic_id": plan.clinic_id,
        "plan_version": plan.version,
        "reassessment_due": plan.reassessment_due,
        "body": reading.plan_read(session, plan).model_dump_json().encode(),
        "progress_body": progress.model_dump_json().encode(),
        "progress_on": progress.evaluated_at.astimezone(UTC).date(),
    }
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PlanDocument)
    statement = insert.values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[PlanDocument.plan_id],
            set_={key: statement.excluded[key] for key in values if key != "plan_id"},
        )
    )


def forget_progress(session: Session, clinic_id: uuid.UUID) -> None:
    """Marks the clinic's stored progress stale (a measure it is judged by changed)."""
    session.execute(
        update(PlanDocument).where(PlanDocument.clinic_id == clinic_id).values(progress_on=None)
    )


def _query(rendering: str) -> str:
    # Columns after the caller's: plan id, status, version, reassessment_due; the document's
    # plan_version, reassessment_due, the rendering and progress_on.
    return (
        "SELECT c.clinic_id, c.role, c.user_id, c.api_key_id, c.patient_id,"
        " p.id, p.status, p.version, p.reassessment_due,"
        f" d.plan_version, d.reassessment_due, d.{rendering}, d.progress_on"
        " FROM ({caller}) c"
        " LEFT JOIN plans p ON p.clinic_id = c.clinic_id AND p.id = :plan_id"
        " AND (c.role <> 'patient' OR p.patient_id = c.patient_id)"
        " LEFT JOIN plan_documents d ON d.clinic_id = p.clinic_id AND d.plan_id = p.id"
    )


_PLAN = _query("body")
_PROGRESS = _query("progress_body")


@cache
def _statement(query: str, caller: str) -> str:
    return query.format(caller=caller)


def _fetch(
    reader: direct.DirectRead, query: str, token: str | None, plan_id: uuid.UUID
) -> tuple[Any, ...]:
    caller = direct.credentials(token)
    params = {**caller.params, "plan_id": plan_id}
    row = reader.fetch_one(_statement(query, caller.sql), params)
    if row is None:
        raise Unauthorized("The credentials are invalid, expired or revoked.")
    if row[5] is None:
        raise NotFound("No plan with that id in your clinic.")
    return row


def read_plan(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> Response:
    """The plan's response with its ETag: the stored rendering while it is the plan's own."""
    row = _fetch(reader, _PLAN, token, plan_id)
    version, due = row[7], bool(row[8])
    if row[9] == version and row[10] is not None and bool(row[10]) == due:
        body = bytes(row[11])
    else:
        with reader.session() as session:
            plan = reading.read(session, direct.actor(row), plan_id)
        body = plan.model_dump_json().encode()
    return Response(body, media_type=JSON, headers={"ETag": etag(version)})


def read_progress(reader: direct.DirectRead, token: str | None, plan_id: uuid.UUID) -> Response:
    """The plan's progress: the stored evaluation while the plan is unchanged, under way,
    and it is still the day it was evaluated on."""
    row = _fetch(reader, _PROGRESS, token, plan_id)
    today = datetime.now(UTC).date()
    fresh = row[9] == row[7] and row[6] in STORED_PROGRESS and direct.as_date(row[12]) == today
    if fresh:
        body = bytes(row[11])
    else:
        with reader.session() as session:
            evaluation = progress_service.get(session, direct.actor(row), plan_id)
        body = evaluation.model_dump_json().encode()
    return Response(body, media_type=JSON)
