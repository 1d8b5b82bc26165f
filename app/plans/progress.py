"""A plan's progress: its criteria evaluated against the patient's observations.

Everything the evaluation needs is loaded in a fixed number of statements, however many stages,
criteria and observations the plan has; the judging itself is app.rules.criteria's.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, Finding
from app.core.auth import Actor
from app.measures import service as measures_service
from app.measures.models import Measure, MeasureCategory
from app.observations.models import Observation
from app.plans import queries
from app.plans.models import UNDER_WAY, Criterion, Plan, PlanStatus, Stage
from app.plans.progress_schemas import (
    CriterionEvaluation,
    PlanProgress,
    PlanTimelineProgress,
    StageProgress,
    StageSchedule,
    StageState,
)
from app.rules import criteria as rules
from app.rules.timeline import stage_schedule
from app.rules.units import convert


@dataclass(frozen=True)
class Evidence:
    """What the plan's criteria are judged on."""

    counted_from: datetime
    measures: dict[uuid.UUID, Measure]
    points: dict[uuid.UUID, list[rules.Point]]
    findings: list[Finding]


def get(session: Session, actor: Actor, plan_id: uuid.UUID) -> PlanProgress:
    plan = queries.get_plan(session, actor, plan_id, tree=True)
    return build(plan, gather(session, actor, plan), now=datetime.now(UTC))


def gather(session: Session, actor: Actor, plan: Plan) -> Evidence:
    """Four statements: measures, the assessment's time, its findings, the observations."""
    criteria = [c for stage in plan.stages for c in stage.criteria] + plan.discharge_criteria
    measures = measures_service.get_many(session, actor, {c.measure_id for c in criteria})
    assessed_at = session.scalar(
        select(Assessment.assessed_at).where(
            Assessment.clinic_id == plan.clinic_id, Assessment.id == plan.assessment_id
        )
    )
    assert assessed_at is not None  # a plan's assessment always exists
    return Evidence(
        counted_from=assessed_at,
        measures=measures,
        points=_points(session, plan, measures),
        findings=_findings(session, plan, {m.code for m in measures.values()}),
    )


def _points(
    session: Session, plan: Plan, measures: dict[uuid.UUID, Measure]
) -> dict[uuid.UUID, list[rules.Point]]:
    points: dict[uuid.UUID, list[rules.Point]] = defaultdict(list)
    if not measures:
        return points
    rows = session.execute(
        select(
            Observation.id,
            Observation.measure_id,
            Observation.value,
            Observation.side,
            Observation.observed_at,
        ).where(
            Observation.clinic_id == plan.clinic_id,
            Observation.patient_id == plan.patient_id,
            Observation.measure_id.in_(measures),
            Observation.entered_in_error_at.is_(None),
        )
    )
    for row in rows:
        unit = measures[row.measure_id].unit  # values are stored in the measure's own unit
        points[row.measure_id].append(
            rules.Point(row.id, row.value, unit, row.observed_at, row.side)
        )
    return points


def _findings(session: Session, plan: Plan, codes: set[str]) -> list[Finding]:
    if not codes:
        return []
    statement = select(Finding).where(
        Finding.clinic_id == plan.clinic_id,
        Finding.assessment_id == plan.assessment_id,
        Finding.measure_code.in_(codes),
        Finding.value.is_not(None),
    )
    return list(session.scalars(statement.order_by(Finding.position)))


def _baseline(criterion: Criterion, measure: Measure, findings: Sequence[Finding]) -> float | None:
    """The assessment's own finding for the measure (on the criterion's side, if it has one)."""
    for finding in findings:
        if finding.measure_code != measure.code or finding.value is None:
            continue
        if criterion.side is not None and finding.side != criterion.side:
            continue
        value = convert(finding.value, finding.unit or measure.unit, measure.unit)
        if value is not None:
            return value
    return None


def _spec(criterion: Criterion) -> rules.CriterionSpec:
    return rules.CriterionSpec(
        comparator=criterion.comparator,
        target=criterion.target,
        mode=criterion.mode,
        sustained_count=criterion.sustained_count,
        side=criterion.side,
        involved_side=criterion.involved_side,
        change_unit=criterion.change_unit or rules.ChangeUnit.points,
    )


def _evaluate(criterion: Criterion, evidence: Evidence) -> tuple[rules.CriterionResult, Measure]:
    measure = evidence.measures[criterion.measure_id]
    result = rules.evaluate(
        _spec(criterion),
        rules.MeasureSpec(unit=measure.unit, better=measure.better, mcid=measure.mcid),
        evidence.points.get(criterion.measure_id, []),
        counted_from=evidence.counted_from,
        baseline_value=_baseline(criterion, measure, evidence.findings),
    )
    return result, measure


def evaluate_all(
    items: Sequence[Criterion], evidence: Evidence
) -> tuple[list[CriterionEvaluation], rules.GroupResult]:
    evaluations, results = [], []
    for criterion in items:
        result, measure = _evaluate(criterion, evidence)
        results.append(result)
        evaluations.append(_read(criterion, measure, result))
    return evaluations, rules.evaluate_group(results)


def _read(
    criterion: Criterion, measure: Measure, result: rules.CriterionResult
) -> CriterionEvaluation:
    return CriterionEvaluation(
        criterion_id=criterion.id,
        measure_id=measure.id,
        measure_code=measure.code,
        measure_category=measure.category,
        statement=criterion.statement,
        mode=criterion.mode,
        comparator=criterion.comparator,
        target=criterion.target,
        status=result.status,
        current=result.current,
        baseline=result.baseline,
        progress=result.progress,
        observation_ids=list(result.observation_ids),
        reason=result.reason,
    )


def _stage(plan: Plan, stage: Stage, evidence: Evidence, today: date) -> StageProgress:
    evaluations, group = evaluate_all(stage.criteria, evidence)
    if stage.completed_at is not None:
        state = StageState.completed
    elif stage.id == plan.current_stage_id:
        state = StageState.current
    else:
        state = StageState.pending
    schedule = None
    if state is StageState.current and stage.started_on is not None:
        timing = stage_schedule(stage.started_on, stage.expected_weeks, today)
        schedule = StageSchedule(
            due_on=timing.due_on, status=timing.status, days_behind=timing.days_behind
        )
    return StageProgress(
        stage_id=stage.id,
        name=stage.name,
        position=stage.position,
        state=state,
        all_met=group.all_met,
        criteria=evaluations,
        timeline=schedule,
    )


def discharge_met(evaluations: Sequence[CriterionEvaluation], group: rules.GroupResult) -> bool:
    """Every discharge criterion met, and at least one of them not about pain: pain settling
    is never on its own a reason to discharge."""
    functional = any(
        e.status is rules.Status.met and e.measure_category is not MeasureCategory.pain
        for e in evaluations
    )
    return group.all_met and functional


def build(plan: Plan, evidence: Evidence, *, now: datetime) -> PlanProgress:
    """The plan's progress from loaded evidence: no statement of its own."""
    stages = [_stage(plan, stage, evidence, now.date()) for stage in plan.stages]
    discharge, group = evaluate_all(plan.discharge_criteria, evidence)
    current = next((s for s in stages if s.stage_id == plan.current_stage_id), None)
    has_next = current is not None and current is not stages[-1]
    schedule = current.timeline if current is not None else None
    stage_met = current is not None and current.all_met
    return PlanProgress(
        plan_id=plan.id,
        plan_version=plan.version,
        status=plan.status,
        evaluated_at=now,
        current_stage_id=plan.current_stage_id,
        may_advance=plan.status is PlanStatus.active and has_next and stage_met,
        discharge_ready=plan.status in UNDER_WAY and discharge_met(discharge, group),
        discharge=discharge,
        stages=stages,
        timeline=PlanTimelineProgress(
            expected_end_on=plan.expected_end_on,
            expected_sessions_min=plan.expected_sessions_min,
            expected_sessions_max=plan.expected_sessions_max,
            status=schedule.status if schedule else None,
            days_behind=schedule.days_behind if schedule else None,
        ),
    )
