"""Stages and criteria. A list under a plan carries the plan's ETag: it is what
POST /plans/{plan_id}/stages/order needs in If-Match."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.idempotency.dependencies import Idempotency, IdempotencyDep
from app.plans import criteria as criteria_service
from app.plans import stages as stages_service
from app.plans.dependencies import CriterionDep, PlanDep, StageDep
from app.plans.schemas import (
    CriterionCreate,
    CriterionRead,
    CriterionUpdate,
    StageCreate,
    StageOrder,
    StageRead,
    StageUpdate,
)

router = APIRouter(tags=["stages"])


@router.get("/plans/{plan_id}/stages", response_model=list[StageRead], responses=READ_RESPONSES)
async def list_stages(
    session: SessionDep, actor: CurrentActor, plan: PlanDep, response: Response
) -> list[StageRead]:
    """List a plan's stages in order, each with its progression criteria."""
    stages = stages_service.list_for_plan(session, actor, plan)
    set_etag(response, plan.version)
    return [StageRead.model_validate(stage) for stage in stages]


@router.post(
    "/plans/{plan_id}/stages",
    response_model=StageRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_stage(
    session: SessionDep,
    actor: ClinicalActor,
    plan: PlanDep,
    data: StageCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Add a stage to a draft plan, at `position` (the later stages move down) or at the end."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    stage = stages_service.create(session, actor, plan, data)
    location = f"/api/v1/stages/{stage.id}"
    return idempotency.created(StageRead.model_validate(stage), location, stage.version)


@router.post(
    "/plans/{plan_id}/stages/order", response_model=list[StageRead], responses=WRITE_RESPONSES
)
async def order_stages(
    session: SessionDep,
    actor: ClinicalActor,
    plan: PlanDep,
    data: StageOrder,
    version: IfMatch,
    response: Response,
) -> list[StageRead]:
    """Reorder a draft plan's stages (If-Match: the plan's ETag); every stage listed once."""
    stages = stages_service.reorder(session, actor, plan, data, version)
    set_etag(response, plan.version)
    return [StageRead.model_validate(stage) for stage in stages]


@router.get("/stages/{stage_id}", response_model=StageRead, responses=READ_RESPONSES)
async def read_stage(stage: StageDep, response: Response) -> StageRead:
    """Read one stage with its progression criteria."""
    set_etag(response, stage.version)
    return StageRead.model_validate(stage)


@router.patch("/stages/{stage_id}", response_model=StageRead, responses=WRITE_RESPONSES)
async def update_stage(
    session: SessionDep,
    actor: ClinicalActor,
    stage: StageDep,
    data: StageUpdate,
    version: IfMatch,
    response: Response,
) -> StageRead:
    """Change a stage's name, goal, expected weeks or drivers, until the plan ends."""
    stage = stages_service.update(session, actor, stage, data, version)
    set_etag(response, stage.version)
    return StageRead.model_validate(stage)


@router.delete(
    "/stages/{stage_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_RESPONSES,
)
async def delete_stage(
    session: SessionDep, actor: ClinicalActor, stage: StageDep, version: IfMatch
) -> None:
    """Delete a draft plan's stage and its criteria; the later stages move up."""
    stages_service.delete(session, actor, stage, version)


@router.post(
    "/stages/{stage_id}/criteria",
    response_model=CriterionRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_progression_criterion(
    session: SessionDep,
    actor: ClinicalActor,
    stage: StageDep,
    data: CriterionCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Add a progression criterion to a draft plan's stage."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    criterion = criteria_service.create_progression(session, actor, stage, data)
    return _created(criterion, idempotency)


@router.get(
    "/plans/{plan_id}/discharge-criteria",
    response_model=list[CriterionRead],
    responses=READ_RESPONSES,
)
async def list_discharge_criteria(
    session: SessionDep, actor: CurrentActor, plan: PlanDep, response: Response
) -> list[CriterionRead]:
    """List a plan's discharge criteria in order."""
    criteria = criteria_service.discharge_criteria(session, actor, plan)
    set_etag(response, plan.version)
    return [CriterionRead.model_validate(criterion) for criterion in criteria]


@router.post(
    "/plans/{plan_id}/discharge-criteria",
    response_model=CriterionRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_discharge_criterion(
    session: SessionDep,
    actor: ClinicalActor,
    plan: PlanDep,
    data: CriterionCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Add a discharge criterion to a draft plan."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    criterion = criteria_service.create_discharge(session, actor, plan, data)
    return _created(criterion, idempotency)


@router.get("/criteria/{criterion_id}", response_model=CriterionRead, responses=READ_RESPONSES)
async def read_criterion(criterion: CriterionDep, response: Response) -> CriterionRead:
    """Read one progression or discharge criterion."""
    set_etag(response, criterion.version)
    return CriterionRead.model_validate(criterion)


@router.patch("/criteria/{criterion_id}", response_model=CriterionRead, responses=WRITE_RESPONSES)
async def update_criterion(
    session: SessionDep,
    actor: ClinicalActor,
    criterion: CriterionDep,
    data: CriterionUpdate,
    version: IfMatch,
    response: Response,
) -> CriterionRead:
    """Change a criterion's comparator, target, sustained count or statement, until the plan
    ends."""
    criterion = criteria_service.update(session, actor, criterion, data, version)
    set_etag(response, criterion.version)
    return CriterionRead.model_validate(criterion)


@router.delete(
    "/criteria/{criterion_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_RESPONSES,
)
async def delete_criterion(
    session: SessionDep, actor: ClinicalActor, criterion: CriterionDep, version: IfMatch
) -> None:
    """Delete a draft plan's criterion; the later ones move up."""
    criteria_service.delete(session, actor, criterion, version)


def _created(criterion: object, idempotency: Idempotency) -> Response:
    read = CriterionRead.model_validate(criterion)
    return idempotency.created(read, f"/api/v1/criteria/{read.id}", read.version)
