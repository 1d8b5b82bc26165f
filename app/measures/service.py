from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, Forbidden, NotFound, field_error
from app.core.pagination import PageParams, paginate
from app.measures.models import Measure, MeasureCategory
from app.measures.schemas import MeasureCreate, MeasureUpdate


def readable(actor: Actor) -> Select[Measure]:
    """The shipped catalog plus the actor's clinic's own measures."""
    return select(Measure).where(
        or_(Measure.clinic_id.is_(None), Measure.clinic_id == actor.clinic_id)
    )


def get(session: Session, actor: Actor, measure_id: uuid.UUID) -> Measure:
    measure = session.scalars(readable(actor).where(Measure.id == measure_id)).first()
    if measure is None:
        raise NotFound("No measure with that id in your clinic's catalog.")
    return measure


def get_many(
    session: Session, actor: Actor, measure_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Measure]:
    ids = set(measure_ids)
    if not ids:
        return {}
    rows = session.scalars(readable(actor).where(Measure.id.in_(ids)))
    return {m.id: m for m in rows}


def search(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    category: MeasureCategory | None = None,
    code: str | None = None,
) -> tuple[list[Measure], str | None]:
    statement = readable(actor)
    if category:
        statement = statement.where(Measure.category == category)
    if code:
        statement = statement.where(Measure.code == code)
    return paginate(session, statement, (Measure.code, Measure.id), page)


def create(session: Session, actor: Actor, data: MeasureCreate) -> Measure:
    clash = session.scalar(
        readable(actor).where(Measure.code == data.code).with_only_columns(Measure.id)
    )
    if clash is not None:
        raise Conflict(
            f"The catalog already has a measure with code {data.code!r}.",
            errors=[field_error("/code", "already in the catalog")],
        )
    measure = Measure(clinic_id=actor.clinic_id, **data.model_dump())
    session.add(measure)
    session.flush()
    audit_service.record(session, actor, "create", "measure", measure.id)
    return measure


def update(
    session: Session, actor: Actor, measure: Measure, data: MeasureUpdate, expected_version: int
) -> Measure:
    if measure.clinic_id is None:
        raise Forbidden("The shipped measures are read-only; add your own with another code.")
    check_version(measure.version, expected_version)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(measure, field, value)
    session.flush()
    audit_service.record(
        session, actor, "update", "measure", measure.id, {"fields": sorted(changes)}
    )
    return measure
