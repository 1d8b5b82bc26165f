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
from app.clinics.models import Clinic
from app.core.orm import Base
from app.patients.models import Patient
from app.users.models import User

__all__ = [
    "ApiKey",
    "Assessment",
    "AssessmentRevision",
    "AuditEvent",
    "Base",
    "Clinic",
    "Driver",
    "DriverFinding",
    "Finding",
    "FunctionalGoal",
    "Patient",
    "User",
]
