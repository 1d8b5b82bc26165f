from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.core.types import AwareTimestamp, Side
from app.idempotency.dependencies import IdempotencyDep
from app.observations import service as observations_service
from app.observations.dependencies import ObservationDep
from app.observations.schemas import (
    ObservationBatchCreate,
    ObservationBatchRead,
    ObservationCreate,
    ObservationErrorMark,
    ObservationRead,
)
from app.patients.dependencies import PatientDep

router = APIRouter(tags=["observations"])


@router.get(
    "/patients/{patient_id}/observations",
    response_model=Page[ObservationRead],
    responses=READ_RESPONSES,
)
async def list_observations(
    session: SessionDep,
    actor: CurrentActor,
    patient: PatientDep,
    page: PageDep,
    measure_id: uuid.UUID | None = None,
    side: Side | None = None,
    since: Annotated[
        AwareTimestamp | None, Query(description="observed_at at or after (with a UTC offset)")
    ] = None,
    until: Annotated[
        AwareTimestamp | None, Query(description="observed_at before (with a UTC offset)")
    ] = None,
    include_entered_in_error: bool = False,
) -> Page[ObservationRead]:
    """List a patient's observations, oldest first."""
    items, next_cursor = observations_service.search(
        session,
        actor,
        patient,
        page,
        measure_id=measure_id,
        side=side,
        since=since,
        until=until,
        include_entered_in_error=include_entered_in_error,
    )
    return Page(items=[ObservationRead.model_validate(o) for o in items], next_cursor=next_cursor)


@router.post(
    "/patients/{patient_id}/observations",
    response_model=ObservationRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_observation(
    session: SessionDep,
    actor: CurrentActor,
    patient: PatientDep,
    data: ObservationCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Record one observation (patients may record patient-reported measures for themselves)."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    (observation,) = observations_service.create_many(session, actor, patient, [data])
    return idempotency.created(
        ObservationRead.model_validate(observation),
        f"/api/v1/observations/{observation.id}",
        observation.version,
    )


@router.post(
    "/patients/{patient_id}/observations/batch",
    response_model=ObservationBatchRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_observation_batch(
    session: SessionDep,
    actor: CurrentActor,
    patient: PatientDep,
    data: ObservationBatchCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Record several observations in one transaction: all of them, or none."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    rows = observations_service.create_many(
        session, actor, patient, data.observations, prefix="/observations"
    )
    read = ObservationBatchRead(items=[ObservationRead.model_validate(o) for o in rows])
    # Several records: no one Location or ETag; each item carries its id and version.
    return idempotency.respond(status.HTTP_201_CREATED, read)


@router.get(
    "/observations/{observation_id}", response_model=ObservationRead, responses=READ_RESPONSES
)
async def read_observation(observation: ObservationDep, response: Response) -> ObservationRead:
    """Read one observation."""
    set_etag(response, observation.version)
    return ObservationRead.model_validate(observation)


@router.post(
    "/observations/{observation_id}/entered-in-error",
    response_model=ObservationRead,
    responses=WRITE_RESPONSES,
)
async def mark_observation_entered_in_error(
    session: SessionDep,
    actor: ClinicalActor,
    observation: ObservationDep,
    data: ObservationErrorMark,
    version: IfMatch,
    response: Response,
) -> ObservationRead:
    """Mark an observation as entered in error: it stays on record but no longer counts."""
    observation = observations_service.mark_entered_in_error(
        session, actor, observation, data.reason, version
    )
    set_etag(response, observation.version)
    return ObservationRead.model_validate(observation)
