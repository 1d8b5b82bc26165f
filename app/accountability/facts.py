"""What the plan audit reads, gathered for one plan in a fixed number of statements whatever
its size or the clinic's: the plan's tree (5), the evidence behind its criteria (4,
app.plans.progress), its sessions (2), its prescriptions (1), whether another active plan of the
clinic runs the same program (0 or 1: one indexed lookup of the stored program signature) and
its latest finalised reassessment (1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from app.accountability import programs
from app.assessments.models import Assessment, AssessmentKind, AssessmentStatus
from app.core.auth import Actor
from app.observations.models import Observation
from app.plans import progress, queries
from app.plans.models import Plan, PlanStatus, Stage
from app.plans.progress_schemas import PlanProgress
from app.prescriptions.models import ExerciseLog
from app.rules.plan_audit import MeasureSeries, PlanFacts, SessionFacts
from app.sessions.models import Adjunct, TreatmentSession

TIMELINE_FIELDS = ("expected_sessions_min", "expected_sessions_max", "expected_end_on")


@dataclass(frozen=True)
class Gathered:
    plan: Plan
    facts: PlanFacts
    progress: PlanProgress
    program_signature: str | None  # what the projection step stores on the plan


def gather(session: Session, actor: Actor, plan_id: uuid.UUID, *, now: datetime) -> Gathered:
    plan = queries.get_plan(session, actor, plan_id, tree=True)
    evidence = progress.gather(session, actor, plan)
    evaluation = progress.build(plan, evidence, now=now)
    stage = next((s for s in plan.stages if s.id == plan.current_stage_id), None)
    prescriptions = programs.of_plan(session, plan)
    signature = programs.signature(prescriptions)
    facts = PlanFacts(
        status=str(plan.status),
        created_on=plan.created_at.date(),
        today=now.date(),
        **_shape(plan, evidence),
        **_current_stage(stage, evaluation),
        max_sessions=plan.expected_sessions_max,
        sessions=_sessions(session, plan),
        prescriptions=prescriptions,
        series=_series(stage, evidence),
        same_program_elsewhere=programs.copied(session, plan, signature),
        reassessed_at=_reassessed_at(session, plan),
    )
    return Gathered(plan, facts, evaluation, signature)


def _shape(plan: Plan, evidence: progress.Evidence) -> dict[str, Any]:
    """Whether the plan has what a plan needs (the NO_PLAN and PAIN_ONLY_DISCHARGE rules)."""
    return {
        "has_drivers": bool(plan.driver_links),
        "has_stages": bool(plan.stages),
        "stages_have_criteria": bool(plan.stages) and all(s.criteria for s in plan.stages),
        "has_timeline": all(getattr(plan, name) is not None for name in TIMELINE_FIELDS),
        "discharge_categories": tuple(
            str(evidence.measures[c.measure_id].category) for c in plan.discharge_criteria
        ),
        "discharged_against_criteria": plan.status is PlanStatus.discharged
        and plan.against_criteria,
    }


def _current_stage(stage: Stage | None, evaluation: PlanProgress) -> dict[str, Any]:
    if stage is None:
        return {}
    met = any(s.stage_id == stage.id and s.all_met for s in evaluation.stages)
    return {
        "current_stage_id": stage.id,
        "current_stage_started_on": stage.started_on,
        "current_stage_expected_weeks": stage.expected_weeks,
        "current_stage_criteria_met": met,
        "current_criteria_measures": frozenset(c.measure_id for c in stage.criteria),
    }


def _series(stage: Stage | None, evidence: progress.Evidence) -> tuple[MeasureSeries, ...]:
    """The counted observations behind each of the current stage's criteria, oldest first; on
    the criterion's side (the involved side for limb symmetry), so that sides never mix."""
    if stage is None:
        return ()
    found: dict[tuple[uuid.UUID, str | None], MeasureSeries] = {}
    for criterion in stage.criteria:
        side = criterion.side or criterion.involved_side
        key = (criterion.measure_id, side)
        if key in found:
            continue
        measure = evidence.measures[criterion.measure_id]
        points = sorted(
            (p.observed_at, p.value)
            for p in evidence.points.get(criterion.measure_id, [])
            if p.observed_at >= evidence.counted_from and (side is None or p.side == side)
        )
        found[key] = MeasureSeries(measure.id, measure.code, measure.mcid, tuple(points))
    return tuple(found.values())


def _sessions(session: Session, plan: Plan) -> tuple[SessionFacts, ...]:
    """The plan's sessions, each with its active work (exercise logs done in it) and adjuncts."""
    work, adjuncts = _counts(plan)
    rows = session.execute(
        select(TreatmentSession.id, TreatmentSession.number, TreatmentSession.occurred_at)
        .add_columns(work.label("active_work"), adjuncts.label("adjuncts"))
        .where(TreatmentSession.clinic_id == plan.clinic_id, TreatmentSession.plan_id == plan.id)
    ).all()
    measured = _measured(session, plan)
    return tuple(
        SessionFacts(
            id=row.id,
            number=row.number,
            occurred_on=row.occurred_at.date(),
            active_work=row.active_work,
            adjuncts=row.adjuncts,
            measured=frozenset(measured[row.id]),
        )
        for row in rows
    )


def _counts(plan: Plan) -> tuple[ScalarSelect[int], ScalarSelect[int]]:
    """Per session: the exercise logs done in it (not skipped), and its adjuncts."""
    work = (
        select(func.count(ExerciseLog.id))
        .where(
            ExerciseLog.clinic_id == plan.clinic_id,
            ExerciseLog.plan_id == plan.id,
            ExerciseLog.session_id == TreatmentSession.id,
            ExerciseLog.skipped.is_(False),
        )
        .correlate(TreatmentSession)
        .scalar_subquery()
    )
    adjuncts = (
        select(func.count(Adjunct.id))
        .where(Adjunct.clinic_id == plan.clinic_id, Adjunct.session_id == TreatmentSession.id)
        .correlate(TreatmentSession)
        .scalar_subquery()
    )
    return work, adjuncts


def _measured(session: Session, plan: Plan) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The measures observed in each of the plan's sessions."""
    rows = session.execute(
        select(Observation.session_id, Observation.measure_id)
        .distinct()
        .join(TreatmentSession, TreatmentSession.id == Observation.session_id)
        .where(
            Observation.clinic_id == plan.clinic_id,
            Observation.patient_id == plan.patient_id,
            Observation.entered_in_error_at.is_(None),
            TreatmentSession.clinic_id == plan.clinic_id,
            TreatmentSession.plan_id == plan.id,
        )
    )
    measured: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for session_id, measure_id in rows:
        if session_id is not None:  # always, by the join
            measured[session_id].add(measure_id)
    return measured


def _reassessed_at(session: Session, plan: Plan) -> datetime | None:
    return session.scalar(
        select(func.max(Assessment.assessed_at)).where(
            Assessment.clinic_id == plan.clinic_id,
            Assessment.plan_id == plan.id,
            Assessment.kind == AssessmentKind.reassessment,
            Assessment.status == AssessmentStatus.final,
        )
    )
