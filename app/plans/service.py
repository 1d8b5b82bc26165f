"""Plans: built from a finalised assessment, targeting its drivers, with a timeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments import service as assessments_service
from app.assessments.models import Assessment, AssessmentStatus
from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, InvalidInput, field_error
from app.core.pagination import PageParams, paginate
from app.plans import criteria as criteria_service
from app.plans import queries, reading
from app.plans import stages as stages_service
from app.plans.criteria import Errors
from app.plans.models import Plan, PlanDriver, PlanStatus, Stage
from app.plans.schemas import PlanCreate, PlanRead, PlanUpdate, Timeline
from app.projections import unit_of_work
from app.rules.timeline import TimelineGuidance, suggest
from app.users import service as users_service


def search(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    patient_id: uuid.UUID | None = None,
    clinician_id: uuid.UUID | None = None,
    status: PlanStatus | None = None,
) -> tuple[list[Plan], str | None]:
    statement = queries.readable(actor)
    if patient_id:
        statement = statement.where(Plan.patient_id == patient_id)
    if clinician_id:
        statement = statement.where(Plan.clinician_id == clinician_id)
    if status:
        statement = statement.where(Plan.status == status)
    return paginate(session, statement, (Plan.created_at, Plan.id), page)


def read(session: Session, actor: Actor, plan_id: uuid.UUID) -> PlanRead:
    return reading.read(session, actor, plan_id)


def create(session: Session, actor: Actor, data: PlanCreate) -> PlanRead:
    assessment = _finalised_assessment(session, actor, data.assessment_id)
    clinician_id = _clinician_id(session, actor, data.clinician_id)
    driver_ids = _driver_ids(assessment, data.driver_ids)
    stage_measures, discharge_measures = _check_tree(session, actor, data, driver_ids)
    plan = _new_plan(actor, assessment, data, clinician_id)
    plan.driver_links = [PlanDriver(clinic_id=actor.clinic_id, driver_id=d) for d in driver_ids]
    plan.stages = [
        stages_service.build(plan, i, stage, measure_ids)
        for i, (stage, measure_ids) in enumerate(zip(data.stages, stage_measures, strict=True))
    ]
    session.add(plan)
    session.flush()  # the plan and its stages first: discharge criteria refer to the plan
    session.add_all(
        criteria_service.build(plan, None, i, criterion, measure_id)
        for i, (criterion, measure_id) in enumerate(
            zip(data.discharge_criteria, discharge_measures, strict=True)
        )
    )
    session.flush()
    details = {"assessment_id": str(assessment.id), "stages": len(plan.stages)}
    audit_service.record(session, actor, "create", "plan", plan.id, details)
    unit_of_work.settle(session)  # the answer shows the plan's audit
    return reading.read(session, actor, plan.id)


def _new_plan(
    actor: Actor, assessment: Assessment, data: PlanCreate, clinician_id: uuid.UUID
) -> Plan:
    timeline = _given_timeline(data.timeline) if data.timeline else _suggested_timeline(assessment)
    return Plan(
        id=uuid.uuid4(),
        clinic_id=actor.clinic_id,
        patient_id=assessment.patient_id,
        assessment_id=assessment.id,
        clinician_id=clinician_id,
        title=data.title or f"{assessment.body_region.capitalize()} rehabilitation",
        status=PlanStatus.draft,
        **timeline,
    )


def _finalised_assessment(session: Session, actor: Actor, assessment_id: uuid.UUID) -> Assessment:
    assessment = assessments_service.get(session, actor, assessment_id)
    if assessment.status is not AssessmentStatus.final:
        raise Conflict("The assessment is a draft: finalise the assessment first.")
    return assessment


def _clinician_id(session: Session, actor: Actor, requested: uuid.UUID | None) -> uuid.UUID:
    clinician_id, errors = users_service.treating_clinician(session, actor, requested)
    if clinician_id is None:
        raise InvalidInput("The plan must name an active clinician of your clinic.", errors=errors)
    return clinician_id


def _driver_ids(assessment: Assessment, requested: Sequence[uuid.UUID] | None) -> list[uuid.UUID]:
    own = [driver.id for driver in assessment.drivers]
    if requested is None:
        if not own:
            raise Conflict("The assessment names no drivers for a plan to target.")
        return own
    errors: Errors = []
    known, seen = set(own), set[uuid.UUID]()
    for i, driver_id in enumerate(requested):
        if driver_id in seen:
            errors.append(field_error(f"/driver_ids/{i}", "this driver is listed twice"))
        elif driver_id not in known:
            errors.append(field_error(f"/driver_ids/{i}", "not a driver of this assessment"))
        seen.add(driver_id)
    if not requested:
        errors.append(field_error("/driver_ids", "a plan targets at least one driver"))
    if errors:
        raise criteria_service.invalid(errors)
    return list(requested)


def _check_tree(
    session: Session, actor: Actor, data: PlanCreate, driver_ids: Sequence[uuid.UUID]
) -> tuple[list[list[uuid.UUID]], list[uuid.UUID]]:
    """The measure ids of the nested stages' criteria and of the discharge criteria, or one
    InvalidInput naming every problem in the tree."""
    errors = [
        field_error(f"/stages/{i}/position", "nested stages are placed in list order")
        for i, stage in enumerate(data.stages)
        if stage.position is not None
    ]
    return stages_service.check(
        session,
        actor,
        driver_ids,
        [(f"/stages/{i}", stage) for i, stage in enumerate(data.stages)],
        errors=errors,
        discharge=[(f"/discharge_criteria/{i}", c) for i, c in enumerate(data.discharge_criteria)],
    )


def _given_timeline(timeline: Timeline) -> dict[str, Any]:
    return {**timeline.model_dump(), "timeline_suggested": False, "timeline_basis": None}


def _suggested_timeline(assessment: Assessment) -> dict[str, Any]:
    """The clinic-guidance estimate from the assessment's onset, starting today."""
    today = datetime.now(UTC).date()
    suggestion = suggest(str(assessment.onset), today, TimelineGuidance())
    return {
        "expected_sessions_min": suggestion.min_sessions,
        "expected_sessions_max": suggestion.max_sessions,
        "expected_end_on": suggestion.expected_end_on,
        "timeline_suggested": True,
        "timeline_basis": suggestion.basis,
    }


def update(
    session: Session, actor: Actor, plan: Plan, data: PlanUpdate, expected_version: int
) -> PlanRead:
    check_version(plan.version, expected_version)
    queries.ensure_not_ended(plan)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if data.driver_ids is not None:
        queries.ensure_draft(plan, "The targeted drivers can change")
        _retarget(session, actor, plan, data.driver_ids)
    if data.clinician_id is not None:
        plan.clinician_id = _clinician_id(session, actor, data.clinician_id)
    if data.title is not None:
        plan.title = data.title
    if data.timeline is not None:
        for field, value in _given_timeline(data.timeline).items():
            setattr(plan, field, value)
    if changes:
        queries.touch(plan)
    session.flush()
    audit_service.record(session, actor, "update", "plan", plan.id, {"fields": sorted(changes)})
    unit_of_work.settle(session)  # the answer shows the plan's audit
    return reading.read(session, actor, plan.id)


def _retarget(session: Session, actor: Actor, plan: Plan, driver_ids: Sequence[uuid.UUID]) -> None:
    """Replaces the targeted drivers; a stage may not keep addressing a dropped one."""
    assessment = assessments_service.get(session, actor, plan.assessment_id)
    wanted = _driver_ids(assessment, driver_ids)
    stages = session.scalars(
        select(Stage).where(Stage.clinic_id == actor.clinic_id, Stage.plan_id == plan.id)
    )
    for stage in stages:
        dropped = {str(d) for d in stage.driver_ids} - {str(d) for d in wanted}
        if dropped:
            raise Conflict(
                f"Stage {stage.name!r} addresses a driver this change drops; change it first.",
                errors=[field_error("/driver_ids", "a stage still addresses a dropped driver")],
            )
    links = session.scalars(
        select(PlanDriver).where(
            PlanDriver.clinic_id == actor.clinic_id, PlanDriver.plan_id == plan.id
        )
    )
    current = {link.driver_id: link for link in links}
    for driver_id, link in current.items():
        if driver_id not in wanted:
            session.delete(link)
    session.add_all(
        PlanDriver(clinic_id=actor.clinic_id, plan_id=plan.id, driver_id=driver_id)
        for driver_id in wanted
        if driver_id not in current
    )
