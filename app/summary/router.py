"""The patient's plan summary, as JSON for the app and as a printable page."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.core.auth import CurrentActor, SessionDep
from app.core.openapi import READ_RESPONSES
from app.summary import service as summary_service
from app.summary.html import CSP
from app.summary.schemas import SummaryRead

router = APIRouter(prefix="/plans/{plan_id}", tags=["summary"])

PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A standalone HTML document: inline CSS and SVG, no script, "
        "no external resource; printable.",
        "content": {
            "text/html": {
                "schema": {"type": "string"},
                "example": '<!DOCTYPE html><html lang="en">...</html>',
            }
        },
    },
    **READ_RESPONSES,
}


@router.get("/summary", response_model=SummaryRead, responses=READ_RESPONSES)
async def read_plan_summary(
    session: SessionDep, actor: CurrentActor, plan_id: uuid.UUID
) -> SummaryRead:
    """What the examination found, the plan's stages and criteria, discharge, the program."""
    return summary_service.get(session, actor, plan_id)


@router.get("/summary.html", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def read_plan_summary_page(
    session: SessionDep, actor: CurrentActor, plan_id: uuid.UUID
) -> HTMLResponse:
    """The plan summary as a printable page, with a chart of each criterion over time."""
    return HTMLResponse(summary_service.page(session, actor, plan_id), headers=PAGE_HEADERS)
