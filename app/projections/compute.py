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
from app.accountability import worklist
from app.core.auth import Actor
from app.core.types import Role
from app.plans.models import Plan
from app.plans.progress_schemas import PlanProgress
from app.rules import plan_audit
from app.rules.timeline import stage_schedule


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
    columns |= worklist.stored_rank(columns["attention_rank"], due_on, now.date())
    columns |= {
        "audited_at": now,
        "stage_due_on": due_on,
        "program_signature": gathered.program_signature,
    }
    return Computed(gathered.plan, gathered.progress, columns)


def _stage_due_on(facts: plan_audit.PlanFacts) -> date | None:
    started, weeks = facts.current_stage_started_on, facts.current_stage_expected_weeks
    if started is None or weeks is None:
        return None
    return stage_schedule(started, weeks, facts.today).due_on
