"""Exercise logs under a prescription. POST honours Idempotency-Key: the app retries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.core.auth import CurrentActor, SessionDep
from app.core.concurrency import IfMatch, etag, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.idempotency.dependencies import IdempotencyDep
from app.idempotency.service import StoredResponse
from app.prescriptions import logs as logs_service
from app.prescriptions import queries as prescription_queries
from app.prescriptions.logs import LogTarget
from app.prescriptions.logs_schemas import ExerciseLogRead, LogCreate, LogUpdate
from app.prescriptions.models import ExerciseLog, Prescription

router = APIRouter(tags=["exercise logs"])


async def _prescription_or_404(
    prescription_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Prescription:
    return prescription_queries.get_prescription(session, actor, prescription_id)


async def _log_or_404(log_id: uuid.UUID, session: SessionDep, actor: CurrentActor) -> ExerciseLog:
    return logs_service.get(session, actor, log_id)


async def _log_target_or_404(
    prescription_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> LogTarget:
    return logs_service.get_target(session, actor, prescription_id)


PrescriptionDep = Annotated[Prescription, Depends(_prescription_or_404)]
LogTargetDep = Annotated[LogTarget, Depends(_log_target_or_404)]
LogDep = Annotated[ExerciseLog, Depends(_log_or_404)]


@router.get(
    "/prescriptions/{prescription_id}/logs",
    response_model=Page[ExerciseLogRead],
    responses=READ_RESPONSES,
)
async def list_logs(
    session: SessionDep, actor: CurrentActor, prescription: PrescriptionDep, page: PageDep
) -> Page[ExerciseLogRead]:
    """List a prescription's logs, home and clinic, in the order they were recorded."""
    items, next_cursor = logs_service.search(session, actor, prescription, page)
    return Page(items=[ExerciseLogRead.model_validate(i) for i in items], next_cursor=next_cursor)


@router.post(
    "/prescriptions/{prescription_id}/logs",
    response_model=ExerciseLogRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_log(
    session: SessionDep,
    actor: CurrentActor,
    target: LogTargetDep,
    data: LogCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Log a home session of the exercise (or that it was skipped); retries replay the first."""
    log = logs_service.new_home_log(actor, target, data)
    answer = StoredResponse(
        status.HTTP_201_CREATED,
        ExerciseLogRead.model_validate(log).model_dump(mode="json"),
        {"Location": f"/api/v1/logs/{log['id']}", "ETag": etag(log["version"])},
    )
    replayed = idempotency.replay(data, answer)
    if replayed is not None:
        return replayed
    logs_service.insert(session, actor, target, log)
    return idempotency.answered(answer)


@router.get("/logs/{log_id}", response_model=ExerciseLogRead, responses=READ_RESPONSES)
async def read_log(log: LogDep, response: Response) -> ExerciseLogRead:
    """Read one exercise log."""
    set_etag(response, log.version)
    return ExerciseLogRead.model_validate(log)


@router.patch("/logs/{log_id}", response_model=ExerciseLogRead, responses=WRITE_RESPONSES)
async def update_log(
    session: SessionDep,
    actor: CurrentActor,
    log: LogDep,
    data: LogUpdate,
    version: IfMatch,
    response: Response,
) -> ExerciseLogRead:
    """Add the pain next morning (or change the notes) of a log: the patient's own or any."""
    log = logs_service.update(session, actor, log, data, version)
    set_etag(response, log.version)
    return ExerciseLogRead.model_validate(log)
