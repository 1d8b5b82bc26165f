"""The next parameters for a prescription, from its logs (app/rules/progression.py decides),
and applying them, or the clinician's own, as a new version."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.errors import Conflict, InvalidInput, field_error
from app.exercises.models import Exercise
from app.prescriptions import queries
from app.prescriptions import service as prescriptions_service
from app.prescriptions.models import ExerciseLog, Prescription, PrescriptionVersion
from app.prescriptions.schemas import (
    PARAMETERS,
    ParameterChanges,
    ParametersRead,
    PrescriptionRead,
    ProgressRequest,
    SuggestionRead,
    parameters_of,
)
from app.prescriptions.service import VersionChange
from app.rules.progression import Action, Dose, Log, SetDone, Suggestion, suggest

# The rules read the two latest completed logs at most; a margin for ones without sets.
LOGS_READ = 20
CLINICIAN_RULE = "clinician"


def _set_done(raw: dict[str, Any]) -> SetDone:
    return SetDone(
        reps=raw.get("reps"),
        duration_s=raw.get("duration_s"),
        distance_m=raw.get("distance_m"),
        rpe=raw.get("rpe"),
        rir=raw.get("rir"),
    )


def _logs(session: Session, actor: Actor, prescription: Prescription, since: date) -> list[Log]:
    """Completed logs, home and clinic, performed since the current version took effect (so
    an applied progression starts a fresh count), newest first."""
    statement = (
        select(ExerciseLog)
        .where(
            ExerciseLog.clinic_id == actor.clinic_id,
            ExerciseLog.prescription_id == prescription.id,
            ExerciseLog.performed_on >= since,
            ExerciseLog.skipped.is_(False),
        )
        .order_by(ExerciseLog.performed_on.desc(), ExerciseLog.created_at.desc())
        .limit(LOGS_READ)
    )
    return [
        Log(
            id=row.id,
            on=row.performed_on,
            sets=tuple(_set_done(raw) for raw in row.sets or []),
            pain_during=row.pain_during,
            pain_before=row.pain_before,
            pain_next_morning=row.pain_next_morning,
            skipped=row.skipped,
        )
        for row in session.scalars(statement)
    ]


def _after(version: PrescriptionVersion, dose: Dose) -> dict[str, Any]:
    """The current parameters with those the rule changed."""
    changed = {name: value for name, value in asdict(dose).items() if name in PARAMETERS}
    return {**parameters_of(version), **changed}


def _compute(
    session: Session, actor: Actor, prescription: Prescription, exercise: Exercise
) -> tuple[Suggestion, SuggestionRead]:
    version = queries.current_version(prescription)
    logs = _logs(session, actor, prescription, version.effective_on)
    result = suggest(
        queries.to_dose(version, exercise), logs, prescriptions_service.rules_for(actor)
    )
    read = SuggestionRead(
        prescription_id=prescription.id,
        based_on_version=version.number,
        action=result.action,
        rule=result.rule,
        reason=result.reason,
        log_ids=list(result.log_ids),
        before=ParametersRead.model_validate(parameters_of(version)),
        after=ParametersRead.model_validate(_after(version, result.after)),
        notes=list(result.notes),
    )
    return result, read


def suggestion(session: Session, actor: Actor, prescription: Prescription) -> SuggestionRead:
    exercise = prescriptions_service.exercise_of(session, actor, prescription)
    return _compute(session, actor, prescription, exercise)[1]


def _own_change(
    prescription: Prescription, parameters: ParameterChanges, data: ProgressRequest
) -> VersionChange:
    if data.reason is None:
        detail = "required with your own parameters"
        raise InvalidInput("Say why.", errors=[field_error("/reason", detail)])
    changes = parameters.model_dump(exclude_unset=True)
    values = {**parameters_of(queries.current_version(prescription)), **changes}
    return VersionChange(
        values,
        data.reason,
        rule=CLINICIAN_RULE,
        effective_on=data.effective_on,
        pointer="/parameters",
    )


def _change(
    session: Session,
    actor: Actor,
    prescription: Prescription,
    exercise: Exercise,
    data: ProgressRequest,
) -> VersionChange:
    if data.apply_suggestion == (data.parameters is not None):
        raise InvalidInput(
            "Send apply_suggestion true, or your own parameters, not both.",
            errors=[field_error("/apply_suggestion", "either this or parameters")],
        )
    if data.parameters is not None:
        return _own_change(prescription, data.parameters, data)
    result, read = _compute(session, actor, prescription, exercise)
    if result.action is Action.hold or read.after == read.before:
        raise Conflict(
            f"Nothing to apply: {result.reason}", suggestion=read.model_dump(mode="json")
        )
    return VersionChange(
        read.after.model_dump(),
        data.reason or result.reason,
        rule=result.rule,
        effective_on=data.effective_on,
    )


def progress(
    session: Session,
    actor: Actor,
    prescription: Prescription,
    data: ProgressRequest,
    expected_version: int,
) -> PrescriptionRead:
    plan = prescriptions_service.writable_plan(session, actor, prescription, expected_version)
    exercise = prescriptions_service.exercise_of(session, actor, prescription)
    change = _change(session, actor, prescription, exercise, data)
    version = prescriptions_service.add_version(
        session, actor, prescription, plan, exercise, change
    )
    details = {"version": version.number, "rule": version.rule}
    audit_service.record(session, actor, "progress", "prescription", prescription.id, details)
    return prescriptions_service.to_read(prescription, exercise)
