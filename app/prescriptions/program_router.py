"""The plan's weekly program and its week-by-week history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.auth import CurrentActor, SessionDep
from app.core.openapi import READ_RESPONSES
from app.plans.dependencies import PlanDep
from app.prescriptions import program as program_service
from app.prescriptions.schemas import ProgramHistoryRead, ProgramWeekRead

router = APIRouter(prefix="/plans/{plan_id}/program", tags=["program"])


@router.get("", response_model=ProgramWeekRead, responses=READ_RESPONSES)
async def read_program(
    session: SessionDep,
    actor: CurrentActor,
    plan: PlanDep,
    week: Annotated[
        int | None,
        Query(ge=1, le=1000, description="Week of the plan, from 1; defaults to this week."),
    ] = None,
) -> ProgramWeekRead:
    """What was prescribed in a week of the plan: each prescription's parameters then."""
    return program_service.program_week(session, actor, plan, week)


@router.get("/history", response_model=ProgramHistoryRead, responses=READ_RESPONSES)
async def read_program_history(
    session: SessionDep, actor: CurrentActor, plan: PlanDep
) -> ProgramHistoryRead:
    """Each prescription's parameters week by week, marking the weeks they changed."""
    return program_service.history(session, actor, plan)
