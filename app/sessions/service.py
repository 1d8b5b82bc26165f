"""Treatment sessions: a visit's active work (as clinic exercise logs), passive adjuncts, pain
and observations, recorded in one transaction under one audit event."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.pagination import PageParams, paginate
from app.observations import service as observations_service
from app.observations.models import Observation
from app.patients.models import Patient
from app.plans.models import UNDER_WAY, Plan
from app.prescriptions import logs as logs_service
from app.prescriptions.models import ExerciseLog, LogSource, Prescription, PrescriptionStatus
from app.sessions.models import Adjunct, TreatmentSession
from app.sessions.schemas import SessionCreate, SessionUpdate, WorkDone
from app.users import service as users_service


@dataclass(frozen=True)
class SessionDetail:
    """A session with its children: the logs of its active work and its observations."""

    visit: TreatmentSession
    work: list[ExerciseLog]
    observations: list[Observation]

    @property
    def adjuncts(self) -> list[Adjunct]:
        return sorted(self.visit.adjuncts, key=lambda a: (a.kind, a.region or "", a.id))


def readable(actor: Actor) -> Select[TreatmentSession]:
    """The sessions this actor may see: their clinic's, or a patient user's own."""
    statement = select(TreatmentSession).where(TreatmentSession.clinic_id == actor.clinic_id)
    if actor.is_patient:
        statement = statement.where(TreatmentSession.patient_id == actor.patient_id)
    return statement.options(selectinload(TreatmentSession.adjuncts))


def get(session: Session, actor: Actor, session_id: uuid.UUID) -> TreatmentSession:
    found = session.scalars(readable(actor).where(TreatmentSession.id == session_id)).first()
    if found is None:
        raise NotFound("No session with that id in your clinic.")
    return found


def details(session: Session, visits: Sequence[TreatmentSession]) -> list[SessionDetail]:
    """Each session's work and observations: two statements however many sessions."""
    if not visits:
        return []
    clinic_id, ids = visits[0].clinic_id, [v.id for v in visits]
    work: dict[uuid.UUID | None, list[ExerciseLog]] = defaultdict(list)
    for log in session.scalars(
        select(ExerciseLog)
        .where(ExerciseLog.clinic_id == clinic_id, ExerciseLog.session_id.in_(ids))
        .order_by(ExerciseLog.created_at, ExerciseLog.id)
    ):
        work[log.session_id].append(log)
    taken: dict[uuid.UUID | None, list[Observation]] = defaultdict(list)
    for observation in session.scalars(
        select(Observation)
        .where(Observation.clinic_id == clinic_id, Observation.session_id.in_(ids))
        .order_by(Observation.observed_at, Observation.id)
    ):
        taken[observation.session_id].append(observation)
    return [SessionDetail(v, work[v.id], taken[v.id]) for v in visits]


def search(
    session: Session, actor: Actor, plan: Plan, page: PageParams
) -> tuple[list[SessionDetail], str | None]:
    statement = readable(actor).where(TreatmentSession.plan_id == plan.id)
    visits, next_cursor = paginate(
        session, statement, (TreatmentSession.number, TreatmentSession.id), page
    )
    return details(session, visits), next_cursor


def _lock_open_plan(session: Session, plan: Plan) -> Plan:
    """The plan row, locked (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers)
    and read again, so the session number and the plan's state hold until commit."""
    locked = session.scalars(
        select(Plan)
        .where(Plan.clinic_id == plan.clinic_id, Plan.id == plan.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if locked.status not in UNDER_WAY:
        raise Conflict(
            f"Sessions are recorded on an active or on-hold plan; this one is {locked.status}."
        )
    return locked


def _next_number(session: Session, plan: Plan) -> int:
    latest = session.scalar(
        select(func.max(TreatmentSession.number)).where(
            TreatmentSession.clinic_id == plan.clinic_id, TreatmentSession.plan_id == plan.id
        )
    )
    return (latest or 0) + 1


def _prescriptions(
    session: Session, plan: Plan, work: Sequence[WorkDone]
) -> tuple[list[Prescription], list[dict[str, str]]]:
    """Each work item's prescription: an active one of this plan, versions loaded."""
    if not work:
        return [], []
    found = {
        p.id: p
        for p in session.scalars(
            select(Prescription)
            .where(
                Prescription.clinic_id == plan.clinic_id,
                Prescription.plan_id == plan.id,
                Prescription.id.in_({w.prescription_id for w in work}),
            )
            .options(selectinload(Prescription.versions))
        )
    }
    errors = []
    for index, item in enumerate(work):
        prescription = found.get(item.prescription_id)
        if prescription is None or prescription.status is not PrescriptionStatus.active:
            problem = "stopped" if prescription else "not a prescription of this plan"
            errors.append(field_error(f"/work/{index}/prescription_id", problem))
    return [found[w.prescription_id] for w in work if w.prescription_id in found], errors


def create(session: Session, actor: Actor, plan: Plan, data: SessionCreate) -> SessionDetail:
    plan = _lock_open_plan(session, plan)
    clinician_id, errors = users_service.treating_clinician(session, actor, data.clinician_id)
    prescriptions, work_errors = _prescriptions(session, plan, data.work)
    if errors or work_errors:
        raise InvalidInput("The session names records it may not.", errors=errors + work_errors)
    assert clinician_id is not None
    visit = TreatmentSession(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        patient_id=plan.patient_id,
        clinician_id=clinician_id,
        number=_next_number(session, plan),
        adjuncts=[Adjunct(clinic_id=plan.clinic_id, **a.model_dump()) for a in data.adjuncts],
        **data.model_dump(include={"occurred_at", "pain_before", "pain_after", "notes"}),
    )
    session.add(visit)
    session.flush()
    work = _work(actor, visit, prescriptions, data)
    session.add_all(work)
    observations = _observations(session, actor, plan, visit, data)
    session.flush()
    counts = {"work": len(work), "adjuncts": len(data.adjuncts), "observations": len(observations)}
    audit_service.record(session, actor, "create", "session", visit.id, counts)
    return SessionDetail(visit, work, observations)


def _work(
    actor: Actor,
    visit: TreatmentSession,
    prescriptions: Sequence[Prescription],
    data: SessionCreate,
) -> list[ExerciseLog]:
    """One clinic log per work item, dated the session's day as the client wrote it."""
    return [
        logs_service.build(
            actor,
            prescription,
            performed_on=data.occurred_at.date(),
            source=LogSource.clinic,
            sets=item.sets,
            session_id=visit.id,
            pain_before=data.pain_before,
            pain_during=item.pain_during,
        )
        for prescription, item in zip(prescriptions, data.work, strict=True)
    ]


def _observations(
    session: Session, actor: Actor, plan: Plan, visit: TreatmentSession, data: SessionCreate
) -> list[Observation]:
    if not data.observations:
        return []
    patient = session.get_one(Patient, plan.patient_id)
    return observations_service.create_many(
        session, actor, patient, data.observations, prefix="/observations", session_id=visit.id
    )


def update(
    session: Session,
    actor: Actor,
    visit: TreatmentSession,
    data: SessionUpdate,
    expected_version: int,
) -> SessionDetail:
    check_version(visit.version, expected_version)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(visit, field, value)
    session.flush()
    audit_service.record(session, actor, "update", "session", visit.id, {"fields": sorted(changes)})
    return details(session, [visit])[0]
