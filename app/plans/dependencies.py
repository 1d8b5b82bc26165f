from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.auth import CurrentActor, SessionDep
from app.plans import queries
from app.plans.models import Criterion, Plan, Stage


async def plan_or_404(plan_id: uuid.UUID, session: SessionDep, actor: CurrentActor) -> Plan:
    return queries.get_plan(session, actor, plan_id)


async def stage_or_404(stage_id: uuid.UUID, session: SessionDep, actor: CurrentActor) -> Stage:
    return queries.get_stage(session, actor, stage_id)


async def criterion_or_404(
    criterion_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Criterion:
    return queries.get_criterion(session, actor, criterion_id)


PlanDep = Annotated[Plan, Depends(plan_or_404)]
StageDep = Annotated[Stage, Depends(stage_or_404)]
CriterionDep = Annotated[Criterion, Depends(criterion_or_404)]


async def visible_plan_id(
    plan_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> uuid.UUID:
    """The plan's id once it is known to be the caller's to see: checked before If-Match and
    the body, so a stranger learns nothing but 404."""
    return queries.ensure_visible(session, actor, plan_id)


VisiblePlanId = Annotated[uuid.UUID, Depends(visible_plan_id)]
