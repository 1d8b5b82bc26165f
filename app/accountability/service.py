"""The plan audit, and the plan's attention: the audit's outcome and its readiness, stored on the
plan when something it reads changes, so the plan's response and the worklist read a column.

Write services that change what the audit reads call `refresh_attention` (or `refresh_patient`)
after their last flush, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.accountability import facts as audit_facts
from app.accountability import worklist
from app.accountability.schemas import AuditFindingRead, AuditThresholdsRead, PlanAuditRead
from app.clinics.models import Clinic
from app.core.auth import Actor
from app.plans.models import AttentionRank, Plan, PlanStatus
from app.plans.progress_schemas import PlanProgress
from app.projections import renderings
from app.rules import plan_audit
from app.rules.timeline import stage_schedule

UNDER_WAY = (PlanStatus.active, PlanStatus.on_hold)
OPEN = (PlanStatus.draft, *UNDER_WAY)


def thresholds(session: Session, actor: Actor) -> plan_audit.AuditThresholds:
    """The clinic's audit thresholds: its own where it set them, the clinical model's defaults
    elsewhere."""
    own = session.scalar(select(Clinic.audit_thresholds).where(Clinic.id == actor.clinic_id))
    return plan_audit.AuditThresholds(**(own or {}))


def audit(session: Session, actor: Actor, plan_id: uuid.UUID) -> PlanAuditRead:
    """The plan's findings, evaluated now."""
    now = datetime.now(UTC)
    gathered = audit_facts.gather(session, actor, plan_id, now=now)
    used = thresholds(session, actor)
    findings = plan_audit.audit(gathered.facts, used)
    return PlanAuditRead(
        plan_id=gathered.plan.id,
        reassessment_due=plan_audit.reassessment_due(findings),
        reassessed_at=gathered.facts.reassessed_at,
        findings=[AuditFindingRead.model_validate(f) for f in findings],
        evaluated_at=now,
        thresholds=AuditThresholdsRead.model_validate(used),
    )


def attention(findings: Sequence[plan_audit.Finding], evaluation: PlanProgress) -> dict[str, Any]:
    """What the plan stores: its finding codes, its flags and how urgent it is."""
    codes = list(dict.fromkeys(f.code for f in findings))
    flags = {
        "reassessment_due": plan_audit.reassessment_due(findings),
        "ready_to_advance": evaluation.may_advance,
        "ready_to_discharge": evaluation.discharge_ready,
    }
    ranks = [AttentionRank[name] for name, raised in flags.items() if raised]
    if codes:
        ranks.append(AttentionRank.findings)
    rank = min(ranks, default=AttentionRank.none)
    return {"attention_codes": codes, **flags, "attention_rank": rank.value}


def refresh_attention(session: Session, actor: Actor, plan_id: uuid.UUID) -> None:
    """Audits the plan and evaluates its criteria again, stores the outcome on it, and
    renders its response and progress for reads (app.plans.documents).

    A bulk UPDATE, so the plan's version (its ETag) does not move: nothing a clinician wrote
    on the plan has changed, and their next If-Match must still match.
    """
    now = datetime.now(UTC)
    gathered = audit_facts.gather(session, actor, plan_id, now=now)
    plan = gathered.plan
    values = attention(
        plan_audit.audit(gathered.facts, thresholds(session, actor)), gathered.progress
    )
    due_on = _stage_due_on(gathered.facts)
    values |= worklist.stored_rank(values["attention_rank"], due_on, now.date())
    values |= {
        "audited_at": now,
        "stage_due_on": due_on,
        "program_signature": gathered.program_signature,
    }
    session.execute(
        update(Plan)
        .where(Plan.clinic_id == plan.clinic_id, Plan.id == plan.id)
        .values(**values, updated_at=Plan.updated_at),
        execution_options={"synchronize_session": "fetch"},
    )
    renderings.store(session, plan, gathered.progress)


def _stage_due_on(facts: plan_audit.PlanFacts) -> date | None:
    started, weeks = facts.current_stage_started_on, facts.current_stage_expected_weeks
    if started is None or weeks is None:
        return None
    return stage_schedule(started, weeks, facts.today).due_on


def refresh_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> None:
    """Refreshes the attention of the patient's plans under way (active or on hold)."""
    plan_ids = session.scalars(
        select(Plan.id).where(
            Plan.clinic_id == actor.clinic_id,
            Plan.patient_id == patient_id,
            Plan.status.in_(UNDER_WAY),
        )
    ).all()
    for plan_id in plan_ids:
        refresh_attention(session, actor, plan_id)


def refresh_clinic(session: Session, actor: Actor, *, audited_before: datetime) -> int:
    """Refreshes the clinic's open plans not audited since `audited_before` (or never), and
    says how many. For a daily job: some findings arrive with time alone (NOT_PROGRESSING, an
    old draft's NO_PLAN, MILESTONE_OVERDUE), and plans that predate the audit have none yet."""
    plan_ids = session.scalars(
        select(Plan.id).where(
            Plan.clinic_id == actor.clinic_id,
            Plan.status.in_(OPEN),
            or_(Plan.audited_at.is_(None), Plan.audited_at < audited_before),
        )
    ).all()
    for plan_id in plan_ids:
        refresh_attention(session, actor, plan_id)
    return len(plan_ids)
