"""The worklist: active plans that need their clinician, most urgent first.

A page is one statement whose cost does not grow with the clinic: index-ordered range scans,
and nothing sorted but the page itself. The keyset is (rank, plan id).

The urgency is stored on write (`Plan.attention_rank`, refresh_attention), "overdue" included:
a plan audited after its current stage's due day is stored at rank overdue. Only the calendar
makes a plan overdue after its audit. Such a plan (stored at a later rank, `stage_due_on`
before today) is listed at overdue all the same, until its next audit (any write, or the daily
`rehab housekeeping`) stores it so. The page is the union of, each limited to the page:

1. the stored order, skipping those plans: (attention_rank, id) in the order of
   ix_plans_clinic_id_status_attention_rank (for one clinician, their few plans sorted);
2. those plans, at overdue, by id: a range of
   ix_plans_clinic_id_status_attention_rank_stage_due_on holding only the plans overdue since
   their audit, at most a day's worth when housekeeping runs.

Filtering by code reads the stored order until the page is full: flat for the common codes.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Date,
    Integer,
    Row,
    Select,
    Uuid,
    and_,
    bindparam,
    cast,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy import String as SqlString

from app.accountability.schemas import (
    AttentionCode,
    WorklistItemOut,
    WorklistReason,
    worklist_page_json,
)
from app.core import direct
from app.core.auth import Actor
from app.core.errors import Forbidden, InvalidInput, Unauthorized
from app.core.pagination import PageParams
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import AttentionRank, Plan, PlanStatus, Stage

OVERDUE = AttentionRank.overdue.value
NONE = AttentionRank.none.value
# The stored ranks the calendar can turn into overdue: those after it.
LATER = tuple(rank.value for rank in AttentionRank if rank > AttentionRank.overdue)

READERS = frozenset({Role.admin, Role.clinician, Role.integration})

plans, patients, stages = Plan.__table__, Patient.__table__, Stage.__table__


def rank_on(rank: int, stage_due_on: date | None, today: date) -> int:
    """The rank to list a plan at on `today`: overdue once its stage's due day has passed,
    unless something more urgent holds. refresh_attention stores it; a page reads it."""
    if rank in LATER and stage_due_on is not None and stage_due_on < today:
        return OVERDUE
    return rank


@dataclass(frozen=True)
class Cursor:
    rank: int
    plan_id: uuid.UUID


def read(
    reader: direct.DirectRead,
    token: str | None,
    page: PageParams,
    *,
    clinician_id: uuid.UUID | None = None,
    code: AttentionCode | None = None,
) -> bytes:
    """The page as JSON: the caller checked (one statement on the driver's connection), then
    the page (one statement), rendered without the ORM or validation."""
    actor = _caller(reader, token)
    today = datetime.now(UTC).date()
    with reader.session() as session:
        rows, next_cursor = search(
            session.connection(), actor, page, clinician_id=clinician_id, code=code, today=today
        )
    return worklist_page_json([item(row, today) for row in rows], next_cursor)


def _caller(reader: direct.DirectRead, token: str | None) -> Actor:
    """As ClinicalActor: 401 for missing or revoked credentials, 403 for a patient."""
    caller = direct.credentials(token)
    row = reader.fetch_one(caller.sql, caller.params)
    if row is None:
        raise Unauthorized("The credentials are invalid, expired or revoked.")
    actor = direct.actor(row)
    if actor.role not in READERS:
        raise Forbidden(f"The {actor.role} role may not do this.")
    return actor


def search(
    connection: Connection,
    actor: Actor,
    page: PageParams,
    *,
    clinician_id: uuid.UUID | None = None,
    code: AttentionCode | None = None,
    today: date | None = None,
) -> tuple[Sequence[Row[Any]], str | None]:
    """A page of the worklist as rows (`columns` and `rank`), and the next page's cursor."""
    today = today or datetime.now(UTC).date()
    clinician_id = _clinician(actor, clinician_id)
    after = _decode(page.cursor) if page.cursor else None
    statement = _statement(clinician_id is not None, code, _resume(after))
    params: dict[str, Any] = {"clinic_id": actor.clinic_id, "today": today}
    params |= {"page_limit": page.limit + 1, "clinician_id": clinician_id}
    if after is not None:
        params |= {"after_rank": after.rank, "after_id": after.plan_id}
    rows = connection.execute(statement, params).all()
    more = len(rows) > page.limit
    return rows[: page.limit], _encode(rows[page.limit - 1]) if more else None


def _clinician(actor: Actor, requested: uuid.UUID | None) -> uuid.UUID | None:
    """A clinician's worklist is their own plans; an admin or a key sees the clinic's."""
    if actor.role is not Role.clinician:
        return requested
    if requested is not None and requested != actor.user_id:
        raise Forbidden("A clinician's worklist shows their own plans only.")
    return actor.user_id


def _resume(after: Cursor | None) -> str:
    """Where the cursor stands against overdue: "start" (no cursor), "before", "at", "past"."""
    if after is None:
        return "start"
    if after.rank == OVERDUE:
        return "at"
    return "before" if after.rank < OVERDUE else "past"


COLUMNS = (
    plans.c.id,
    plans.c.patient_id,
    patients.c.display_name,
    plans.c.clinician_id,
    plans.c.status,
    plans.c.current_stage_id,
    stages.c.name.label("stage_name"),
    plans.c.stage_due_on,
    plans.c.attention_codes,
    plans.c.reassessment_due,
    plans.c.ready_to_advance,
    plans.c.ready_to_discharge,
    plans.c.audited_at,
)


@cache
def _statement(by_clinician: bool, code: AttentionCode | None, resume: str) -> CompoundSelect[Any]:
    """Built once per shape; every value is a bound parameter."""
    today = bindparam("today", type_=Date)
    late = and_(plans.c.attention_rank.in_(LATER), plans.c.stage_due_on < today)
    on_time = or_(
        plans.c.attention_rank.not_in(LATER),
        plans.c.stage_due_on.is_(None),
        plans.c.stage_due_on >= today,
    )
    stored = _branch(plans.c.attention_rank, by_clinician, code).where(
        plans.c.attention_rank < NONE, on_time
    )
    after_id = bindparam("after_id", type_=Uuid())
    if resume != "start":
        after = (bindparam("after_rank", type_=Integer), after_id)
        stored = stored.where(tuple_(plans.c.attention_rank, plans.c.id) > tuple_(*after))
    branches = [stored.order_by(plans.c.attention_rank, plans.c.id)]
    if resume != "past":  # the plans overdue since their audit, listed at overdue by id
        overdue = _branch(literal(OVERDUE, Integer), by_clinician, code).where(late)
        if resume == "at":
            overdue = overdue.where(plans.c.id > after_id)
        branches.append(overdue.order_by(plans.c.id))
    limit = bindparam("page_limit", type_=Integer)
    parts = [select(*b.limit(limit).subquery().c) for b in branches]
    page = union_all(*parts)
    return page.order_by(page.selected_columns.rank, page.selected_columns.id).limit(limit)


def _branch(
    rank: ColumnElement[int], by_clinician: bool, code: AttentionCode | None
) -> Select[Any]:
    statement = (
        select(*COLUMNS, rank.label("rank"))
        .select_from(
            plans.join(
                patients,
                and_(
                    patients.c.clinic_id == plans.c.clinic_id, patients.c.id == plans.c.patient_id
                ),
            ).outerjoin(
                stages,
                and_(
                    stages.c.clinic_id == plans.c.clinic_id, stages.c.id == plans.c.current_stage_id
                ),
            )
        )
        .where(
            plans.c.clinic_id == bindparam("clinic_id", type_=Uuid()),
            plans.c.status == PlanStatus.active,
        )
    )
    if by_clinician:
        statement = statement.where(plans.c.clinician_id == bindparam("clinician_id", type_=Uuid()))
    if code is not None:
        statement = statement.where(_has_code(code))
    return statement


def _has_code(code: AttentionCode) -> ColumnElement[bool]:
    # The codes are stored as a JSON list: its text holds each code in double quotes.
    listed = cast(plans.c.attention_codes, SqlString).contains(f'"{code}"', autoescape=True)
    if code is AttentionCode.MILESTONE_OVERDUE:  # and those the calendar made overdue since
        return or_(listed, plans.c.stage_due_on < bindparam("today", type_=Date))
    return listed


def item(row: Row[Any], today: date) -> WorklistItemOut:
    """A row as a WorklistItemRead's fields (app.accountability.schemas renders them)."""
    reason = REASONS[row.rank]
    return {
        "plan_id": row.id,
        "patient_id": row.patient_id,
        "patient_name": row.display_name,
        "clinician_id": row.clinician_id,
        "status": row.status,
        "current_stage_id": row.current_stage_id,
        "current_stage_name": row.stage_name,
        "stage_due_on": row.stage_due_on,
        "attention_codes": row.attention_codes,
        "flags": {
            "reassessment_due": row.reassessment_due,
            "ready_to_advance": row.ready_to_advance,
            "ready_to_discharge": row.ready_to_discharge,
            "overdue": row.stage_due_on is not None and row.stage_due_on < today,
        },
        "reason": reason,
        "detail": _detail(reason, row),
        "audited_at": row.audited_at,
    }


REASONS = {
    AttentionRank.reassessment_due.value: WorklistReason.reassessment_due,
    AttentionRank.ready_to_advance.value: WorklistReason.ready_to_advance,
    AttentionRank.ready_to_discharge.value: WorklistReason.ready_to_discharge,
    AttentionRank.overdue.value: WorklistReason.overdue,
    AttentionRank.findings.value: WorklistReason.findings,
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


def _decode(cursor: str) -> Cursor:
    try:
        rank, plan_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not 0 <= int(rank) <= NONE:
            raise ValueError("no such rank")
        return Cursor(int(rank), uuid.UUID(plan_id))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInput(
            "The cursor is not one this API issued.",
            errors=[{"parameter": "cursor", "in": "query", "detail": "malformed cursor"}],
        ) from exc
