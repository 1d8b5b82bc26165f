from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from app.core.pagination import PageParams, paginate
from app.core.types import Role
from app.patients.models import Patient
from app.users.models import User
from app.users.schemas import UserCreate, UserUpdate


def readable(actor: Actor) -> Select[User]:
    return select(User).where(User.clinic_id == actor.clinic_id)


def get(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    user = session.scalars(readable(actor).where(User.id == user_id)).first()
    if user is None:
        raise NotFound("No user with that id in your clinic.")
    return user


def search(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
) -> tuple[list[User], str | None]:
    statement = readable(actor)
    if role is not None:
        statement = statement.where(User.role == role)
    if is_active is not None:
        statement = statement.where(User.is_active.is_(is_active))
    return paginate(session, statement, (User.created_at, User.id), page)


def _ensure_still_admin(session: Session, actor: Actor) -> None:
    """Re-reads the acting admin inside this write, row-locked where the database can, so two
    admins demoting each other at once cannot leave a clinic without one."""
    still_admin = session.scalar(
        select(User.id)
        .where(User.id == actor.user_id, User.role == Role.admin, User.is_active.is_(True))
        .with_for_update()
    )
    if still_admin is None:
        raise Forbidden("Your account is no longer an active admin.")


def _ensure_email_free(session: Session, email: str) -> None:
    # Global, not per clinic: a login names no clinic, so an email must find one user.
    clash = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    if clash is not None:
        raise Conflict(
            "A user with that email already exists.",
            errors=[field_error("/email", "already used")],
        )


def _ensure_patient_linkable(session: Session, actor: Actor, patient_id: uuid.UUID) -> None:
    patient = session.execute(
        select(Patient.archived_at).where(
            Patient.clinic_id == actor.clinic_id, Patient.id == patient_id
        )
    ).first()
    if patient is None or patient.archived_at is not None:
        detail = "no such patient in your clinic" if patient is None else "the patient is archived"
        raise InvalidInput(
            "The patient cannot have a login.", errors=[field_error("/patient_id", detail)]
        )
    if session.scalar(select(User.id).where(User.patient_id == patient_id)) is not None:
        raise Conflict(
            "That patient already has a login.",
            errors=[field_error("/patient_id", "already linked to another user")],
        )


def create(session: Session, actor: Actor, data: UserCreate, password_hash: str) -> User:
    """Adds a user; the caller hashes the password beforehand, outside the transaction."""
    _ensure_still_admin(session, actor)
    _ensure_email_free(session, data.email)
    if data.patient_id is not None:
        _ensure_patient_linkable(session, actor, data.patient_id)
    fields = data.model_dump(exclude={"password"})
    user = User(clinic_id=actor.clinic_id, password_hash=password_hash, **fields)
    session.add(user)
    session.flush()
    audit_service.record(session, actor, "create", "user", user.id, {"role": user.role})
    return user


def _check_role_change(user: User, role: Role) -> None:
    # A patient login is tied to its patient record from creation; staff never are.
    if role != user.role and Role.patient in (role, user.role):
        raise Conflict(
            "A user cannot move to or from the patient role; create a new user instead.",
            errors=[field_error("/role", "cannot change to or from patient")],
        )


def _check_admin_rights_kept(
    session: Session, actor: Actor, user: User, changes: dict[str, Any]
) -> None:
    demoted = changes.get("role", user.role) != Role.admin
    deactivated = changes.get("is_active", user.is_active) is False
    if user.role != Role.admin or not (demoted or deactivated):
        return
    if user.id == actor.user_id:
        pointer = "/role" if demoted else "/is_active"
        raise Conflict(
            "You cannot demote or deactivate yourself; another admin must.",
            errors=[field_error(pointer, "would remove your own admin rights")],
        )
    _ensure_still_admin(session, actor)


def update(
    session: Session, actor: Actor, user: User, data: UserUpdate, expected_version: int
) -> User:
    check_version(user.version, expected_version)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    _check_role_change(user, changes.get("role", user.role))
    _check_admin_rights_kept(session, actor, user, changes)
    for field, value in changes.items():
        setattr(user, field, value)
    session.flush()
    details: dict[str, Any] = {"fields": sorted(changes)}
    details.update({k: changes[k] for k in ("role", "is_active") if k in changes})
    audit_service.record(session, actor, "update", "user", user.id, details)
    return user


TREATING_ROLES = (Role.clinician, Role.admin)


def treating_clinician(
    session: Session, actor: Actor, requested: uuid.UUID | None
) -> tuple[uuid.UUID | None, list[dict[str, str]]]:
    """The clinician a record names: the one requested, or else the calling clinician or admin.
    It must be an active clinician or admin of the caller's clinic; an integration key must
    name one. Returns the id, or the errors (pointer /clinician_id) for the caller to raise."""
    if requested is None:
        if actor.role in TREATING_ROLES and actor.user_id is not None:
            return actor.user_id, []
        return None, [field_error("/clinician_id", "required when an integration key writes")]
    found = session.scalar(
        select(User.id).where(
            User.clinic_id == actor.clinic_id,
            User.id == requested,
            User.role.in_(TREATING_ROLES),
            User.is_active,
        )
    )
    if found is None:
        return None, [
            field_error("/clinician_id", "no active clinician or admin with this id here")
        ]
    return found, []
