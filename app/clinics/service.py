"""Setting a clinic up from outside the API (the `rehab` command): there is no acting user yet,
so each new user is recorded in the audit trail as the actor of its own creation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.clinics.models import Clinic
from app.clinics.schemas import ClinicCreate
from app.core.auth import Actor
from app.core.errors import NotFound
from app.core.types import Role
from app.users import service as users_service
from app.users.models import User
from app.users.schemas import UserCreate


def create(
    session: Session,
    data: ClinicCreate,
    admin_password_hash: str,
    *,
    details: dict[str, Any] | None = None,
) -> tuple[Clinic, User]:
    """A clinic and its first admin, both in the caller's transaction."""
    admin_data = UserCreate(
        email=data.admin_email,
        password=data.admin_password,
        role=Role.admin,
        display_name=data.admin_display_name,
    )
    clinic = Clinic(name=data.name)
    session.add(clinic)
    session.flush()
    admin = add_user(session, clinic.id, admin_data, admin_password_hash, details=details)
    actor = Actor(clinic_id=clinic.id, role=Role.admin, user_id=admin.id)
    audit_service.record(session, actor, "create", "clinic", clinic.id, details)
    return clinic, admin


def add_user(
    session: Session,
    clinic_id: uuid.UUID,
    data: UserCreate,
    password_hash: str,
    *,
    details: dict[str, Any] | None = None,
) -> User:
    """A user of the clinic; the caller hashes the password beforehand, outside the transaction."""
    if session.get(Clinic, clinic_id) is None:
        raise NotFound("No clinic with that id.")
    users_service._ensure_email_free(session, data.email)
    if data.patient_id is not None:
        checker = Actor(clinic_id=clinic_id, role=Role.admin)
        users_service._ensure_patient_linkable(session, checker, data.patient_id)
    user = User(
        clinic_id=clinic_id, password_hash=password_hash, **data.model_dump(exclude={"password"})
    )
    session.add(user)
    session.flush()
    actor = Actor(clinic_id=clinic_id, role=user.role, user_id=user.id, patient_id=user.patient_id)
    event_details = {"role": user.role.value, **(details or {})}
    audit_service.record(session, actor, "create", "user", user.id, event_details)
    return user
