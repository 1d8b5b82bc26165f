from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.core.types import NoNul
from app.idempotency.dependencies import IdempotencyDep
from app.measures import service as measures_service
from app.measures.dependencies import MeasureDep
from app.measures.models import Measure, MeasureCategory
from app.measures.schemas import MeasureCreate, MeasureRead, MeasureUpdate

router = APIRouter(prefix="/measures", tags=["measures"])


def _read(measure: Measure) -> MeasureRead:
    return MeasureRead.model_validate(measure)


@router.get("", response_model=Page[MeasureRead], responses=READ_RESPONSES)
async def list_measures(
    session: SessionDep,
    actor: CurrentActor,
    page: PageDep,
    category: MeasureCategory | None = None,
    code: Annotated[str | None, Query(max_length=50), NoNul] = None,
) -> Page[MeasureRead]:
    """List the measure catalog: the shipped measures and the clinic's own."""
    items, next_cursor = measures_service.search(session, actor, page, category=category, code=code)
    return Page(items=[_read(m) for m in items], next_cursor=next_cursor)


@router.post(
    "", response_model=MeasureRead, status_code=status.HTTP_201_CREATED, responses=CREATE_RESPONSES
)
async def create_measure(
    session: SessionDep, actor: ClinicalActor, data: MeasureCreate, idempotency: IdempotencyDep
) -> Response:
    """Add a measure to the clinic's own catalog."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    measure = measures_service.create(session, actor, data)
    return idempotency.created(_read(measure), f"/api/v1/measures/{measure.id}", measure.version)


@router.get("/{measure_id}", response_model=MeasureRead, responses=READ_RESPONSES)
async def read_measure(measure: MeasureDep, response: Response) -> MeasureRead:
    """Read one measure."""
    set_etag(response, measure.version)
    return _read(measure)


@router.patch("/{measure_id}", response_model=MeasureRead, responses=WRITE_RESPONSES)
async def update_measure(
    session: SessionDep,
    actor: ClinicalActor,
    measure: MeasureDep,
    data: MeasureUpdate,
    version: IfMatch,
    response: Response,
) -> MeasureRead:
    """Change one of the clinic's own measures (the shipped ones are read-only)."""
    measure = measures_service.update(session, actor, measure, data, version)
    set_etag(response, measure.version)
    return _read(measure)
