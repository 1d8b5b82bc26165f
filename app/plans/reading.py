"""The whole plan as the API shows it, in a fixed number of statements whatever its size:
the plan's tree (queries.with_tree), its targeted drivers, and its overrides."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.assessments.models import Driver
from app.core.auth import Actor
from app.core.errors import NotFound
from app.plans import queries
from app.plans.models import Plan, PlanEvent
from app.plans.schemas import PlanRead, TimelineRead

_COLUMNS = [attribute.key for attribute in inspect(Plan).column_attrs]


def load(session: Session, actor: Actor, plan_id: uuid.UUID) -> Plan:
    """The plan with its tree, read afresh even when the session already holds it (a write
    has just changed the stages or criteria under it)."""
    statement = queries.with_tree(queries.readable(actor).where(Plan.id == plan_id))
    plan = session.scalars(statement.execution_options(populate_existing=True)).first()
    if plan is None:
        raise NotFound("No plan with that id in your clinic.")
    return plan


def read(session: Session, actor: Actor, plan_id: uuid.UUID) -> PlanRead:
    return plan_read(session, load(session, actor, plan_id))


def plan_read(session: Session, plan: Plan) -> PlanRead:
    """A plan loaded with its tree, as PlanRead: two statements more."""
    fields: dict[str, Any] = {key: getattr(plan, key) for key in _COLUMNS}
    return PlanRead.model_validate(
        {
            **fields,
            "drivers": _targeted_drivers(session, plan),
            "timeline": TimelineRead(
                expected_sessions_min=plan.expected_sessions_min,
                expected_sessions_max=plan.expected_sessions_max,
                expected_end_on=plan.expected_end_on,
                suggested=plan.timeline_suggested,
                basis=plan.timeline_basis,
            ),
            "stages": plan.stages,
            "discharge_criteria": plan.discharge_criteria,
            "overrides": _overrides(session, plan),
        },
        from_attributes=True,
    )


def _targeted_drivers(session: Session, plan: Plan) -> list[Driver]:
    statement = select(Driver).where(
        Driver.clinic_id == plan.clinic_id, Driver.id.in_(plan.driver_ids)
    )
    return list(session.scalars(statement.order_by(Driver.position)))


def _overrides(session: Session, plan: Plan) -> list[PlanEvent]:
    statement = select(PlanEvent).where(
        PlanEvent.clinic_id == plan.clinic_id,
        PlanEvent.plan_id == plan.id,
        PlanEvent.override.is_(True),
    )
    return list(session.scalars(statement.order_by(PlanEvent.at, PlanEvent.id)))
