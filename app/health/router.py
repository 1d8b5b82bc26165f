from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.auth import SessionDep
from app.core.errors import ServiceUnavailable
from app.core.migrations import head_revision
from app.core.openapi import problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    migration: str | None = None


@router.get("/healthz", response_model=Health)
async def check_liveness() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=problem_responses(503))
async def check_readiness(session: SessionDep) -> Health:
    """The database answers and its schema is at the migrations' head."""
    try:
        current = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        raise ServiceUnavailable("The database does not answer or is not migrated.") from exc
    if current != head_revision():
        raise ServiceUnavailable(f"The database is at {current}, not at {head_revision()}.")
    return Health(status="ready", migration=current)
