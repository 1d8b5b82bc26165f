from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from app.assessments import children
from app.assessments.children import ChildLists
from app.assessments.models import (
    Assessment,
    AssessmentKind,
    AssessmentRevision,
    AssessmentStatus,
    Driver,
)
from app.assessments.schemas import AssessmentCreate, AssessmentRead, AssessmentUpdate
from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.orm import utcnow
from app.core.pagination import PageParams, paginate
from app.patients.models import Patient
from app.plans.models import Plan
from app.users import service as users_service

CHILD_LISTS = {"goals", "findings", "drivers"}


def readable(actor: Actor) -> Select[Assessment]:
    """The assessments this actor may see: their clinic's, or a patient user's own."""
    statement = select(Assessment).where(Assessment.clinic_id == actor.clinic_id)
    if actor.is_patient:
        statement = statement.where(Assessment.patient_id == actor.patient_id)
    return statement


def _with_children(statement: Select[Assessment]) -> Select[Assessment]:
    # One statement per child table, however many children: no N+1.
    return statement.options(
        selectinload(Assessment.goals),
        selectinload(Assessment.findings),
        selectinload(Assessment.drivers).selectinload(Driver.finding_links),
    )


def get(session: Session, actor: Actor, assessment_id: uuid.UUID) -> Assessment:
    statement = _with_children(readable(actor)).where(Assessment.id == assessment_id)
    assessment = session.scalars(statement).first()
    if assessment is None:
        raise NotFound("No assessment with that id in your clinic.")
    return assessment


def search(
    session: Session, actor: Actor, patient: Patient, page: PageParams
) -> tuple[list[Assessment], str | None]:
    statement = _with_children(readable(actor).where(Assessment.patient_id == patient.id))
    return paginate(session, statement, (Assessment.assessed_at, Assessment.id), page)


def _clinician_id(session: Session, actor: Actor, requested: uuid.UUID | None) -> uuid.UUID:
    clinician_id, errors = users_service.treating_clinician(session, actor, requested)
    if clinician_id is None:
        raise InvalidInput(
            "The assessment must name an active clinician of your clinic.", errors=errors
        )
    return clinician_id


def _check_plan(session: Session, patient: Patient, plan_id: uuid.UUID | None) -> None:
    """A reassessment names a plan of the same patient."""
    if plan_id is None:
        return
    found = session.scalar(
        select(Plan.id).where(
            Plan.clinic_id == patient.clinic_id, Plan.patient_id == patient.id, Plan.id == plan_id
        )
    )
    if found is None:
        raise InvalidInput(
            "A reassessment names one of this patient's plans.",
            errors=[field_error("/plan_id", "no plan of this patient with this id")],
        )


def create(session: Session, actor: Actor, patient: Patient, data: AssessmentCreate) -> Assessment:
    if patient.archived_at is not None:
        raise Conflict("The patient is archived; restore them before assessing.")
    _check_plan(session, patient, data.plan_id)
    assessment = Assessment(
        clinic_id=actor.clinic_id,
        patient_id=patient.id,
        clinician_id=_clinician_id(session, actor, data.clinician_id),
        goals=[],
        findings=[],
        drivers=[],
        **data.model_dump(exclude=CHILD_LISTS | {"clinician_id"}),
    )
    lists = ChildLists(goals=data.goals, findings=data.findings, drivers=data.drivers)
    children.check(assessment, lists)
    session.add(assessment)
    children.apply(session, assessment, lists)
    audit_service.record(session, actor, "create", "assessment", assessment.id)
    return assessment


def _amendment_reason(assessment: Assessment, data: AssessmentUpdate) -> str | None:
    """A final assessment changes only by amendment, with its reason; a draft is just edited."""
    final = assessment.status is AssessmentStatus.final
    if final and data.amendment_reason is None:
        detail = "a final assessment is amended: give the reason"
    elif not final and data.amendment_reason is not None:
        detail = "only a final assessment is amended; edit a draft without a reason"
    else:
        return data.amendment_reason
    raise InvalidInput(detail, errors=[field_error("/amendment_reason", detail)])


def _keep_revision(session: Session, actor: Actor, assessment: Assessment, reason: str) -> None:
    snapshot = AssessmentRead.model_validate(assessment).model_dump(mode="json")
    session.add(
        AssessmentRevision(
            clinic_id=assessment.clinic_id,
            assessment_id=assessment.id,
            version=assessment.version,
            snapshot=snapshot,
            amended_by_id=actor.id,
            reason=reason,
        )
    )


def update(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    data: AssessmentUpdate,
    expected_version: int,
) -> Assessment:
    check_version(assessment.version, expected_version)
    reason = _amendment_reason(assessment, data)
    lists = ChildLists(goals=data.goals, findings=data.findings, drivers=data.drivers)
    children.check(assessment, lists)
    changes: dict[str, Any] = data.model_dump(
        exclude_unset=True, exclude=CHILD_LISTS | {"amendment_reason"}
    )
    if changes.get("clinician_id", assessment.clinician_id) != assessment.clinician_id:
        _clinician_id(session, actor, changes["clinician_id"])
    if assessment.plan_id and changes.get("kind", assessment.kind) != AssessmentKind.reassessment:
        detail = "a reassessment of a plan stays a reassessment"
        raise InvalidInput(detail, errors=[field_error("/kind", detail)])
    if reason is not None:
        _keep_revision(session, actor, assessment, reason)
    for field, value in changes.items():
        setattr(assessment, field, value)
    assessment.updated_at = utcnow()  # bumps the version even when only children change
    children.apply(session, assessment, lists)
    details: dict[str, Any] = {"fields": sorted(data.model_fields_set - {"amendment_reason"})}
    if reason is not None:
        details |= {"reason": reason, "revision_version": expected_version}
    action = "amend" if reason is not None else "update"
    audit_service.record(session, actor, action, "assessment", assessment.id, details)
    return assessment


def finalize(
    session: Session, actor: Actor, assessment: Assessment, expected_version: int
) -> Assessment:
    check_version(assessment.version, expected_version)
    if assessment.status is AssessmentStatus.final:
        raise Conflict("The assessment is already final; amend it with PATCH instead.")
    missing = []
    if not assessment.drivers:
        missing.append(field_error("/drivers", "at least one driver is needed"))
    if not assessment.goals:
        missing.append(field_error("/goals", "at least one functional goal is needed"))
    if missing:
        names = " and ".join(error["pointer"] for error in missing)
        raise InvalidInput(f"The assessment is not complete: {names}", errors=missing)
    assessment.status = AssessmentStatus.final
    assessment.finalized_at = utcnow()
    session.flush()
    audit_service.record(session, actor, "finalize", "assessment", assessment.id)
    return assessment


def revisions(
    session: Session, actor: Actor, assessment: Assessment, page: PageParams
) -> tuple[list[AssessmentRevision], str | None]:
    """Earlier versions of an amended assessment, oldest first."""
    statement = select(AssessmentRevision).where(
        AssessmentRevision.clinic_id == actor.clinic_id,
        AssessmentRevision.assessment_id == assessment.id,
    )
    order = (AssessmentRevision.version, AssessmentRevision.id)
    return paginate(session, statement, order, page)
