"""A plan's lifecycle: activate, advance, hold, resume, discharge, cancel.

Each transition checks the plan's version (If-Match), its state and its gate, then records one
PlanEvent (who, when, why, from, to, override, and the evaluation behind it) and one audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, InvalidInput, field_error
from app.measures.models import Measure, MeasureCategory
from app.plans import progress, queries
from app.plans.models import OPEN, UNDER_WAY, Plan, PlanEvent, PlanStatus, Stage
from app.plans.progress_schemas import PlanProgress, PlanTransitionRead, StageState
from app.plans.schemas import AdvanceRequest, DischargeRequest, PlanEventRead, ReasonRequest
from app.rules.criteria import Status

HISTORY_LIMIT = 500
TIMELINE_FIELDS = ("expected_sessions_min", "expected_sessions_max", "expected_end_on")


@dataclass(frozen=True)
class _Context:
    plan: Plan
    from_status: PlanStatus
    evidence: progress.Evidence
    before: PlanProgress
    now: datetime


def _begin(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    expected_version: int,
    allowed: Collection[PlanStatus],
    verb: str,
) -> _Context:
    plan = queries.get_plan(session, actor, plan_id, tree=True)
    check_version(plan.version, expected_version)
    if plan.status not in allowed:
        states = " or ".join(sorted(allowed))
        raise Conflict(f"Only a plan that is {states} can be {verb}; this one is {plan.status}.")
    evidence = progress.gather(session, actor, plan)
    now = datetime.now(UTC)
    return _Context(plan, plan.status, evidence, progress.build(plan, evidence, now=now), now)


def _snapshot(before: PlanProgress, **extra: Any) -> dict[str, Any]:
    """The evaluation the decision was taken on, as it stood before the transition."""
    return {
        **extra,
        "evaluated_at": before.evaluated_at.isoformat(),
        "may_advance": before.may_advance,
        "discharge_ready": before.discharge_ready,
        "stage": next(
            (s.model_dump(mode="json") for s in before.stages if s.state is StageState.current),
            None,
        ),
        "discharge": [e.model_dump(mode="json") for e in before.discharge],
    }


def _record(
    session: Session,
    actor: Actor,
    ctx: _Context,
    action: str,
    *,
    reason: str | None = None,
    override: bool = False,
    **details: Any,
) -> PlanTransitionRead:
    """One PlanEvent and one audit event; the plan's version moves."""
    plan = ctx.plan
    queries.touch(plan)
    event = PlanEvent(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        at=ctx.now,
        action=action,
        from_status=ctx.from_status,
        to_status=plan.status,
        actor_type=actor.kind,
        actor_id=actor.id,
        reason=reason,
        override=override,
        details=_snapshot(ctx.before, **details),
    )
    session.add(event)
    session.flush()
    summary = {"from": ctx.from_status, "to": plan.status, "override": override}
    audit_service.record(session, actor, action, "plan", plan.id, details=summary)
    return _answer(plan, event, progress.build(plan, ctx.evidence, now=ctx.now))


def _answer(plan: Plan, event: PlanEvent, after: PlanProgress) -> PlanTransitionRead:
    return PlanTransitionRead(
        plan_id=plan.id,
        status=plan.status,
        current_stage_id=plan.current_stage_id,
        activated_at=plan.activated_at,
        ended_at=plan.ended_at,
        against_criteria=plan.against_criteria,
        end_reason=plan.end_reason,
        discharge_override_category=plan.discharge_override_category,
        version=plan.version,
        event=PlanEventRead.model_validate(event),
        progress=after,
    )


def activation_gaps(plan: Plan, measures: dict[uuid.UUID, Measure]) -> list[dict[str, str]]:
    """Every reason the plan cannot become active yet, each with a pointer into the plan."""
    gaps = []
    if not plan.driver_links:
        gaps.append(field_error("/driver_ids", "the plan targets no driver of its assessment"))
    if not plan.stages:
        gaps.append(field_error("/stages", "the plan has no stage"))
    for index, stage in enumerate(plan.stages):
        if not stage.criteria:
            detail = f"stage {stage.name!r} has no progression criterion"
            gaps.append(field_error(f"/stages/{index}/criteria", detail))
    categories = {measures[c.measure_id].category for c in plan.discharge_criteria}
    if not categories:
        gaps.append(field_error("/discharge_criteria", "the plan has no discharge criterion"))
    elif categories == {MeasureCategory.pain}:
        detail = "the discharge criteria are only about pain; add a functional one"
        gaps.append(field_error("/discharge_criteria", detail))
    missing = [name for name in TIMELINE_FIELDS if getattr(plan, name) is None]
    if missing:
        gaps.append(field_error("/timeline", f"the plan has no timeline: {', '.join(missing)}"))
    return gaps


def activate(
    session: Session, actor: Actor, plan_id: uuid.UUID, expected_version: int
) -> PlanTransitionRead:
    ctx = _begin(session, actor, plan_id, expected_version, {PlanStatus.draft}, "activated")
    plan = ctx.plan
    gaps = activation_gaps(plan, ctx.evidence.measures)
    if gaps:
        raise InvalidInput("The plan is not ready to become active.", errors=gaps)
    first = plan.stages[0]
    plan.status = PlanStatus.active
    plan.activated_at = ctx.now
    plan.current_stage_id = first.id
    first.started_on = ctx.now.date()
    return _record(session, actor, ctx, "activate", to_stage_id=str(first.id))


def _current_and_next(plan: Plan) -> tuple[Stage, Stage]:
    ids = [stage.id for stage in plan.stages]
    if plan.current_stage_id not in ids:
        raise Conflict("The plan has no current stage to advance from.")
    index = ids.index(plan.current_stage_id)
    if index + 1 == len(ids):
        raise Conflict("This is the plan's last stage: discharge the patient instead.")
    return plan.stages[index], plan.stages[index + 1]


def advance(
    session: Session, actor: Actor, plan_id: uuid.UUID, data: AdvanceRequest, expected_version: int
) -> PlanTransitionRead:
    ctx = _begin(session, actor, plan_id, expected_version, {PlanStatus.active}, "advanced")
    stage, following = _current_and_next(ctx.plan)
    evaluation = next(s for s in ctx.before.stages if s.stage_id == stage.id)
    if not evaluation.all_met and data.override_reason is None:
        raise Conflict(
            f"Stage {stage.name!r} may not advance: its criteria are not all met.",
            evaluation=evaluation.model_dump(mode="json"),
        )
    stage.completed_at = ctx.now
    following.started_on = ctx.now.date()
    ctx.plan.current_stage_id = following.id
    return _record(
        session,
        actor,
        ctx,
        "advance",
        reason=data.override_reason,
        override=not evaluation.all_met,
        from_stage_id=str(stage.id),
        to_stage_id=str(following.id),
    )


def _not_ready(before: PlanProgress) -> Conflict:
    fields = {"criterion_id", "measure_code", "statement", "status", "current", "target"}
    unmet = [
        e.model_dump(mode="json", include=fields)
        for e in before.discharge
        if e.status is not Status.met
    ]
    if not before.discharge:
        detail = "The plan has no discharge criterion to discharge on."
    elif unmet:
        detail = f"Discharge needs every discharge criterion met; {len(unmet)} are not."
    else:
        detail = "Only pain criteria are met; discharge needs a functional criterion met."
    return Conflict(detail, unmet=unmet)


def discharge(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    data: DischargeRequest,
    expected_version: int,
) -> PlanTransitionRead:
    """On every discharge criterion met; or against them, with a reason and its category."""
    ctx = _begin(session, actor, plan_id, expected_version, UNDER_WAY, "discharged")
    plan, ready = ctx.plan, ctx.before.discharge_ready
    if not ready and data.override_reason is None:
        raise _not_ready(ctx.before)
    plan.status = PlanStatus.discharged
    plan.ended_at = ctx.now
    if not ready:
        plan.against_criteria = True
        plan.end_reason = data.override_reason
        plan.discharge_override_category = data.override_category
    category = str(data.override_category) if data.override_category else None
    return _record(
        session,
        actor,
        ctx,
        "discharge",
        reason=data.override_reason,
        override=not ready,
        override_category=category,
    )


def hold(
    session: Session, actor: Actor, plan_id: uuid.UUID, data: ReasonRequest, expected_version: int
) -> PlanTransitionRead:
    ctx = _begin(session, actor, plan_id, expected_version, {PlanStatus.active}, "put on hold")
    ctx.plan.status = PlanStatus.on_hold
    return _record(session, actor, ctx, "hold", reason=data.reason)


def resume(
    session: Session, actor: Actor, plan_id: uuid.UUID, expected_version: int
) -> PlanTransitionRead:
    ctx = _begin(session, actor, plan_id, expected_version, {PlanStatus.on_hold}, "resumed")
    ctx.plan.status = PlanStatus.active
    return _record(session, actor, ctx, "resume")


CANCELLABLE = OPEN


def cancel(
    session: Session, actor: Actor, plan_id: uuid.UUID, data: ReasonRequest, expected_version: int
) -> PlanTransitionRead:
    ctx = _begin(session, actor, plan_id, expected_version, CANCELLABLE, "cancelled")
    ctx.plan.status = PlanStatus.cancelled
    ctx.plan.ended_at = ctx.now
    ctx.plan.end_reason = data.reason
    return _record(session, actor, ctx, "cancel", reason=data.reason)


def history(session: Session, actor: Actor, plan_id: uuid.UUID) -> list[PlanEvent]:
    """The plan's transitions, oldest first: the latest HISTORY_LIMIT of them."""
    plan = queries.get_plan(session, actor, plan_id)
    latest = (
        select(PlanEvent)
        .where(PlanEvent.clinic_id == plan.clinic_id, PlanEvent.plan_id == plan.id)
        .order_by(PlanEvent.at.desc(), PlanEvent.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return list(reversed(session.scalars(latest).all()))
