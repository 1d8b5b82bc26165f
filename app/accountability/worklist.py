"""The worklist: active plans that need their clinician, most urgent first.

A page is one statement whose cost does not grow with the clinic: index-ordered range scans,
a primary-key lookup per listed plan for its names, nothing sorted but the page itself. The
keyset is (rank, plan id).

The urgency is stored on write (`Plan.attention_rank`, app.projections), "overdue" included:
a plan audited after its current stage's due day is stored at rank overdue. Only the calendar
makes a plan overdue after its audit: one stored at a later rank keeps that due day in
`pending_overdue_on`, and once the day has passed the page lists it at overdue all the same,
until its next audit (any write, or the daily `rehab housekeeping`) stores it so. The page is
the union of, each limited to the page:

1. the stored order, skipping those plans: (attention_rank, id) in the order of
   ix_plans_clinic_id_status_attention_rank, or for one clinician of
   ix_plans_clinic_id_status_clinician_id_attention_rank;
2. those plans, at overdue, by id: a range of ix_plans_clinic_id_status_pending_overdue_on that
   holds only the plans overdue since their audit, at most a day's worth when housekeeping
   runs (and its statistics say so to PostgreSQL's planner).

Filtering by code reads the stored order until the page is full: flat for the common codes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Date,
    Integer,
    RowMapping,
    Select,
    Uuid,
    bindparam,
    cast,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy import String as SqlString

from app.accountability.schemas import AttentionCode, WorklistItemRead, WorklistReason
from app.clinics.models import Clinic
from app.core import caller, direct
from app.core.auth import CLINICAL_ROLES, Actor, ensure_role
from app.core.errors import Forbidden, ServiceUnavailable, Unauthorized
from app.core.pagination import InvalidCursor, PageParams, decode_cursor, encode_cursor
from app.core.schemas import Page
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import UNDER_WAY, AttentionRank, Plan, PlanStatus, Stage
from app.projections import catch_up, clinic
from app.projections.compute import OVERDUE

NONE = AttentionRank.none.value

plans, patients, stages = Plan.__table__, Patient.__table__, Stage.__table__
clinics = Clinic.__table__
WorklistPage = Page[WorklistItemRead]
PAGE = TypeAdapter(WorklistPage)


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
    """The page as JSON: the caller checked as ClinicalActor checks them (one statement on the
    driver's connection), then the page (one statement in a read transaction)."""
    given = caller.credentials(token)
    row = reader.fetch_one(_WITH_STALENESS[given.statement is caller.KEY], given.params)
    if row is None:
        raise Unauthorized(caller.INVALID)
    actor = ensure_role(Actor.from_row(row), CLINICAL_ROLES)
    if row["projections_stale"]:
        _bring_current(reader, actor.clinic_id)
    with reader.session() as session:
        found = search(session.connection(), actor, page, clinician_id=clinician_id, code=code)
    return PAGE.dump_json(found)


def _with_staleness(statement: Select[Any]) -> Select[Any]:
    """The caller, and whether a clinic-wide change has left plans of their clinic under way
    projected with older inputs (an empty range of ix_plans_clinic_id_projected_inputs_version
    when none has)."""
    found = statement.subquery("c")
    current = (
        select(clinics.c.inputs_version).where(clinics.c.id == found.c.clinic_id).scalar_subquery()
    )
    stale = (
        select(plans.c.id)
        .where(
            plans.c.clinic_id == found.c.clinic_id,
            plans.c.projected_inputs_version < current,
            # Rendered in the SQL: the direct reads' statements take no expanding parameters.
            plans.c.status.in_([literal_column(f"'{status.value}'") for status in UNDER_WAY]),
        )
        .exists()
    )
    return select(found, stale.label("projections_stale"))


# By whether the caller is an integration key.
_WITH_STALENESS = {False: _with_staleness(caller.USER), True: _with_staleness(caller.KEY)}


def _bring_current(reader: direct.DirectRead, clinic_id: uuid.UUID) -> None:
    """The clinic's stale plans under way projected before the page is read: a batch per
    request, and a 503 to retry while more remain (rehab housekeeping drains them too)."""
    with reader.write_session() as session:
        done = catch_up.under_way(session, clinic_id, limit=clinic.BATCH)
    if not done:
        raise ServiceUnavailable(
            "The worklist is being recomputed after a change to the clinic's audit thresholds "
            "or measures; retry shortly.",
            headers={"Retry-After": "2"},
        )


def search(
    connection: Connection,
    actor: Actor,
    page: PageParams,
    *,
    clinician_id: uuid.UUID | None = None,
    code: AttentionCode | None = None,
    today: date | None = None,
) -> WorklistPage:
    """A page of the worklist, with the next page's cursor."""
    today = today or datetime.now(UTC).date()
    clinician_id = _clinician(actor, clinician_id)
    after = _after(page.cursor) if page.cursor else None
    statement = _statement(clinician_id is not None, code, _resume(after))
    params: dict[str, Any] = {"clinic_id": actor.clinic_id, "today": today}
    params |= {"page_limit": page.limit + 1, "clinician_id": clinician_id}
    if after is not None:
        params |= {"after_rank": after.rank, "after_id": after.plan_id}
    # Each branch arrives in its order; the page is their merge (a sort of two short runs).
    rows = sorted(connection.execute(statement, params).mappings(), key=_key)
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = encode_cursor(_key(rows[-1])) if more else None
    items = [_item(row, today) for row in rows]
    return PAGE.validate_python({"items": items, "next_cursor": next_cursor})


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


# The names each come from one primary-key lookup per listed plan (a correlated subquery), so
# that no plan of the planner's can read the clinic's patients or stages to join them.
_PATIENT_NAME = (
    select(patients.c.display_name)
    .where(patients.c.clinic_id == plans.c.clinic_id, patients.c.id == plans.c.patient_id)
    .scalar_subquery()
)
_STAGE_NAME = (
    select(stages.c.name)
    .where(stages.c.clinic_id == plans.c.clinic_id, stages.c.id == plans.c.current_stage_id)
    .scalar_subquery()
)
COLUMNS = (
    plans.c.id.label("plan_id"),
    plans.c.patient_id,
    _PATIENT_NAME.label("patient_name"),
    plans.c.clinician_id,
    plans.c.status,
    plans.c.current_stage_id,
    _STAGE_NAME.label("current_stage_name"),
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
    pending = plans.c.pending_overdue_on
    stored = _branch(plans.c.attention_rank, by_clinician, code).where(
        plans.c.attention_rank < literal_column(str(NONE), Integer),
        or_(pending.is_(None), pending >= today),
    )
    after_id = bindparam("after_id", type_=Uuid())
    if resume != "start":
        after = (bindparam("after_rank", type_=Integer), after_id)
        stored = stored.where(tuple_(plans.c.attention_rank, plans.c.id) > tuple_(*after))
    branches = [stored.order_by(plans.c.attention_rank, plans.c.id)]
    if resume != "past":  # the plans overdue since their audit, listed at overdue by id
        rank = literal_column(str(OVERDUE), Integer)
        overdue = _branch(rank, by_clinician, code).where(pending < today)
        if resume == "at":
            overdue = overdue.where(plans.c.id > after_id)
        branches.append(overdue.order_by(plans.c.id))
    limit = bindparam("page_limit", type_=Integer)
    return union_all(*(select(*b.limit(limit).subquery().c) for b in branches))


def _branch(
    rank: ColumnElement[int], by_clinician: bool, code: AttentionCode | None
) -> Select[*tuple[Any, ...]]:
    statement: Select[*tuple[Any, ...]] = (
        select(*COLUMNS, rank.label("rank"))
        .select_from(plans)
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


def _key(row: RowMapping) -> tuple[int, uuid.UUID]:
    return row["rank"], row["plan_id"]


def _item(row: RowMapping, today: date) -> dict[str, Any]:
    """A WorklistItemRead's fields: the columns (labelled as its fields; it ignores the rest),
    its flags, and why it is listed."""
    reason, due = REASONS[row["rank"]], row["stage_due_on"]
    flags = {
        "reassessment_due": row["reassessment_due"],
        "ready_to_advance": row["ready_to_advance"],
        "ready_to_discharge": row["ready_to_discharge"],
        "overdue": due is not None and due < today,
    }
    detail = _detail(reason, row["attention_codes"], due)
    return {**row, "flags": flags, "reason": reason, "detail": detail}


REASONS = {
    AttentionRank.reassessment_due.value: WorklistReason.reassessment_due,
    AttentionRank.ready_to_advance.value: WorklistReason.ready_to_advance,
    AttentionRank.ready_to_discharge.value: WorklistReason.ready_to_discharge,
    AttentionRank.overdue.value: WorklistReason.overdue,
    AttentionRank.findings.value: WorklistReason.findings,
}


def _detail(reason: WorklistReason, codes: list[str], due: date | None) -> str:
    if reason is WorklistReason.reassessment_due:
        return f"Reassessment due: a critical finding holds ({', '.join(codes)})."
    if reason is WorklistReason.ready_to_advance:
        return "Ready to advance: the current stage's criteria are all met."
    if reason is WorklistReason.ready_to_discharge:
        return "Ready to discharge: every discharge criterion is met."
    if reason is WorklistReason.overdue:
        return f"Overdue: the current stage was due on {due}."
    return f"Findings to review: {', '.join(codes)}."


def _after(cursor: str) -> Cursor:
    rank, plan_id = decode_cursor(cursor, (int, uuid.UUID))
    if not 0 <= rank <= NONE:
        raise InvalidCursor
    return Cursor(rank, plan_id)
