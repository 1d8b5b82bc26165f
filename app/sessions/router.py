"""Treatment sessions: under their plan to record and list, by id to read and amend."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.core.auth import ClinicalActor, CurrentActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.idempotency.dependencies import IdempotencyDep
from app.observations.schemas import ObservationRead
from app.plans.dependencies import PlanDep
from app.prescriptions.logs_schemas import ExerciseLogRead
from app.sessions import service as sessions_service
from app.sessions.dependencies import TreatmentSessionDep
from app.sessions.schemas import (
    AdjunctRead,
    SessionCreate,
    SessionRead,
    SessionSummary,
    SessionUpdate,
)
from app.sessions.service import SessionDetail

router = APIRouter(tags=["sessions"])


def _read(detail: SessionDetail) -> SessionRead:
    summary = SessionSummary.model_validate(detail.visit)
    return SessionRead(
        **summary.model_dump(),
        work=[ExerciseLogRead.model_validate(log) for log in detail.work],
        adjuncts=[AdjunctRead.model_validate(a) for a in detail.adjuncts],
        observations=[ObservationRead.model_validate(o) for o in detail.observations],
    )


@router.get("/plans/{plan_id}/sessions", response_model=Page[SessionRead], responses=READ_RESPONSES)
async def list_sessions(
    session: SessionDep, actor: CurrentActor, plan: PlanDep, page: PageDep
) -> Page[SessionRead]:
    """List a plan's sessions by number, each with its work, adjuncts and observations."""
    items, next_cursor = sessions_service.search(session, actor, plan, page)
    return Page(items=[_read(detail) for detail in items], next_cursor=next_cursor)


@router.post(
    "/plans/{plan_id}/sessions",
    response_model=SessionRead,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_session(
    session: SessionDep,
    actor: ClinicalActor,
    plan: PlanDep,
    data: SessionCreate,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a session: active work, passive adjuncts, pain and observations, all or nothing."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    detail = sessions_service.create(session, actor, plan, data)
    location = f"/api/v1/sessions/{detail.visit.id}"
    return idempotency.created(_read(detail), location, detail.visit.version)


@router.get("/sessions/{session_id}", response_model=SessionRead, responses=READ_RESPONSES)
async def read_session(
    session: SessionDep, visit: TreatmentSessionDep, response: Response
) -> SessionRead:
    """Read one session with its work, adjuncts and observations."""
    (detail,) = sessions_service.details(session, [visit])
    set_etag(response, visit.version)
    return _read(detail)


@router.patch("/sessions/{session_id}", response_model=SessionRead, responses=WRITE_RESPONSES)
async def update_session(
    session: SessionDep,
    actor: ClinicalActor,
    visit: TreatmentSessionDep,
    data: SessionUpdate,
    version: IfMatch,
    response: Response,
) -> SessionRead:
    """Amend a session's notes or pain after; the rest of the record stands as taken."""
    detail = sessions_service.update(session, actor, visit, data, version)
    set_etag(response, detail.visit.version)
    return _read(detail)
