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
from app.patients import service as patients_service
from app.patients.dependencies import PatientDep
from app.patients.schemas import PatientCreate, PatientRead, PatientUpdate

router = APIRouter(prefix="/patients", tags=["patients"])


@router.get("", response_model=Page[PatientRead], responses=READ_RESPONSES)
async def list_patients(
    session: SessionDep,
    actor: CurrentActor,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the name or external id."), NoNul
    ] = None,
    include_archived: bool = False,
) -> Page[PatientRead]:
    """List the clinic's patients (a patient user sees only themself)."""
    items, next_cursor = patients_service.search(
        session, actor, page, query=q, include_archived=include_archived
    )
    return Page(items=[PatientRead.model_validate(p) for p in items], next_cursor=next_cursor)


@router.post(
    "",
    response_model=PatientRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_patient(
    session: SessionDep, actor: ClinicalActor, data: PatientCreate, idempotency: IdempotencyDep
) -> Response:
    """Register a patient."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    patient = patients_service.create(session, actor, data)
    location = f"/api/v1/patients/{patient.id}"
    return idempotency.created(PatientRead.model_validate(patient), location, patient.version)


@router.get("/{patient_id}", response_model=PatientRead, responses=READ_RESPONSES)
async def read_patient(patient: PatientDep, response: Response) -> PatientRead:
    """Read one patient."""
    set_etag(response, patient.version)
    return PatientRead.model_validate(patient)


@router.patch("/{patient_id}", response_model=PatientRead, responses=WRITE_RESPONSES)
async def update_patient(
    session: SessionDep,
    actor: ClinicalActor,
    patient: PatientDep,
    data: PatientUpdate,
    version: IfMatch,
    response: Response,
) -> PatientRead:
    """Change a patient's details."""
    patient = patients_service.update(session, actor, patient, data, version)
    set_etag(response, patient.version)
    return PatientRead.model_validate(patient)


@router.delete("/{patient_id}", response_model=PatientRead, responses=WRITE_RESPONSES)
async def archive_patient(
    session: SessionDep,
    actor: ClinicalActor,
    patient: PatientDep,
    version: IfMatch,
    response: Response,
) -> PatientRead:
    """Archive a patient: clinical records are never hard-deleted."""
    patient = patients_service.archive(session, actor, patient, version)
    set_etag(response, patient.version)
    return PatientRead.model_validate(patient)
