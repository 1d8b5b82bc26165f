"""A plan's projection computed from the database: what the step stores and what a test
compares the stored one with. Nothing is written here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.accountability import facts as audit_facts
from app.accountability import service as accountability_service
from app.core.auth import Actor
from app.core.types import Role
from app.plans import reading
from app.plans.models import AttentionRank, Plan
from app.plans.progress_schemas import PlanProgress
from app.plans.schemas import PlanRead
from app.rules import plan_audit
from app.rules.timeline import stage_schedule

OVERDUE = AttentionRank.overdue.value
# The stored ranks the calendar can turn into overdue: those after it.
LATER = tuple(rank.value for rank in AttentionRank if rank > AttentionRank.overdue)


@dataclass(frozen=True)
class Computed:
    plan: Plan  # loaded with its tree
    progress: PlanProgress
    columns: dict[str, Any]  # the plan's stored attention and worklist entry


def system_actor(clinic_id: uuid.UUID) -> Actor:
    """The clinic itself: a projection reads every record of the plan, as an admin would."""
    return Actor(clinic_id=clinic_id, role=Role.admin)


def compute(
    session: Session, clinic_id: uuid.UUID, plan_id: uuid.UUID, *, now: datetime
) -> Computed:
    """The plan's evaluation, audit, attention and worklist entry, from the records as they
    stand in this transaction."""
    actor = system_actor(clinic_id)
    gathered = audit_facts.gather(session, actor, plan_id, now=now)
    findings = plan_audit.audit(gathered.facts, accountability_service.thresholds(session, actor))
    columns = accountability_service.attention(findings, gathered.progress)
    due_on = _stage_due_on(gathered.facts)
    columns |= stored_rank(columns["attention_rank"], due_on, now.date())
    columns |= {
        "audited_at": now,
        "stage_due_on": due_on,
        "program_signature": gathered.program_signature,
    }
    return Computed(gathered.plan, gathered.progress, columns)


def plan_read(
    session: Session, clinic_id: uuid.UUID, plan_id: uuid.UUID, *, now: datetime
) -> PlanRead:
    """The plan's response computed afresh, its audit included (the stored `reassessment_due`
    may be as stale as the rendering): what a read serves when the stored one is behind."""
    computed = compute(session, clinic_id, plan_id, now=now)
    rendered = reading.plan_read(session, computed.plan)
    return rendered.model_copy(update={"reassessment_due": computed.columns["reassessment_due"]})


def _stage_due_on(facts: plan_audit.PlanFacts) -> date | None:
    started, weeks = facts.current_stage_started_on, facts.current_stage_expected_weeks
    if started is None or weeks is None:
        return None
    return stage_schedule(started, weeks, facts.today).due_on


def stored_rank(rank: int, stage_due_on: date | None, today: date) -> dict[str, Any]:
    """What the projection stores for the worklist: the rank to list the plan at (overdue
    once its stage's due day has passed, unless something more urgent holds) and, while that
    day is still ahead of a plan stored at a later rank, the day (`pending_overdue_on`)."""
    if rank not in LATER or stage_due_on is None:
        return {"attention_rank": rank, "pending_overdue_on": None}
    if stage_due_on < today:
        return {"attention_rank": OVERDUE, "pending_overdue_on": None}
    return {"attention_rank": rank, "pending_overdue_on": stage_due_on}
