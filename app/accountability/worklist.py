"""The worklist: active plans that need their clinician, most urgent first.

One statement per page whatever the number of plans. The urgency is stored on write
(`Plan.attention_rank`, app.accountability.service.refresh_attention) except for "overdue",
which only the calendar changes: the query folds it in from the stored `stage_due_on`, so a
stage that runs past its weeks is listed the next morning with no write. The rank read is

    CASE WHEN attention_rank > <overdue> AND stage_due_on < :today THEN <overdue>
         ELSE attention_rank END

and the keyset is (that rank, id). The index (clinic_id, status, attention_rank, id) finds the
clinic's active plans; the page is sorted on the folded rank.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, cast, literal, or_, select, tuple_
from sqlalchemy import String as SqlString
from sqlalchemy.orm import Session

from app.accountability.schemas import (
    AttentionCode,
    WorklistFlags,
    WorklistItemRead,
    WorklistReason,
)
from app.core.auth import Actor
from app.core.errors import Forbidden, InvalidInput
from app.core.pagination import PageParams
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import AttentionRank, Plan, PlanStatus, Stage


def _rank(today: date) -> ColumnElement[int]:
    overdue = and_(Plan.attention_rank > AttentionRank.overdue.value, Plan.stage_due_on < today)
    return case((overdue, AttentionRank.overdue.value), else_=Plan.attention_rank)


def search(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    clinician_id: uuid.UUID | None = None,
    code: AttentionCode | None = None,
    today: date | None = None,
) -> tuple[list[WorklistItemRead], str | None]:
    today = today or datetime.now(UTC).date()
    rank = _rank(today)
    statement = _statement(actor, rank).where(rank < AttentionRank.none.value)
    clinician_id = _clinician(actor, clinician_id)
    if clinician_id is not None:
        statement = statement.where(Plan.clinician_id == clinician_id)
    if code is not None:
        statement = statement.where(_has_code(code, today))
    if page.cursor:
        after_rank, after_id = _decode(page.cursor)
        after = tuple_(literal(after_rank), literal(after_id, Plan.id.type))
        statement = statement.where(tuple_(rank, Plan.id) > after)
    rows = session.execute(statement.order_by(rank, Plan.id).limit(page.limit + 1)).all()
    items = [_item(row, today) for row in rows[: page.limit]]
    more = len(rows) > page.limit
    return items, _encode(rows[page.limit - 1]) if more else None


def _statement(actor: Actor, rank: ColumnElement[int]) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Plan.id,
            Plan.patient_id,
            Patient.display_name,
            Plan.clinician_id,
            Plan.status,
            Plan.current_stage_id,
            Stage.name.label("stage_name"),
            Plan.stage_due_on,
            Plan.attention_codes,
            Plan.reassessment_due,
            Plan.ready_to_advance,
            Plan.ready_to_discharge,
            Plan.audited_at,
            rank.label("rank"),
        )
        .join(Patient, and_(Patient.clinic_id == Plan.clinic_id, Patient.id == Plan.patient_id))
        .outerjoin(
            Stage, and_(Stage.clinic_id == Plan.clinic_id, Stage.id == Plan.current_stage_id)
        )
        .where(Plan.clinic_id == actor.clinic_id, Plan.status == PlanStatus.active)
    )


def _clinician(actor: Actor, requested: uuid.UUID | None) -> uuid.UUID | None:
    """A clinician's worklist is their own plans; an admin or a key sees the clinic's."""
    if actor.role is not Role.clinician:
        return requested
    if requested is not None and requested != actor.user_id:
        raise Forbidden("A clinician's worklist shows their own plans only.")
    return actor.user_id


def _has_code(code: AttentionCode, today: date) -> ColumnElement[bool]:
    # The codes are stored as a JSON list: its text holds each code in double quotes.
    listed = cast(Plan.attention_codes, SqlString).contains(f'"{code}"', autoescape=True)
    if code is AttentionCode.MILESTONE_OVERDUE:  # and those the calendar made overdue since
        return or_(listed, Plan.stage_due_on < today)
    return listed


def _item(row: Row[Any], today: date) -> WorklistItemRead:
    reason = _REASONS[AttentionRank(row.rank)]
    flags = WorklistFlags(
        reassessment_due=row.reassessment_due,
        ready_to_advance=row.ready_to_advance,
        ready_to_discharge=row.ready_to_discharge,
        overdue=row.stage_due_on is not None and row.stage_due_on < today,
    )
    return WorklistItemRead(
        plan_id=row.id,
        patient_id=row.patient_id,
        patient_name=row.display_name,
        clinician_id=row.clinician_id,
        status=row.status,
        current_stage_id=row.current_stage_id,
        current_stage_name=row.stage_name,
        stage_due_on=row.stage_due_on,
        attention_codes=list(row.attention_codes),
        flags=flags,
        reason=reason,
        detail=_detail(reason, row),
        audited_at=row.audited_at,
    )


_REASONS = {
    AttentionRank.reassessment_due: WorklistReason.reassessment_due,
    AttentionRank.ready_to_advance: WorklistReason.ready_to_advance,
    AttentionRank.ready_to_discharge: WorklistReason.ready_to_discharge,
    AttentionRank.overdue: WorklistReason.overdue,
    AttentionRank.findings: WorklistReason.findings,
}


def _detail(reason: WorklistReason, row: Row[Any]) -> str:
    codes = ", ".join(row.attention_codes)
    if reason is WorklistReason.reassessment_due:
        return f"Reassessment due: a critical finding holds ({codes})."
    if reason is WorklistReason.ready_to_advance:
        return "Ready to advance: the current stage's criteria are all met."
    if reason is WorklistReason.ready_to_discharge:
        return "Ready to discharge: every discharge criterion is met."
    if reason is WorklistReason.overdue:
        return f"Overdue: the current stage was due on {row.stage_due_on.isoformat()}."
    return f"Findings to review: {codes}."


def _encode(row: Row[Any]) -> str:
    raw = json.dumps([row.rank, str(row.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, uuid.UUID]:
    try:
        rank, plan_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(rank), uuid.UUID(plan_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInput(
            "The cursor is not one this API issued.",
            errors=[{"parameter": "cursor", "in": "query", "detail": "malformed cursor"}],
        ) from exc
