"""The patient's plan summary, read in a fixed number of statements whatever the plan's size:
the plan's tree and evidence (app.plans.progress, which also judges every criterion), the
assessment with its drivers, findings and goals, the patient's name, and the home program."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.assessments.models import Assessment, Driver, Finding, FunctionalGoal
from app.core.auth import Actor
from app.patients.models import Patient
from app.plans import progress, queries
from app.plans.models import Criterion, Plan
from app.plans.progress_schemas import CriterionEvaluation, PlanProgress, StageProgress
from app.rules.criteria import Status
from app.summary import html, program, wording
from app.summary.charts import chart_of
from app.summary.schemas import (
    DRIVER_KIND_LABELS,
    ONSET_LABELS,
    PLAN_STATUS_LABELS,
    STAGE_STATE_LABELS,
    STATUS_LABELS,
    SummaryCriterion,
    SummaryDischarge,
    SummaryDriver,
    SummaryExamination,
    SummaryFinding,
    SummaryGoal,
    SummaryPatient,
    SummaryPlan,
    SummaryRead,
    SummaryStage,
    SummaryTimeline,
)


def get(session: Session, actor: Actor, plan_id: uuid.UUID) -> SummaryRead:
    plan = queries.get_plan(session, actor, plan_id, tree=True)
    evidence = progress.gather(session, actor, plan)
    now = datetime.now(UTC)
    evaluated = progress.build(plan, evidence, now=now)
    display_name = session.scalar(
        select(Patient.display_name).where(
            Patient.clinic_id == plan.clinic_id, Patient.id == plan.patient_id
        )
    )
    return SummaryRead(
        plan_id=plan.id,
        generated_at=now,
        patient=SummaryPatient(display_name=display_name or ""),
        examination=_examination(session, plan),
        plan=_plan(plan, evaluated, evidence),
        discharge=_discharge(plan, evaluated, evidence),
        home_program=program.current(session, actor, plan),
    )


def page(session: Session, actor: Actor, plan_id: uuid.UUID) -> str:
    """The summary as a standalone, printable HTML document."""
    return html.render(get(session, actor, plan_id))


def _examination(session: Session, plan: Plan) -> SummaryExamination:
    statement = (
        select(Assessment)
        .where(Assessment.clinic_id == plan.clinic_id, Assessment.id == plan.assessment_id)
        .options(
            selectinload(Assessment.goals),
            selectinload(Assessment.findings),
            selectinload(Assessment.drivers).selectinload(Driver.finding_links),
        )
    )
    assessment = session.scalars(statement).one()
    findings = {finding.id: finding for finding in assessment.findings}
    targeted = set(plan.driver_ids)
    return SummaryExamination(
        assessment_id=assessment.id,
        assessed_at=assessment.assessed_at,
        presenting_complaint=assessment.presenting_complaint,
        body_region=assessment.body_region,
        onset=assessment.onset,
        onset_label=ONSET_LABELS[assessment.onset],
        pain_now=assessment.pain_now,
        pain_worst=assessment.pain_worst,
        drivers=[_driver(d, findings, d.id in targeted) for d in assessment.drivers],
        goals=[_goal(goal) for goal in assessment.goals],
    )


def _goal(goal: FunctionalGoal) -> SummaryGoal:
    target = None
    if goal.target_value is not None:
        target = wording.quantity(goal.target_value, goal.target_unit or "")
    return SummaryGoal(statement=goal.statement, target=target)


def _driver(driver: Driver, findings: dict[uuid.UUID, Finding], targeted: bool) -> SummaryDriver:
    cited = [findings[i] for i in driver.finding_ids if i in findings]
    return SummaryDriver(
        driver_id=driver.id,
        kind=driver.kind,
        kind_label=DRIVER_KIND_LABELS[driver.kind],
        description=driver.description,
        addressed_by_plan=targeted,
        findings=[
            SummaryFinding(
                finding_id=f.id,
                name=f.name,
                side=f.side,
                value=f.value,
                unit=f.unit,
                result=f.result,
                text=wording.finding(f),
            )
            for f in sorted(cited, key=lambda f: f.position)
        ],
    )


def _criterion(
    criterion: Criterion, evaluation: CriterionEvaluation, evidence: progress.Evidence
) -> SummaryCriterion:
    measure = evidence.measures[criterion.measure_id]
    unit = wording.judged_unit(criterion, measure)
    current = evaluation.current
    return SummaryCriterion(
        criterion_id=criterion.id,
        statement=criterion.statement,
        measure_code=measure.code,
        measure_name=measure.name,
        mode=criterion.mode,
        comparator=criterion.comparator,
        target=criterion.target,
        current=current,
        baseline=evaluation.baseline,
        current_text=None if current is None else wording.value(criterion, measure, current),
        target_text=wording.target(criterion, measure),
        unit=unit,
        unit_label=wording.unit_label(unit),
        status=evaluation.status,
        status_label=STATUS_LABELS[evaluation.status],
        met=evaluation.status is Status.met,
        progress=evaluation.progress,
        text=wording.criterion(criterion, measure, evaluation),
        chart=chart_of(criterion, measure, evaluation, evidence),
    )


def _criteria(
    criteria: Sequence[Criterion],
    evaluations: Sequence[CriterionEvaluation],
    evidence: progress.Evidence,
) -> list[SummaryCriterion]:
    return [
        _criterion(criterion, evaluation, evidence)
        for criterion, evaluation in zip(criteria, evaluations, strict=True)
    ]


def _stage(
    plan: Plan, index: int, evaluated: StageProgress, evidence: progress.Evidence
) -> SummaryStage:
    stage = plan.stages[index]
    return SummaryStage(
        stage_id=stage.id,
        position=stage.position,
        name=stage.name,
        goal=stage.goal,
        expected_weeks=stage.expected_weeks,
        state=evaluated.state,
        state_label=STAGE_STATE_LABELS[evaluated.state],
        all_met=evaluated.all_met,
        due_on=evaluated.timeline.due_on if evaluated.timeline else None,
        criteria=_criteria(stage.criteria, evaluated.criteria, evidence),
    )


def _plan(plan: Plan, evaluated: PlanProgress, evidence: progress.Evidence) -> SummaryPlan:
    stages = [_stage(plan, i, s, evidence) for i, s in enumerate(evaluated.stages)]
    current = next((s for s in stages if s.stage_id == plan.current_stage_id), None)
    timeline = evaluated.timeline
    return SummaryPlan(
        title=plan.title,
        status=plan.status,
        status_label=PLAN_STATUS_LABELS[plan.status],
        current_stage_id=plan.current_stage_id,
        current_stage_name=current.name if current else None,
        timeline=SummaryTimeline(
            expected_end_on=timeline.expected_end_on,
            sessions_min=timeline.expected_sessions_min,
            sessions_max=timeline.expected_sessions_max,
            suggested=plan.timeline_suggested,
            status=timeline.status,
            days_behind=timeline.days_behind,
            text=wording.timeline(
                plan.status, plan.timeline_suggested, timeline, current.name if current else None
            ),
        ),
        stages=stages,
    )


def _discharge(
    plan: Plan, evaluated: PlanProgress, evidence: progress.Evidence
) -> SummaryDischarge:
    criteria = _criteria(plan.discharge_criteria, evaluated.discharge, evidence)
    met = sum(1 for c in criteria if c.met)
    return SummaryDischarge(
        ready=evaluated.discharge_ready,
        met_count=met,
        remaining_count=len(criteria) - met,
        text=wording.discharge(plan.status, met, len(criteria), evaluated.discharge_ready),
        criteria=criteria,
    )
