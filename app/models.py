"""Imports every domain's models so that Base.metadata is whole (alembic, tests)."""

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
from app.core.orm import Base
from app.exercises.models import Exercise
from app.idempotency.models import IdempotencyKey
from app.measures.models import Measure
from app.observations.models import Observation
from app.patients.models import Patient
from app.plans.models import Criterion, Plan, PlanDocument, PlanDriver, PlanEvent, Stage
from app.prescriptions.models import ExerciseLog, Prescription, PrescriptionVersion
from app.sessions.models import Adjunct, TreatmentSession
from app.users.models import User

__all__ = [
    "Adjunct",
    "ApiKey",
    "Assessment",
    "AssessmentRevision",
    "AuditEvent",
    "Base",
    "Clinic",
    "Criterion",
    "Driver",
    "DriverFinding",
    "Exercise",
    "ExerciseLog",
    "Finding",
    "FunctionalGoal",
    "IdempotencyKey",
    "LoginFailure",
    "Measure",
    "Observation",
    "Patient",
    "Plan",
    "PlanDocument",
    "PlanDriver",
    "PlanEvent",
    "Prescription",
    "PrescriptionVersion",
    "Stage",
    "TreatmentSession",
    "User",
]

# Every session projects the plans its transaction changed before it commits.
from app.projections import unit_of_work

unit_of_work.install()
