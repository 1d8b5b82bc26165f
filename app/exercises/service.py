from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, Forbidden, NotFound, field_error
from app.core.pagination import PageParams, paginate
from app.exercises.models import Exercise, ExerciseCategory
from app.exercises.schemas import ExerciseCreate, ExerciseUpdate
from app.rules.progression import Dosing


def readable(actor: Actor) -> Select[Exercise]:
    """The shipped library plus the actor's clinic's own exercises."""
    return select(Exercise).where(
        or_(Exercise.clinic_id.is_(None), Exercise.clinic_id == actor.clinic_id)
    )


def get(session: Session, actor: Actor, exercise_id: uuid.UUID) -> Exercise:
    exercise = session.scalars(readable(actor).where(Exercise.id == exercise_id)).first()
    if exercise is None:
        raise NotFound("No exercise with that id in your clinic's library.")
    return exercise


def search(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    query: str | None = None,
    body_region: str | None = None,
    category: ExerciseCategory | None = None,
    dosing: Dosing | None = None,
) -> tuple[list[Exercise], str | None]:
    statement = readable(actor)
    if query:
        statement = statement.where(Exercise.name.icontains(query.strip(), autoescape=True))
    if body_region:
        statement = statement.where(Exercise.body_region == body_region.strip().lower())
    if category:
        statement = statement.where(Exercise.category == category)
    if dosing:
        statement = statement.where(Exercise.dosing == dosing)
    return paginate(session, statement, (Exercise.name, Exercise.id), page)


def _refuse_taken_name(
    session: Session, actor: Actor, name: str, exclude: uuid.UUID | None = None
) -> None:
    """Names are unique, ignoring case, across the shipped library and the clinic's own."""
    statement = readable(actor).where(func.lower(Exercise.name) == name.lower())
    if exclude is not None:
        statement = statement.where(Exercise.id != exclude)
    if session.scalar(statement.with_only_columns(Exercise.id).limit(1)) is not None:
        raise Conflict(
            f"The library already has an exercise named {name!r}.",
            errors=[field_error("/name", "already in the library")],
        )


def _columns(data: ExerciseCreate | ExerciseUpdate, *, exclude_unset: bool) -> dict[str, Any]:
    values: dict[str, Any] = data.model_dump(exclude_unset=exclude_unset)
    if "media_urls" in values:
        values["media_urls"] = [str(url) for url in values["media_urls"]]
    return values


def create(session: Session, actor: Actor, data: ExerciseCreate) -> Exercise:
    _refuse_taken_name(session, actor, data.name)
    exercise = Exercise(clinic_id=actor.clinic_id, **_columns(data, exclude_unset=False))
    session.add(exercise)
    session.flush()
    audit_service.record(session, actor, "create", "exercise", exercise.id)
    return exercise


def update(
    session: Session, actor: Actor, exercise: Exercise, data: ExerciseUpdate, expected_version: int
) -> Exercise:
    if exercise.clinic_id is None:
        raise Forbidden("The shipped exercises are read-only; add your own under another name.")
    check_version(exercise.version, expected_version)
    changes = _columns(data, exclude_unset=True)
    if "name" in changes:
        _refuse_taken_name(session, actor, changes["name"], exclude=exercise.id)
    for field, value in changes.items():
        setattr(exercise, field, value)
    session.flush()
    audit_service.record(
        session, actor, "update", "exercise", exercise.id, {"fields": sorted(changes)}
    )
    return exercise
