from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.direct import BearerToken, DirectReadDep
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.idempotency.dependencies import IdempotencyDep
from app.plans import documents
from app.plans import service as plans_service
from app.plans.dependencies import PlanDep
from app.plans.models import PlanStatus
from app.plans.schemas import PlanCreate, PlanRead, PlanSummaryRead, PlanUpdate

router = APIRouter(prefix="/plans", tags=["plans"])


@router.get("", response_model=Page[PlanSummaryRead], responses=READ_RESPONSES)
async def list_plans(
    session: SessionDep,
    actor: CurrentActor,
    page: PageDep,
    patient_id: uuid.UUID | None = None,
    clinician_id: uuid.UUID | None = None,
    status: PlanStatus | None = None,
) -> Page[PlanSummaryRead]:
    """List the clinic's plans, oldest first (a patient user sees only their own)."""
    items, next_cursor = plans_service.search(
        session, actor, page, patient_id=patient_id, clinician_id=clinician_id, status=status
    )
    return Page(items=[PlanSummaryRead.model_validate(p) for p in items], next_cursor=next_cursor)


@router.post(
    "",
    response_model=PlanRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_plan(
    session: SessionDep, actor: ClinicalActor, data: PlanCreate, idempotency: IdempotencyDep
) -> Response:
    """Draft a plan from a finalised assessment, with its stages and discharge criteria."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    plan = plans_service.create(session, actor, data)
    return idempotency.created(plan, f"/api/v1/plans/{plan.id}", plan.version)


@router.get("/{plan_id}", response_model=PlanRead, responses=READ_RESPONSES)
async def read_plan(plan_id: uuid.UUID, reader: DirectReadDep, token: BearerToken) -> Response:
    """Read a whole plan: drivers, timeline, stages with criteria, discharge criteria."""
    return documents.read_plan(reader, token, plan_id)


@router.patch("/{plan_id}", response_model=PlanRead, responses=WRITE_RESPONSES)
async def update_plan(
    session: SessionDep,
    actor: ClinicalActor,
    plan: PlanDep,
    data: PlanUpdate,
    version: IfMatch,
    response: Response,
) -> PlanRead:
    """Change a plan's title, clinician or timeline (and, while a draft, its drivers)."""
    updated = plans_service.update(session, actor, plan, data, version)
    set_etag(response, updated.version)
    return updated
