"""Prescriptions under a plan's stage, their versions, and their progression."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.idempotency.dependencies import IdempotencyDep
from app.plans.dependencies import PlanDep
from app.prescriptions import service as prescriptions_service
from app.prescriptions import suggestions as suggestions_service
from app.prescriptions.dependencies import PlanStageDep, PrescriptionDep
from app.prescriptions.schemas import (
    PrescriptionCreate,
    PrescriptionRead,
    PrescriptionStop,
    PrescriptionUpdate,
    ProgressRequest,
    SuggestionRead,
)

router = APIRouter(tags=["prescriptions"])
UNDER_STAGE = "/plans/{plan_id}/stages/{stage_id}/prescriptions"


@router.post(
    UNDER_STAGE,
    response_model=PrescriptionRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_prescription(
    session: SessionDep,
    actor: ClinicalActor,
    plan: PlanDep,
    stage: PlanStageDep,
    data: PrescriptionCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Prescribe an exercise in a stage, for a driver the plan targets (version 1)."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    read = prescriptions_service.create(session, actor, plan, stage, data)
    return idempotency.created(read, f"/api/v1/prescriptions/{read.id}", read.version)


@router.get(UNDER_STAGE, response_model=Page[PrescriptionRead], responses=READ_RESPONSES)
async def list_prescriptions(
    session: SessionDep, actor: CurrentActor, plan: PlanDep, stage: PlanStageDep, page: PageDep
) -> Page[PrescriptionRead]:
    """List a stage's prescriptions, oldest first, each with its versions."""
    items, next_cursor = prescriptions_service.list_for_stage(session, actor, plan, stage, page)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/prescriptions/{prescription_id}", response_model=PrescriptionRead, responses=READ_RESPONSES
)
async def read_prescription(
    session: SessionDep, actor: CurrentActor, prescription: PrescriptionDep, response: Response
) -> PrescriptionRead:
    """Read a prescription: its current parameters and every version."""
    read = prescriptions_service.read(session, actor, prescription)
    set_etag(response, read.version)
    return read


@router.patch(
    "/prescriptions/{prescription_id}", response_model=PrescriptionRead, responses=WRITE_RESPONSES
)
async def update_prescription(
    session: SessionDep,
    actor: ClinicalActor,
    prescription: PrescriptionDep,
    data: PrescriptionUpdate,
    version: IfMatch,
    response: Response,
) -> PrescriptionRead:
    """Change parameters, with a reason: a new version; the earlier ones stay."""
    read = prescriptions_service.update(session, actor, prescription, data, version)
    set_etag(response, read.version)
    return read


@router.post(
    "/prescriptions/{prescription_id}/stop",
    response_model=PrescriptionRead,
    responses=WRITE_RESPONSES,
)
async def stop_prescription(
    session: SessionDep,
    actor: ClinicalActor,
    prescription: PrescriptionDep,
    data: PrescriptionStop,
    version: IfMatch,
    response: Response,
) -> PrescriptionRead:
    """Stop a prescription, with a reason; its versions stay readable."""
    read = prescriptions_service.stop(session, actor, prescription, data, version)
    set_etag(response, read.version)
    return read


@router.get(
    "/prescriptions/{prescription_id}/suggestion",
    response_model=SuggestionRead,
    responses=READ_RESPONSES,
)
async def suggest_progression(
    session: SessionDep, actor: ClinicalActor, prescription: PrescriptionDep
) -> SuggestionRead:
    """Propose the next parameters from the logs: the rule that fired and the logs it read."""
    return suggestions_service.suggestion(session, actor, prescription)


@router.post(
    "/prescriptions/{prescription_id}/progress",
    response_model=PrescriptionRead,
    responses=WRITE_RESPONSES,
)
async def progress_prescription(
    session: SessionDep,
    actor: ClinicalActor,
    prescription: PrescriptionDep,
    data: ProgressRequest,
    version: IfMatch,
    response: Response,
) -> PrescriptionRead:
    """Apply the suggestion, or the clinician's own parameters, as a new version."""
    read = suggestions_service.progress(session, actor, prescription, data, version)
    set_etag(response, read.version)
    return read
