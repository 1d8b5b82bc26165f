from __future__ import annotations

from fastapi import APIRouter

from app.core.auth import CurrentActor, SessionDep
from app.core.openapi import READ_RESPONSES
from app.plans import adherence as adherence_service
from app.plans.adherence import PlanAdherence
from app.plans.dependencies import PlanDep

router = APIRouter(tags=["plans"])


@router.get("/plans/{plan_id}/adherence", response_model=PlanAdherence, responses=READ_RESPONSES)
async def read_plan_adherence(
    session: SessionDep, actor: CurrentActor, plan: PlanDep
) -> PlanAdherence:
    """Sessions prescribed against done, per prescription and plan week, home and clinic."""
    return adherence_service.get(session, actor, plan)
