from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.core.types import NoNul
from app.exercises import service as exercises_service
from app.exercises.dependencies import ExerciseDep
from app.exercises.models import Exercise, ExerciseCategory
from app.exercises.schemas import ExerciseCreate, ExerciseRead, ExerciseUpdate
from app.idempotency.dependencies import IdempotencyDep
from app.rules.progression import Dosing

router = APIRouter(prefix="/exercises", tags=["exercises"])


def _read(exercise: Exercise) -> ExerciseRead:
    return ExerciseRead.model_validate(exercise)


@router.get("", response_model=Page[ExerciseRead], responses=READ_RESPONSES)
async def list_exercises(
    session: SessionDep,
    actor: CurrentActor,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the name, any case."), NoNul
    ] = None,
    body_region: Annotated[
        str | None, Query(max_length=50, description="The region, e.g. knee or shoulder."), NoNul
    ] = None,
    category: ExerciseCategory | None = None,
    dosing: Dosing | None = None,
) -> Page[ExerciseRead]:
    """List the exercise library: the shipped exercises and the clinic's own, by name."""
    items, next_cursor = exercises_service.search(
        session, actor, page, query=q, body_region=body_region, category=category, dosing=dosing
    )
    return Page(items=[_read(e) for e in items], next_cursor=next_cursor)


@router.post(
    "", response_model=ExerciseRead, status_code=status.HTTP_201_CREATED, responses=CREATE_RESPONSES
)
async def create_exercise(
    session: SessionDep, actor: ClinicalActor, data: ExerciseCreate, idempotency: IdempotencyDep
) -> Response:
    """Add an exercise to the clinic's own library."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    exercise = exercises_service.create(session, actor, data)
    location = f"/api/v1/exercises/{exercise.id}"
    return idempotency.created(_read(exercise), location, exercise.version)


@router.get("/{exercise_id}", response_model=ExerciseRead, responses=READ_RESPONSES)
async def read_exercise(exercise: ExerciseDep, response: Response) -> ExerciseRead:
    """Read one exercise."""
    set_etag(response, exercise.version)
    return _read(exercise)


@router.patch("/{exercise_id}", response_model=ExerciseRead, responses=WRITE_RESPONSES)
async def update_exercise(
    session: SessionDep,
    actor: ClinicalActor,
    exercise: ExerciseDep,
    data: ExerciseUpdate,
    version: IfMatch,
    response: Response,
) -> ExerciseRead:
    """Change one of the clinic's own exercises (the shipped ones are read-only)."""
    exercise = exercises_service.update(session, actor, exercise, data, version)
    set_etag(response, exercise.version)
    return _read(exercise)
