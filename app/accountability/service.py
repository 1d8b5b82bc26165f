"""The plan audit, and the plan's attention: the audit's outcome and its readiness, which the
projection step (app.projections) stores on the plan, so the plan's response and the worklist
read a column."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accountability import facts as audit_facts
from app.accountability.schemas import AuditFindingRead, AuditThresholdsRead, PlanAuditRead
from app.clinics.models import Clinic
from app.core.auth import Actor
from app.plans.models import AttentionRank
from app.plans.progress_schemas import PlanProgress
from app.rules import plan_audit


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
