from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy import insert as insert_into
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.auth import Actor
from app.core.orm import utcnow
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


def insert(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    details: dict[str, Any] | None = None,
) -> None:
    """`record`, as one plain INSERT sent now: for a hot write that makes no ORM objects."""
    event = {
        "id": uuid.uuid4(),
        "at": utcnow(),
        **_event(actor, action, entity_type, entity_id, details),
    }
    session.connection().execute(_INSERT, event)


# A plain INSERT of the table, built once (its cache key is memoised).
_INSERT = insert_into(cast(Table, AuditEvent.__table__))


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
