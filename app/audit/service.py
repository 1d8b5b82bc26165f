from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, select
from sqlalchemy import insert as insert_into
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.auth import Actor
from app.core.orm import note_core_insert, utcnow
from app.core.pagination import PageParams, paginate


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    details: dict[str, Any] | None = None,
) -> None:
    """Adds the audit event to the write's own transaction: both land, or neither does."""
    session.add(AuditEvent(**_event(actor, action, entity_type, entity_id, details)))


def insert_with_event(
    session: Session,
    table: Table,
    row: dict[str, Any],
    actor: Actor,
    action: str,
    entity_type: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Inserts `row` (every column of `table`) and its audit event at once, with no ORM
    objects: one round trip on PostgreSQL (the row's insert as a data-modifying WITH), two
    plain INSERTs elsewhere. For a hot create; `record` for everything else."""
    event = {
        "id": uuid.uuid4(),
        "at": utcnow(),
        **_event(actor, action, entity_type, row["id"], details),
    }
    note_core_insert(session, table, row)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        prefixed = {f"event_{name}": value for name, value in event.items()}
        connection.execute(_with_event(table), {**row, **prefixed})
    else:
        connection.execute(_plain(table), row)
        connection.execute(_plain(_events), event)


_events = cast(Table, AuditEvent.__table__)


# Statements built once per table (their cache keys are memoised): building one per request
# costs more than sending it.
@cache
def _plain(table: Table) -> Insert:
    return insert_into(table)


@cache
def _with_event(table: Table) -> Insert:
    written = insert_into(table).values({c.key: bindparam(c.key, type_=c.type) for c in table.c})
    return (
        insert_into(_events)
        .values({c.key: bindparam(f"event_{c.key}", type_=c.type) for c in _events.c})
        .add_cte(written.cte("written"))
    )


def _event(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "clinic_id": actor.clinic_id,
        "actor_type": actor.kind,
        "actor_id": actor.id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "details": details,
    }


def search(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEvent], str | None]:
    statement = select(AuditEvent).where(AuditEvent.clinic_id == actor.clinic_id)
    if entity_type:
        statement = statement.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        statement = statement.where(AuditEvent.entity_id == entity_id)
    if since:
        statement = statement.where(AuditEvent.at >= since)
    if until:
        statement = statement.where(AuditEvent.at < until)
    return paginate(session, statement, (AuditEvent.at, AuditEvent.id), page)
