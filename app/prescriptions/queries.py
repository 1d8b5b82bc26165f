"""Prescription queries shared by the prescription, log, session and program services."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from app.core.auth import Actor
from app.core.errors import NotFound
from app.exercises.models import Exercise
from app.prescriptions.models import Prescription, PrescriptionVersion
from app.rules.progression import Dose


def readable(actor: Actor) -> Select[Prescription]:
    """The prescriptions this actor may see: their clinic's, or a patient user's own."""
    statement = select(Prescription).where(Prescription.clinic_id == actor.clinic_id)
    if actor.is_patient:
        statement = statement.where(Prescription.patient_id == actor.patient_id)
    return statement


def get_prescription(session: Session, actor: Actor, prescription_id: uuid.UUID) -> Prescription:
    statement = readable(actor).where(Prescription.id == prescription_id)
    found = session.scalars(statement.options(selectinload(Prescription.versions))).first()
    if found is None:
        raise NotFound("No prescription with that id in your clinic.")
    return found


def current_version(prescription: Prescription) -> PrescriptionVersion:
    return prescription.versions[-1]


def to_dose(version: PrescriptionVersion, exercise: Exercise) -> Dose:
    """The parameters the progression rules read and change."""
    return Dose(
        sets=version.sets,
        dosing=exercise.dosing,
        reps=version.reps,
        reps_min=version.reps_min,
        reps_max=version.reps_max,
        duration_s=version.duration_s,
        distance_m=version.distance_m,
        load_unit=version.load_unit,
        load_value=version.load_value,
        band=version.band,
        target_rpe=version.target_rpe,
        target_rir=version.target_rir,
        body=exercise.body,
        barbell=exercise.equipment == "barbell",
    )
