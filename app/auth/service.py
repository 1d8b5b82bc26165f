from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.auth.schemas import MeRead
from app.core.auth import Actor
from app.users.models import User


@dataclass(frozen=True)
class Login:
    user_id: uuid.UUID
    clinic_id: uuid.UUID
    password_hash: str
    is_active: bool


def find_login(session: Session, email: str) -> Login | None:
    row = session.execute(
        select(User.id, User.clinic_id, User.password_hash, User.is_active).where(
            func.lower(User.email) == email.strip().lower()
        )
    ).first()
    return Login(*row) if row else None


def describe(session: Session, actor: Actor) -> MeRead:
    if actor.api_key_id:
        key = session.get_one(ApiKey, actor.api_key_id)
        return MeRead(
            kind="api_key",
            id=key.id,
            clinic_id=key.clinic_id,
            role=actor.role,
            display_name=key.name,
        )
    user = session.get_one(User, actor.user_id)
    return MeRead(
        kind="user",
        id=user.id,
        clinic_id=user.clinic_id,
        role=user.role,
        email=user.email,
        display_name=user.display_name,
        patient_id=user.patient_id,
    )
