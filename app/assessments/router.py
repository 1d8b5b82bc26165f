from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.assessments import service as assessments_service
from app.assessments.dependencies import AssessmentDep
from app.assessments.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentRevisionRead,
    AssessmentUpdate,
)
from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.idempotency.dependencies import IdempotencyDep
from app.patients.dependencies import PatientDep

router = APIRouter(tags=["assessments"])


@router.get(
    "/patients/{patient_id}/assessments",
    response_model=Page[AssessmentRead],
    responses=READ_RESPONSES,
)
async def list_assessments(
    session: SessionDep, actor: CurrentActor, patient: PatientDep, page: PageDep
) -> Page[AssessmentRead]:
    """List a patient's assessments, oldest first."""
    items, next_cursor = assessments_service.search(session, actor, patient, page)
    return Page(items=[AssessmentRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.post(
    "/patients/{patient_id}/assessments",
    response_model=AssessmentRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_assessment(
    session: SessionDep,
    actor: ClinicalActor,
    patient: PatientDep,
    data: AssessmentCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a draft assessment with its goals, findings and drivers."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    assessment = assessments_service.create(session, actor, patient, data)
    return idempotency.created(
        AssessmentRead.model_validate(assessment),
        f"/api/v1/assessments/{assessment.id}",
        assessment.version,
    )


@router.get("/assessments/{assessment_id}", response_model=AssessmentRead, responses=READ_RESPONSES)
async def read_assessment(assessment: AssessmentDep, response: Response) -> AssessmentRead:
    """Read one assessment."""
    set_etag(response, assessment.version)
    return AssessmentRead.model_validate(assessment)


@router.patch(
    "/assessments/{assessment_id}", response_model=AssessmentRead, responses=WRITE_RESPONSES
)
async def update_assessment(
    session: SessionDep,
    actor: ClinicalActor,
    assessment: AssessmentDep,
    data: AssessmentUpdate,
    version: IfMatch,
    response: Response,
) -> AssessmentRead:
    """Edit a draft, or amend a final assessment with a reason (the old version is kept)."""
    assessment = assessments_service.update(session, actor, assessment, data, version)
    set_etag(response, assessment.version)
    return AssessmentRead.model_validate(assessment)


@router.post(
    "/assessments/{assessment_id}/finalize",
    response_model=AssessmentRead,
    responses=WRITE_RESPONSES,
)
async def finalize_assessment(
    session: SessionDep,
    actor: ClinicalActor,
    assessment: AssessmentDep,
    version: IfMatch,
    response: Response,
) -> AssessmentRead:
    """Finalise a draft that has at least one driver and one functional goal."""
    assessment = assessments_service.finalize(session, actor, assessment, version)
    set_etag(response, assessment.version)
    return AssessmentRead.model_validate(assessment)


@router.get(
    "/assessments/{assessment_id}/revisions",
    response_model=Page[AssessmentRevisionRead],
    responses=READ_RESPONSES,
)
async def list_assessment_revisions(
    session: SessionDep, actor: CurrentActor, assessment: AssessmentDep, page: PageDep
) -> Page[AssessmentRevisionRead]:
    """List the earlier versions of an amended assessment, oldest first."""
    items, next_cursor = assessments_service.revisions(session, actor, assessment, page)
    return Page(
        items=[AssessmentRevisionRead.model_validate(r) for r in items], next_cursor=next_cursor
    )
