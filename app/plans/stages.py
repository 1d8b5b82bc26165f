"""Stages: the ordered phases of a plan. Positions run 0..n-1 in order; an insertion shifts
the later stages down, a deletion closes the gap."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import field_error
from app.plans import criteria as criteria_service
from app.plans import queries
from app.plans.criteria import Errors
from app.plans.models import Plan, PlanDriver, Stage
from app.plans.schemas import CriterionCreate, StageCreate, StageOrder, StageUpdate


def targeted_driver_ids(session: Session, actor: Actor, plan: Plan) -> set[uuid.UUID]:
    statement = select(PlanDriver.driver_id).where(
        PlanDriver.clinic_id == actor.clinic_id, PlanDriver.plan_id == plan.id
    )
    return set(session.scalars(statement))


def driver_errors(
    pointer: str, driver_ids: Sequence[uuid.UUID], targeted: Collection[uuid.UUID]
) -> Errors:
    errors: Errors = []
    seen: set[uuid.UUID] = set()
    for i, driver_id in enumerate(driver_ids):
        where = f"{pointer}/driver_ids/{i}"
        if driver_id in seen:
            errors.append(field_error(where, "this driver is listed twice"))
        elif driver_id not in targeted:
            errors.append(field_error(where, "not a driver this plan targets"))
        seen.add(driver_id)
    return errors


def check(
    session: Session,
    actor: Actor,
    targeted: Collection[uuid.UUID],
    items: Sequence[tuple[str, StageCreate]],
    *,
    errors: Sequence[dict[str, str]] = (),
    discharge: Sequence[tuple[str, CriterionCreate]] = (),
) -> tuple[list[list[uuid.UUID]], list[uuid.UUID]]:
    """The measure ids of each stage's criteria, and of the discharge criteria sent alongside;
    raises one InvalidInput naming every problem."""
    known = frozenset(targeted)  # one lookup per listed driver, however many are targeted
    problems = [
        *errors,
        *(e for pointer, data in items for e in driver_errors(pointer, data.driver_ids, known)),
    ]
    nested = [
        (f"{pointer}/criteria/{j}", criterion)
        for pointer, data in items
        for j, criterion in enumerate(data.criteria)
    ]
    measure_ids = iter(criteria_service.resolve(session, actor, [*nested, *discharge], problems))
    per_stage = [[next(measure_ids) for _ in data.criteria] for _, data in items]
    return per_stage, list(measure_ids)


def build(plan: Plan, position: int, data: StageCreate, measure_ids: list[uuid.UUID]) -> Stage:
    stage = Stage(
        id=uuid.uuid4(),
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        position=position,
        name=data.name,
        goal=data.goal,
        expected_weeks=data.expected_weeks,
        driver_ids=[str(driver_id) for driver_id in data.driver_ids],
    )
    stage.criteria = [
        criteria_service.build(plan, stage, j, criterion, measure_id)
        for j, (criterion, measure_id) in enumerate(zip(data.criteria, measure_ids, strict=True))
    ]
    return stage


def _ordered(session: Session, actor: Actor, plan: Plan, *, criteria: bool = False) -> list[Stage]:
    statement = select(Stage).where(Stage.clinic_id == actor.clinic_id, Stage.plan_id == plan.id)
    if criteria:
        statement = statement.options(selectinload(Stage.criteria))
    return list(session.scalars(statement.order_by(Stage.position)))


def list_for_plan(session: Session, actor: Actor, plan: Plan) -> list[Stage]:
    return _ordered(session, actor, plan, criteria=True)


def create(session: Session, actor: Actor, plan: Plan, data: StageCreate) -> Stage:
    queries.ensure_draft(plan, "Stages can be added")
    targeted = targeted_driver_ids(session, actor, plan)
    (measure_ids,), _ = check(session, actor, targeted, [("", data)])
    stages = _ordered(session, actor, plan)
    position = len(stages) if data.position is None else min(data.position, len(stages))
    for later in stages[position:]:
        later.position += 1
    stage = build(plan, position, data, measure_ids)
    session.add(stage)
    queries.touch(plan)
    session.flush()
    audit_service.record(session, actor, "create", "stage", stage.id, {"plan_id": str(plan.id)})
    return stage


def update(
    session: Session, actor: Actor, stage: Stage, data: StageUpdate, expected_version: int
) -> Stage:
    check_version(stage.version, expected_version)
    plan = queries.get_plan(session, actor, stage.plan_id)
    queries.ensure_not_ended(plan)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if data.driver_ids is not None:
        targeted = targeted_driver_ids(session, actor, plan)
        errors = driver_errors("", data.driver_ids, targeted)
        if errors:
            raise criteria_service.invalid(errors)
        changes["driver_ids"] = [str(driver_id) for driver_id in data.driver_ids]
    for field, value in changes.items():
        setattr(stage, field, value)
    if changes:
        queries.touch(plan)
    session.flush()
    audit_service.record(session, actor, "update", "stage", stage.id, {"fields": sorted(changes)})
    return stage


def delete(session: Session, actor: Actor, stage: Stage, expected_version: int) -> None:
    check_version(stage.version, expected_version)
    plan = queries.get_plan(session, actor, stage.plan_id)
    queries.ensure_draft(plan, "Stages can be deleted")
    for later in _ordered(session, actor, plan):
        if later.position > stage.position:
            later.position -= 1
    session.delete(stage)  # its criteria go with it
    queries.touch(plan)
    session.flush()
    audit_service.record(session, actor, "delete", "stage", stage.id, {"plan_id": str(plan.id)})


def reorder(
    session: Session, actor: Actor, plan: Plan, data: StageOrder, expected_version: int
) -> list[Stage]:
    check_version(plan.version, expected_version)
    queries.ensure_draft(plan, "Stages can be reordered")
    stages = {stage.id: stage for stage in _ordered(session, actor, plan, criteria=True)}
    errors = _order_errors(data.stage_ids, stages)
    if errors:
        raise criteria_service.invalid(errors)
    for position, stage_id in enumerate(data.stage_ids):
        stages[stage_id].position = position
    queries.touch(plan)
    session.flush()
    order = {"stage_ids": [str(stage_id) for stage_id in data.stage_ids]}
    audit_service.record(session, actor, "reorder_stages", "plan", plan.id, order)
    return [stages[stage_id] for stage_id in data.stage_ids]


def _order_errors(stage_ids: Sequence[uuid.UUID], stages: Collection[uuid.UUID]) -> Errors:
    errors: Errors = []
    seen: set[uuid.UUID] = set()
    for i, stage_id in enumerate(stage_ids):
        if stage_id in seen:
            errors.append(field_error(f"/stage_ids/{i}", "this stage is listed twice"))
        elif stage_id not in stages:
            errors.append(field_error(f"/stage_ids/{i}", "not a stage of this plan"))
        seen.add(stage_id)
    missing = len(set(stages) - seen)
    if missing:
        detail = f"every stage of the plan must be listed; {missing} missing"
        errors.append(field_error("/stage_ids", detail))
    return errors
