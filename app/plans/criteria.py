"""Criteria: progression criteria on a stage, discharge criteria on the plan.

A criterion names its measure by id or by code; either is resolved against the clinic's readable
catalog (the shipped measures and the clinic's own). Positions follow the order of creation and
close up when a criterion is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import InvalidInput, field_error
from app.measures import service as measures_service
from app.measures.models import Measure
from app.plans import queries
from app.plans.models import Criterion, CriterionKind, Plan, Stage
from app.plans.schemas import CriterionCreate, CriterionUpdate
from app.rules.criteria import Mode

Errors = list[dict[str, str]]


def invalid(errors: Errors) -> InvalidInput:
    names = ", ".join(error["pointer"] for error in errors)
    return InvalidInput(f"Invalid input: {names}", errors=errors)


def resolve(
    session: Session,
    actor: Actor,
    items: Sequence[tuple[str, CriterionCreate]],
    errors: Errors | None = None,
) -> list[uuid.UUID]:
    """The measure id of each (pointer, criterion), in order; raises InvalidInput naming every
    problem, those already in `errors` included."""
    errors = list(errors or [])
    by_id, by_code = _catalog(session, actor, [data for _, data in items])
    measure_ids: list[uuid.UUID] = []
    for pointer, data in items:
        if data.measure_id is not None:
            measure, field = by_id.get(data.measure_id), "measure_id"
        else:
            measure, field = by_code.get(data.measure_code or ""), "measure_code"
        if measure is None:
            errors.append(field_error(f"{pointer}/{field}", "no such measure in your catalog"))
        elif data.mode is Mode.limb_symmetry and not measure.bilateral:
            detail = f"limb_symmetry needs a measure taken on both sides; {measure.code} is not"
            errors.append(field_error(f"{pointer}/mode", detail))
        else:
            measure_ids.append(measure.id)
    if errors:
        raise invalid(errors)
    return measure_ids


def _catalog(
    session: Session, actor: Actor, items: Sequence[CriterionCreate]
) -> tuple[dict[uuid.UUID, Measure], dict[str, Measure]]:
    ids = [data.measure_id for data in items if data.measure_id is not None]
    codes = [data.measure_code for data in items if data.measure_code is not None]
    if not ids and not codes:
        return {}, {}
    statement = measures_service.readable(actor).where(
        or_(Measure.id.in_(ids), Measure.code.in_(codes))
    )
    # The clinic's own measure wins over a shipped one with the same code.
    measures = sorted(session.scalars(statement), key=lambda m: m.clinic_id is not None)
    return {m.id: m for m in measures}, {m.code: m for m in measures}


def build(
    plan: Plan, stage: Stage | None, position: int, data: CriterionCreate, measure_id: uuid.UUID
) -> Criterion:
    fields = data.model_dump(exclude={"measure_id", "measure_code"})
    return Criterion(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        stage_id=stage.id if stage is not None else None,
        kind=CriterionKind.progression if stage is not None else CriterionKind.discharge,
        position=position,
        measure_id=measure_id,
        **fields,
    )


def discharge_criteria(session: Session, actor: Actor, plan: Plan) -> list[Criterion]:
    statement = select(Criterion).where(
        Criterion.clinic_id == actor.clinic_id,
        Criterion.plan_id == plan.id,
        Criterion.stage_id.is_(None),
    )
    return list(session.scalars(statement.order_by(Criterion.position)))


def create_progression(
    session: Session, actor: Actor, stage: Stage, data: CriterionCreate
) -> Criterion:
    plan = queries.get_plan(session, actor, stage.plan_id)
    queries.ensure_draft(plan, "Criteria can be added")
    (measure_id,) = resolve(session, actor, [("", data)])
    criterion = build(plan, stage, len(stage.criteria), data, measure_id)
    stage.criteria.append(criterion)
    return _created(session, actor, plan, criterion)


def create_discharge(
    session: Session, actor: Actor, plan: Plan, data: CriterionCreate
) -> Criterion:
    queries.ensure_draft(plan, "Criteria can be added")
    (measure_id,) = resolve(session, actor, [("", data)])
    last = session.scalar(
        select(func.max(Criterion.position)).where(
            Criterion.clinic_id == actor.clinic_id,
            Criterion.plan_id == plan.id,
            Criterion.stage_id.is_(None),
        )
    )
    criterion = build(plan, None, 0 if last is None else last + 1, data, measure_id)
    session.add(criterion)
    return _created(session, actor, plan, criterion)


def _created(session: Session, actor: Actor, plan: Plan, criterion: Criterion) -> Criterion:
    queries.touch(plan)
    session.flush()
    details = {"plan_id": str(plan.id), "kind": str(criterion.kind)}
    audit_service.record(session, actor, "create", "criterion", criterion.id, details)
    return criterion


def update(
    session: Session,
    actor: Actor,
    criterion: Criterion,
    data: CriterionUpdate,
    expected_version: int,
) -> Criterion:
    check_version(criterion.version, expected_version)
    plan = queries.get_plan(session, actor, criterion.plan_id)
    queries.ensure_not_ended(plan)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(criterion, field, value)
    if changes:
        queries.touch(plan)
    session.flush()
    audit_service.record(
        session, actor, "update", "criterion", criterion.id, {"fields": sorted(changes)}
    )
    return criterion


def delete(session: Session, actor: Actor, criterion: Criterion, expected_version: int) -> None:
    check_version(criterion.version, expected_version)
    plan = queries.get_plan(session, actor, criterion.plan_id)
    queries.ensure_draft(plan, "Criteria can be deleted")
    siblings = select(Criterion).where(
        Criterion.clinic_id == actor.clinic_id,
        Criterion.plan_id == plan.id,
        Criterion.position > criterion.position,
        Criterion.stage_id == criterion.stage_id
        if criterion.stage_id is not None
        else Criterion.stage_id.is_(None),
    )
    for sibling in session.scalars(siblings):
        sibling.position -= 1
    session.delete(criterion)
    queries.touch(plan)
    session.flush()
    audit_service.record(
        session, actor, "delete", "criterion", criterion.id, {"plan_id": str(plan.id)}
    )
