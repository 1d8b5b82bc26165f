from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.direct import BearerToken, DirectReadDep
from app.core.openapi import READ_RESPONSES, WRITE_RESPONSES
from app.plans import documents, lifecycle
from app.plans.dependencies import VisiblePlanId
from app.plans.progress_schemas import PlanProgress, PlanTransitionRead
from app.plans.schemas import AdvanceRequest, DischargeRequest, PlanEventRead, ReasonRequest

router = APIRouter(tags=["plans"])


def _answer(response: Response, result: PlanTransitionRead) -> PlanTransitionRead:
    set_etag(response, result.version)
    return result


@router.get("/plans/{plan_id}/progress", response_model=PlanProgress, responses=READ_RESPONSES)
async def read_plan_progress(
    plan_id: uuid.UUID, reader: DirectReadDep, token: BearerToken
) -> Response:
    """Evaluate every criterion of the plan against the patient's observations (kept up to
    date on every write that changes them)."""
    return documents.read_progress(reader, token, plan_id)


@router.get(
    "/plans/{plan_id}/history", response_model=list[PlanEventRead], responses=READ_RESPONSES
)
async def read_plan_history(
    session: SessionDep, actor: CurrentActor, plan_id: uuid.UUID
) -> list[PlanEventRead]:
    """List the plan's transitions, oldest first (the latest 500)."""
    events = lifecycle.history(session, actor, plan_id)
    return [PlanEventRead.model_validate(event) for event in events]


@router.post(
    "/plans/{plan_id}/activate", response_model=PlanTransitionRead, responses=WRITE_RESPONSES
)
async def activate_plan(
    session: SessionDep,
    actor: ClinicalActor,
    plan_id: VisiblePlanId,
    version: IfMatch,
    response: Response,
) -> PlanTransitionRead:
    """Activate a draft plan; 422 lists every gap (drivers, stages, criteria, timeline)."""
    return _answer(response, lifecycle.activate(session, actor, plan_id, version))


@router.post(
    "/plans/{plan_id}/advance", response_model=PlanTransitionRead, responses=WRITE_RESPONSES
)
async def advance_plan_stage(
    session: SessionDep,
    actor: ClinicalActor,
    plan_id: VisiblePlanId,
    version: IfMatch,
    response: Response,
    data: AdvanceRequest | None = None,
) -> PlanTransitionRead:
    """Move to the next stage once the current stage's criteria are met (or with a reason)."""
    data = data or AdvanceRequest()
    return _answer(response, lifecycle.advance(session, actor, plan_id, data, version))


@router.post(
    "/plans/{plan_id}/discharge", response_model=PlanTransitionRead, responses=WRITE_RESPONSES
)
async def discharge_plan(
    session: SessionDep,
    actor: ClinicalActor,
    plan_id: VisiblePlanId,
    version: IfMatch,
    response: Response,
    data: DischargeRequest | None = None,
) -> PlanTransitionRead:
    """Discharge once every discharge criterion is met, or against them with reason and category."""
    data = data or DischargeRequest()
    return _answer(response, lifecycle.discharge(session, actor, plan_id, data, version))


@router.post("/plans/{plan_id}/hold", response_model=PlanTransitionRead, responses=WRITE_RESPONSES)
async def hold_plan(
    session: SessionDep,
    actor: ClinicalActor,
    plan_id: VisiblePlanId,
    version: IfMatch,
    data: ReasonRequest,
    response: Response,
) -> PlanTransitionRead:
    """Put an active plan on hold, with the reason."""
    return _answer(response, lifecycle.hold(session, actor, plan_id, data, version))


@router.post(
    "/plans/{plan_id}/resume", response_model=PlanTransitionRead, responses=WRITE_RESPONSES
)
async def resume_plan(
    session: SessionDep,
    actor: ClinicalActor,
    plan_id: VisiblePlanId,
    version: IfMatch,
    response: Response,
) -> PlanTransitionRead:
    """Resume a plan that is on hold."""
    return _answer(response, lifecycle.resume(session, actor, plan_id, version))


@router.post(
    "/plans/{plan_id}/cancel", response_model=PlanTransitionRead, responses=WRITE_RESPONSES
)
async def cancel_plan(
    session: SessionDep,
    actor: ClinicalActor,
    plan_id: VisiblePlanId,
    version: IfMatch,
    data: ReasonRequest,
    response: Response,
) -> PlanTransitionRead:
    """Cancel a draft, active or on-hold plan, with the reason."""
    return _answer(response, lifecycle.cancel(session, actor, plan_id, data, version))
