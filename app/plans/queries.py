"""Plan queries shared by the plan, stage, criterion, progress and lifecycle services."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from app.core.auth import Actor
from app.core.errors import Conflict, NotFound
from app.plans.models import ENDED, Criterion, Plan, PlanStatus, Stage


def readable(actor: Actor) -> Select[Plan]:
    """The plans this actor may see: their clinic's, or a patient user's own."""
    statement = select(Plan).where(Plan.clinic_id == actor.clinic_id)
    if actor.is_patient:
        statement = statement.where(Plan.patient_id == actor.patient_id)
    return statement


def with_tree(statement: Select[Plan]) -> Select[Plan]:
    """Loads targeted drivers, stages with their criteria, and discharge criteria: four
    statements in all, however many stages and criteria the plan has."""
    return statement.options(
        selectinload(Plan.driver_links),
        selectinload(Plan.stages).selectinload(Stage.criteria),
        selectinload(Plan.discharge_criteria),
    )


def get_plan(session: Session, actor: Actor, plan_id: uuid.UUID, *, tree: bool = False) -> Plan:
    statement = readable(actor).where(Plan.id == plan_id)
    if tree:
        # Afresh even when the session holds the plan: a write may have just changed the
        # stages or criteria under a collection it loaded earlier.
        statement = with_tree(statement).execution_options(populate_existing=True)
    plan = session.scalars(statement).first()
    if plan is None:
        raise NotFound("No plan with that id in your clinic.")
    return plan


def get_stage(session: Session, actor: Actor, stage_id: uuid.UUID) -> Stage:
    statement = select(Stage).where(Stage.clinic_id == actor.clinic_id, Stage.id == stage_id)
    if actor.is_patient:
        statement = statement.join(Plan, Plan.id == Stage.plan_id).where(
            Plan.clinic_id == actor.clinic_id, Plan.patient_id == actor.patient_id
        )
    stage = session.scalars(statement.options(selectinload(Stage.criteria))).first()
    if stage is None:
        raise NotFound("No stage with that id in your clinic.")
    return stage


def get_criterion(session: Session, actor: Actor, criterion_id: uuid.UUID) -> Criterion:
    statement = select(Criterion).where(
        Criterion.clinic_id == actor.clinic_id, Criterion.id == criterion_id
    )
    if actor.is_patient:
        statement = statement.join(Plan, Plan.id == Criterion.plan_id).where(
            Plan.clinic_id == actor.clinic_id, Plan.patient_id == actor.patient_id
        )
    criterion = session.scalars(statement).first()
    if criterion is None:
        raise NotFound("No criterion with that id in your clinic.")
    return criterion


def touch(plan: Plan) -> None:
    """A change to a stage or criterion is a change to the plan: its version (ETag) moves."""
    plan.updated_at = datetime.now(UTC)


def ensure_not_ended(plan: Plan) -> None:
    if plan.status in ENDED:
        raise Conflict(f"The plan is {plan.status}; it can no longer be changed.")


def ensure_draft(plan: Plan, what: str) -> None:
    if plan.status is not PlanStatus.draft:
        raise Conflict(f"{what} only while the plan is a draft; it is {plan.status}.")


def ensure_visible(session: Session, actor: Actor, plan_id: uuid.UUID) -> uuid.UUID:
    found: uuid.UUID | None = session.scalar(
        readable(actor).where(Plan.id == plan_id).with_only_columns(Plan.id)
    )
    if found is None:
        raise NotFound("No plan with that id in your clinic.")
    return found
