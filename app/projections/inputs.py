"""What a plan's projection is computed from: for each model, which plans a changed row of it
feeds. Declared once, here; the unit of work (app.projections.unit_of_work) reads it for every
row a transaction inserts, updates or deletes, and a test checks that every model is declared.

A row names what it belongs to (a plan, a prescription, a session, an assessment, a driver, a
patient); `Touched` collects those keys, and `affected_plans` resolves them to plans in one
statement per kind. A clinic-wide input (the clinic's audit thresholds, one of its measures)
feeds every plan of the clinic: it is collected by clinic, and app.projections.clinic handles
it without reading every plan in the transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.assessments.models import (
    Assessment,
    AssessmentRevision,
    Driver,
    DriverFinding,
    Finding,
    FunctionalGoal,
)
from app.audit.models import AuditEvent
from app.auth.models import LoginFailure
from app.clinics.models import Clinic
from app.exercises.models import Exercise
from app.idempotency.models import IdempotencyKey
from app.measures.models import Measure
from app.observations.models import Observation
from app.patients.models import Patient
from app.plans.models import (
    OPEN,
    Criterion,
    Plan,
    PlanDocument,
    PlanDriver,
    PlanEvent,
    Stage,
)
from app.prescriptions.models import ExerciseLog, Prescription, PrescriptionVersion
from app.sessions.models import Adjunct, TreatmentSession
from app.users.models import User

Key = tuple[uuid.UUID, uuid.UUID]  # (clinic_id, id)


@dataclass
class Touched:
    """The keys a transaction's changed rows name, by kind ("plan", "patient", ...), and the
    clinics whose clinic-wide inputs changed."""

    keys: dict[str, set[Key]] = field(default_factory=lambda: defaultdict(set))
    clinics: set[uuid.UUID] = field(default_factory=set)
    # What a plan's remembered attributes held before the transaction changed them, so that the
    # step can say "the plan was discharged" although it runs after the write.
    before: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.clinics) or any(self.keys.values())


Read = Callable[[str], Any]  # a row's value by attribute name
Feed = Callable[[Read, Touched], None]


def via(kind: str, attribute: str, *, only_if: str | None = None) -> Feed:
    """The row feeds what its `attribute` names, of `kind` (while `only_if` is set)."""

    def feed(value: Read, touched: Touched) -> None:
        key, clinic_id = value(attribute), value("clinic_id")
        if key is not None and (only_if is None or value(only_if) is not None):
            touched.keys[kind].add((clinic_id, key))

    return feed


def both(*feeds: Feed) -> Feed:
    def feed(value: Read, touched: Touched) -> None:
        for each in feeds:
            each(value, touched)

    return feed


def clinic_wide(attribute: str) -> Feed:
    """Every plan of the clinic `attribute` names; a shipped row (no clinic) never changes."""

    def feed(value: Read, touched: Touched) -> None:
        if (clinic_id := value(attribute)) is not None:
            touched.clinics.add(clinic_id)

    return feed


@dataclass(frozen=True)
class Declared:
    feed: Feed
    # Only a change to one of these counts; None: any change. A new row counts only when
    # `on_insert` (a new clinic or measure feeds nothing yet: no plan refers to it).
    attributes: frozenset[str] | None = None
    on_insert: bool = True
    remember: tuple[str, ...] = ()


FEEDS: Mapping[type[Any], Declared | None] = {
    Plan: Declared(via("plan", "id"), remember=("status", "current_stage_id")),
    PlanDriver: Declared(via("plan", "plan_id")),
    Stage: Declared(via("plan", "plan_id")),
    Criterion: Declared(via("plan", "plan_id")),
    PlanEvent: Declared(via("plan", "plan_id")),  # overrides are part of the plan's response
    Prescription: Declared(via("plan", "plan_id")),
    PrescriptionVersion: Declared(via("prescription", "prescription_id")),
    # A log done in a session is the session's active work; a home log feeds no projection.
    ExerciseLog: Declared(via("plan", "plan_id", only_if="session_id")),
    TreatmentSession: Declared(via("plan", "plan_id")),
    Adjunct: Declared(via("session", "session_id")),
    Observation: Declared(via("patient", "patient_id")),
    Assessment: Declared(both(via("assessment", "id"), via("plan", "plan_id"))),
    AssessmentRevision: Declared(via("assessment", "assessment_id")),
    Finding: Declared(via("assessment", "assessment_id")),
    FunctionalGoal: Declared(via("assessment", "assessment_id")),
    Driver: Declared(via("assessment", "assessment_id")),
    DriverFinding: Declared(via("driver", "driver_id")),
    Patient: Declared(via("patient", "id")),
    Clinic: Declared(
        clinic_wide("id"), attributes=frozenset({"audit_thresholds"}), on_insert=False
    ),
    Measure: Declared(clinic_wide("clinic_id"), on_insert=False),
    # Read by no projection.
    ApiKey: None,
    AuditEvent: None,
    Exercise: None,  # a prescription names its exercise by id: its signature reads no more
    IdempotencyKey: None,
    LoginFailure: None,
    PlanDocument: None,  # the projection itself
    User: None,
}


def collect(obj: Any, touched: Touched, *, new: bool) -> None:
    """Adds what a flushed ORM object (new, changed or deleted) feeds."""
    declared = FEEDS.get(type(obj))
    if declared is None or (new and not declared.on_insert):
        return
    if not new and declared.attributes is not None:
        state = inspect(obj)
        if not any(state.attrs[name].history.has_changes() for name in declared.attributes):
            return
    if not new and declared.remember and obj.id not in touched.before:
        touched.before[obj.id] = {name: _original(obj, name) for name in declared.remember}
    declared.feed(lambda name: getattr(obj, name), touched)


def _original(obj: Any, name: str) -> Any:
    """The attribute's value as loaded, before this flush changed it."""
    history = inspect(obj).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, name)


def collect_row(model: type[Any], row: Mapping[str, Any], touched: Touched) -> None:
    """Adds what a row inserted without the ORM (a Core INSERT of `model`'s table) feeds."""
    declared = FEEDS[model]
    if declared is not None and declared.on_insert:
        declared.feed(row.get, touched)


def affected_plans(session: Session, touched: Touched) -> set[Key]:
    """The plans the touched keys feed: one statement per kind present."""
    found = set(touched.keys.get("plan", ()))
    for kind, keys in touched.keys.items():
        if kind != "plan" and keys:
            found |= _RESOLVE[kind](session, keys)
    return found


def _ids(keys: set[Key]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    return {clinic for clinic, _ in keys}, {key for _, key in keys}


def _parents(session: Session, keys: set[Key], model: Any, parent: str) -> set[Key]:
    """What the `model` rows with those keys name in their `parent` column: one statement."""
    clinics, ids = _ids(keys)
    column = getattr(model, parent)
    rows = session.execute(
        select(model.clinic_id, column.label("parent")).where(
            model.clinic_id.in_(clinics), model.id.in_(ids)
        )
    )
    return {(row.clinic_id, row.parent) for row in rows}


def _plans_of_prescriptions(session: Session, keys: set[Key]) -> set[Key]:
    return _parents(session, keys, Prescription, "plan_id")


def _plans_of_sessions(session: Session, keys: set[Key]) -> set[Key]:
    return _parents(session, keys, TreatmentSession, "plan_id")


def _plans_of_assessments(session: Session, keys: set[Key]) -> set[Key]:
    """The plans built from the assessment, and the plan a reassessment belongs to."""
    clinics, ids = _ids(keys)
    linked = select(Assessment.plan_id).where(
        Assessment.clinic_id.in_(clinics), Assessment.id.in_(ids)
    )
    rows = session.execute(
        select(Plan.clinic_id, Plan.id).where(
            Plan.clinic_id.in_(clinics),
            or_(Plan.assessment_id.in_(ids), Plan.id.in_(linked.scalar_subquery())),
        )
    )
    return {(row.clinic_id, row.id) for row in rows}


def _plans_of_drivers(session: Session, keys: set[Key]) -> set[Key]:
    return _plans_of_assessments(session, _parents(session, keys, Driver, "assessment_id"))


def _plans_of_patients(session: Session, keys: set[Key]) -> set[Key]:
    clinics, ids = _ids(keys)
    rows = session.execute(
        select(Plan.clinic_id, Plan.id).where(
            Plan.clinic_id.in_(clinics),
            Plan.patient_id.in_(ids),
            Plan.status.in_(OPEN),  # plans still judged on them
        )
    )
    return {(row.clinic_id, row.id) for row in rows}


_RESOLVE: Mapping[str, Callable[[Session, set[Key]], set[Key]]] = {
    "prescription": _plans_of_prescriptions,
    "session": _plans_of_sessions,
    "assessment": _plans_of_assessments,
    "driver": _plans_of_drivers,
    "patient": _plans_of_patients,
}
