from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service as audit_service
from app.audit.schemas import AuditEventRead
from app.core.auth import AdminActor, SessionDep
from app.core.openapi import READ_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.core.types import AwareTimestamp, NoNul

router = APIRouter(prefix="/audit-events", tags=["audit"])


@router.get("", response_model=Page[AuditEventRead], responses=READ_RESPONSES)
async def list_audit_events(
    session: SessionDep,
    actor: AdminActor,
    page: PageDep,
    entity_type: Annotated[
        str | None, Query(max_length=40, description="e.g. `patient`, `user`, `api_key`."), NoNul
    ] = None,
    entity_id: uuid.UUID | None = None,
    since: Annotated[
        AwareTimestamp | None, Query(description="At or after this time (with a UTC offset).")
    ] = None,
    until: Annotated[
        AwareTimestamp | None, Query(description="Before this time (with a UTC offset).")
    ] = None,
) -> Page[AuditEventRead]:
    """List the clinic's audit events, oldest first."""
    items, next_cursor = audit_service.search(
        session, actor, page, entity_type=entity_type, entity_id=entity_id, since=since, until=until
    )
    return Page(items=[AuditEventRead.model_validate(e) for e in items], next_cursor=next_cursor)
