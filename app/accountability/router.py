from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.accountability import service as accountability_service
from app.accountability import thresholds, worklist
from app.accountability.schemas import AttentionCode, PlanAuditRead, WorklistItemRead
from app.accountability.thresholds import AuditThresholdsUpdate, ClinicThresholdsRead
from app.core.auth import AdminActor, ClinicalActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.direct import BearerToken, DirectReadDep
from app.core.openapi import READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page

router = APIRouter(tags=["accountability"])


@router.get("/plans/{plan_id}/audit", response_model=PlanAuditRead, responses=READ_RESPONSES)
async def read_plan_audit(
    session: SessionDep, actor: ClinicalActor, plan_id: uuid.UUID
) -> PlanAuditRead:
    """Audit a plan for the four ways rehabilitation fails, evaluated now."""
    return accountability_service.audit(session, actor, plan_id)


@router.get("/worklist", response_model=Page[WorklistItemRead], responses=READ_RESPONSES)
async def read_worklist(
    reader: DirectReadDep,
    token: BearerToken,
    page: PageDep,
    clinician_id: uuid.UUID | None = None,
    code: AttentionCode | None = None,
) -> Response:
    """List the caller's active plans that need attention, most urgent first."""
    body = worklist.read(reader, token, page, clinician_id=clinician_id, code=code)
    return Response(body, media_type="application/json")


@router.get(
    "/clinic/audit-thresholds", response_model=ClinicThresholdsRead, responses=READ_RESPONSES
)
async def read_audit_thresholds(
    session: SessionDep, actor: ClinicalActor, response: Response
) -> ClinicThresholdsRead:
    """Read the clinic's audit thresholds: its own values and the defaults."""
    answer = thresholds.read(session, actor)
    set_etag(response, answer.version)
    return answer


@router.put(
    "/clinic/audit-thresholds", response_model=ClinicThresholdsRead, responses=WRITE_RESPONSES
)
async def replace_audit_thresholds(
    session: SessionDep,
    actor: AdminActor,
    data: AuditThresholdsUpdate,
    version: IfMatch,
    response: Response,
) -> ClinicThresholdsRead:
    """Set the clinic's audit thresholds (admins); omitted values return to the defaults."""
    answer = thresholds.replace(session, actor, data, version)
    set_etag(response, answer.version)
    return answer
