"""Who is calling: the Actor every service receives, and the role guards routes declare."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.auth.security import API_KEY_PREFIX, hash_api_key, read_token
from app.core.config import get_settings
from app.core.db import get_read_session, get_session
from app.core.errors import Forbidden, Unauthorized
from app.core.types import Role
from app.users.models import User

SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="A bearer JWT from /api/v1/auth/token, or an integration key `rk_...`.",
)


@dataclass(frozen=True)
class Actor:
    clinic_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None

    @property
    def kind(self) -> str:
        return "api_key" if self.api_key_id else "user"

    @property
    def id(self) -> uuid.UUID:
        actor_id = self.api_key_id or self.user_id
        assert actor_id is not None
        return actor_id

    @property
    def is_patient(self) -> bool:
        return self.role is Role.patient


def _api_key_actor(session: Session, secret: str) -> Actor | None:
    row = session.execute(
        select(ApiKey.id, ApiKey.clinic_id).where(
            ApiKey.secret_hash == hash_api_key(secret), ApiKey.revoked_at.is_(None)
        )
    ).first()
    return Actor(clinic_id=row.clinic_id, role=Role.integration, api_key_id=row.id) if row else None


def _user_actor(session: Session, token: str) -> Actor | None:
    claims = read_token(get_settings(), token)
    if claims is None:
        return None
    row = session.execute(
        select(User.role, User.patient_id).where(
            User.id == claims.user_id, User.clinic_id == claims.clinic_id, User.is_active
        )
    ).first()
    if row is None:
        return None
    return Actor(
        clinic_id=claims.clinic_id, role=row.role, user_id=claims.user_id, patient_id=row.patient_id
    )


async def get_actor(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    if not token:
        raise Unauthorized("Send a bearer token or an integration key.")
    if token.startswith(API_KEY_PREFIX):
        actor = _api_key_actor(session, token)
    else:
        actor = _user_actor(session, token)
    if actor is None:
        raise Unauthorized("The credentials are invalid, expired or revoked.")
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require_role(*roles: Role) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    allowed = frozenset(roles)

    async def guard(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise Forbidden(f"The {actor.role} role may not do this.")
        return actor

    return guard


AdminActor = Annotated[Actor, Depends(require_role(Role.admin))]
ClinicalActor = Annotated[
    Actor, Depends(require_role(Role.admin, Role.clinician, Role.integration))
]
