"""The plan audit and the worklist, as the API shows them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from app.core.schemas import Schema
from app.plans.models import PlanStatus
from app.rules.plan_audit import Severity


class AttentionCode(StrEnum):
    """The audit's finding codes (app.rules.plan_audit)."""

    PASSIVE_ONLY = "PASSIVE_ONLY"
    NOT_PROGRESSING = "NOT_PROGRESSING"
    NOT_INDIVIDUALISED = "NOT_INDIVIDUALISED"
    PAIN_ONLY_DISCHARGE = "PAIN_ONLY_DISCHARGE"
    NO_PLAN = "NO_PLAN"
    MILESTONE_OVERDUE = "MILESTONE_OVERDUE"
    OVER_SESSION_ESTIMATE = "OVER_SESSION_ESTIMATE"
    STALLED = "STALLED"
    NO_RECENT_MEASUREMENT = "NO_RECENT_MEASUREMENT"


class AuditFindingRead(Schema):
    code: str = Field(examples=["STALLED"])
    severity: Severity
    message: str
    evidence: dict[str, Any] = Field(description="The records and figures the finding rests on.")


class AuditThresholdsRead(Schema):
    """The thresholds the audit used: the clinic's own where it set them, else the defaults."""

    not_progressing_days: int
    passive_recent_sessions: int
    passive_share: float
    stalled_observations: int
    stalled_min_days: int
    no_recent_measurement_sessions: int
    draft_max_days: int
    sessions_without_plan: int


class PlanAuditRead(Schema):
    plan_id: uuid.UUID
    reassessment_due: bool = Field(description="true while any critical finding holds.")
    reassessed_at: datetime | None = Field(
        description="The latest finalised reassessment of the plan: what came before it no "
        "longer counts for STALLED, NOT_PROGRESSING and NO_RECENT_MEASUREMENT."
    )
    findings: list[AuditFindingRead] = Field(description="Most severe first.")
    evaluated_at: datetime
    thresholds: AuditThresholdsRead


class WorklistReason(StrEnum):
    """Why a plan is listed, most urgent first."""

    reassessment_due = "reassessment_due"
    ready_to_advance = "ready_to_advance"
    ready_to_discharge = "ready_to_discharge"
    overdue = "overdue"
    findings = "findings"


class WorklistFlags(Schema):
    reassessment_due: bool
    ready_to_advance: bool = Field(description="The current stage's criteria are all met.")
    ready_to_discharge: bool = Field(description="Every discharge criterion is met.")
    overdue: bool = Field(description="The current stage has run past its expected weeks.")


class WorklistItemRead(Schema):
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    clinician_id: uuid.UUID
    status: PlanStatus
    current_stage_id: uuid.UUID | None
    current_stage_name: str | None
    stage_due_on: date | None
    attention_codes: list[str] = Field(description="The audit's finding codes, most severe first.")
    flags: WorklistFlags
    reason: WorklistReason
    detail: str = Field(description="The reason, in words.")
    audited_at: datetime | None = Field(description="When the stored audit was last computed.")
