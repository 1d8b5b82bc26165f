"""Prescriptions: an exercise for the plan's patient, tied to a targeted driver. Every change
of parameters is a new version; earlier versions stay readable."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.pagination import PageParams, paginate
from app.exercises.models import Exercise
from app.plans import queries as plan_queries
from app.plans.models import Plan, PlanDriver, Stage
from app.prescriptions import queries
from app.prescriptions.models import Prescription, PrescriptionStatus, PrescriptionVersion
from app.prescriptions.schemas import (
    PARAMETERS,
    ExerciseSummary,
    ParametersRead,
    PrescriptionCreate,
    PrescriptionRead,
    PrescriptionStop,
    PrescriptionUpdate,
    VersionRead,
    parameter_errors,
    parameters_of,
)
from app.rules.progression import ProgressionRules


def today() -> date:
    return datetime.now(UTC).date()


def rules_for(actor: Actor) -> ProgressionRules:  # noqa: ARG001
    """The clinic's progression rules; every clinic uses the defaults for now."""
    return ProgressionRules()


def _usable_exercises(actor: Actor) -> Any:
    return or_(Exercise.clinic_id.is_(None), Exercise.clinic_id == actor.clinic_id)


def exercises_by_id(
    session: Session, actor: Actor, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Exercise]:
    """The shipped or own-clinic exercises with these ids, in one statement."""
    wanted = set(ids)
    if not wanted:
        return {}
    statement = select(Exercise).where(Exercise.id.in_(wanted), _usable_exercises(actor))
    return {exercise.id: exercise for exercise in session.scalars(statement)}


def exercise_of(session: Session, actor: Actor, prescription: Prescription) -> Exercise:
    found = exercises_by_id(session, actor, [prescription.exercise_id])
    if prescription.exercise_id not in found:
        raise NotFound("The prescription's exercise is not in your library.")
    return found[prescription.exercise_id]


_BUILT = frozenset({"exercise", "current", "versions"})


def to_read(prescription: Prescription, exercise: Exercise) -> PrescriptionRead:
    fields = {
        name: getattr(prescription, name)
        for name in PrescriptionRead.model_fields
        if name not in _BUILT
    }
    fields |= {
        "exercise": ExerciseSummary.model_validate(exercise),
        "current": ParametersRead.model_validate(queries.current_version(prescription)),
        "versions": [VersionRead.of(version) for version in prescription.versions],
    }
    return PrescriptionRead.model_validate(fields)


def read(session: Session, actor: Actor, prescription: Prescription) -> PrescriptionRead:
    return to_read(prescription, exercise_of(session, actor, prescription))


def list_for_stage(
    session: Session, actor: Actor, plan: Plan, stage: Stage, page: PageParams
) -> tuple[list[PrescriptionRead], str | None]:
    statement = (
        queries.readable(actor)
        .where(Prescription.plan_id == plan.id, Prescription.stage_id == stage.id)
        .options(selectinload(Prescription.versions))
    )
    items, cursor = paginate(session, statement, (Prescription.created_at, Prescription.id), page)
    exercises = exercises_by_id(session, actor, (p.exercise_id for p in items))
    return [to_read(p, exercises[p.exercise_id]) for p in items], cursor


def _driver_errors(
    session: Session, actor: Actor, plan: Plan, driver_id: uuid.UUID
) -> list[dict[str, str]]:
    targeted = session.scalar(
        select(PlanDriver.driver_id).where(
            PlanDriver.clinic_id == actor.clinic_id,
            PlanDriver.plan_id == plan.id,
            PlanDriver.driver_id == driver_id,
        )
    )
    return [] if targeted else [field_error("/driver_id", "not a driver this plan targets")]


def _checked(
    session: Session, actor: Actor, plan: Plan, data: PrescriptionCreate
) -> tuple[Exercise, dict[str, Any]]:
    """The exercise and the first version's parameters, or a 422 naming every problem."""
    errors = _driver_errors(session, actor, plan, data.driver_id)
    exercise = exercises_by_id(session, actor, [data.exercise_id]).get(data.exercise_id)
    values = data.model_dump(include=set(PARAMETERS))
    if exercise is None:
        errors.append(field_error("/exercise_id", "no such exercise in your library"))
    else:
        errors += parameter_errors(values, exercise.dosing, rules_for(actor).bands)
    if errors or exercise is None:
        raise InvalidInput("The prescription is not valid.", errors=errors)
    return exercise, values


def create(
    session: Session, actor: Actor, plan: Plan, stage: Stage, data: PrescriptionCreate
) -> PrescriptionRead:
    plan_queries.ensure_not_ended(plan)
    exercise, values = _checked(session, actor, plan, data)
    prescription = Prescription(
        clinic_id=actor.clinic_id,
        plan_id=plan.id,
        stage_id=stage.id,
        patient_id=plan.patient_id,
        exercise_id=exercise.id,
        driver_id=data.driver_id,
        versions=[_version(actor, 1, values, "initial prescription", None, data.effective_on)],
    )
    session.add(prescription)
    plan_queries.touch(plan)
    session.flush()
    audit_service.record(session, actor, "create", "prescription", prescription.id, {"version": 1})
    return to_read(prescription, exercise)


def _version(
    actor: Actor,
    number: int,
    values: Mapping[str, Any],
    reason: str,
    rule: str | None,
    effective_on: date | None,
) -> PrescriptionVersion:
    return PrescriptionVersion(
        clinic_id=actor.clinic_id,
        number=number,
        effective_on=effective_on or today(),
        created_by_type=actor.kind,
        created_by_id=actor.id,
        reason=reason,
        rule=rule,
        **{name: values.get(name) for name in PARAMETERS},
    )


def writable_plan(
    session: Session, actor: Actor, prescription: Prescription, expected_version: int
) -> Plan:
    """The prescription's plan, once the prescription may change: right version, still
    active, and its plan not ended."""
    check_version(prescription.version, expected_version)
    if prescription.status is PrescriptionStatus.stopped:
        raise Conflict("The prescription is stopped; it can no longer be changed.")
    plan = plan_queries.get_plan(session, actor, prescription.plan_id)
    plan_queries.ensure_not_ended(plan)
    return plan


@dataclass(frozen=True)
class VersionChange:
    """A new version's parameters, why, by which rule, and from when; `pointer` prefixes
    the parameters' errors (`/parameters` when they arrive nested)."""

    values: Mapping[str, Any]
    reason: str
    rule: str | None = None
    effective_on: date | None = None
    pointer: str = ""


def add_version(
    session: Session,
    actor: Actor,
    prescription: Prescription,
    plan: Plan,
    exercise: Exercise,
    change: VersionChange,
) -> PrescriptionVersion:
    """Validates the whole parameter set and appends it as the next version."""
    current = queries.current_version(prescription)
    errors = parameter_errors(
        change.values, exercise.dosing, rules_for(actor).bands, change.pointer
    )
    if dict(change.values) == parameters_of(current):
        errors.append(field_error(change.pointer or "/", "no parameter differs from the current"))
    effective_on = change.effective_on or today()
    if effective_on < current.effective_on:
        detail = f"before the current version took effect ({current.effective_on})"
        errors.append(field_error("/effective_on", detail))
    if errors:
        raise InvalidInput("The new parameters are not valid.", errors=errors)
    version = _version(
        actor, current.number + 1, change.values, change.reason, change.rule, effective_on
    )
    prescription.versions.append(version)
    prescription.updated_at = datetime.now(UTC)
    plan_queries.touch(plan)
    session.flush()
    return version


def update(
    session: Session,
    actor: Actor,
    prescription: Prescription,
    data: PrescriptionUpdate,
    expected_version: int,
) -> PrescriptionRead:
    plan = writable_plan(session, actor, prescription, expected_version)
    exercise = exercise_of(session, actor, prescription)
    changes = data.model_dump(exclude_unset=True, include=set(PARAMETERS))
    values = {**parameters_of(queries.current_version(prescription)), **changes}
    change = VersionChange(values, data.reason, effective_on=data.effective_on)
    version = add_version(session, actor, prescription, plan, exercise, change)
    details = {"version": version.number, "fields": sorted(changes)}
    audit_service.record(session, actor, "update", "prescription", prescription.id, details)
    return to_read(prescription, exercise)


def stop(
    session: Session,
    actor: Actor,
    prescription: Prescription,
    data: PrescriptionStop,
    expected_version: int,
) -> PrescriptionRead:
    plan = writable_plan(session, actor, prescription, expected_version)
    exercise = exercise_of(session, actor, prescription)
    prescription.status = PrescriptionStatus.stopped
    prescription.stopped_at = datetime.now(UTC)
    prescription.stop_reason = data.reason
    plan_queries.touch(plan)
    session.flush()
    audit_service.record(session, actor, "stop", "prescription", prescription.id)
    return to_read(prescription, exercise)
