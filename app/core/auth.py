"""Who is calling: the Actor every service receives, and the role guards routes declare."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core import caller
from app.core.db import get_read_session, get_session
from app.core.errors import Forbidden, Unauthorized
from app.core.types import Role

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

    @classmethod
    def from_row(cls, row: caller.Row) -> Actor:
        """From a caller row (app.core.caller), as the ORM or a driver reads it."""
        return cls(
            clinic_id=caller.as_uuid(row["clinic_id"]),
            role=Role(row["role"]),
            user_id=caller.as_optional_uuid(row["user_id"]),
            api_key_id=caller.as_optional_uuid(row["api_key_id"]),
            patient_id=caller.as_optional_uuid(row["patient_id"]),
        )


def find_actor(session: Session, token: str | None) -> Actor:
    """The token's caller, confirmed by the database; 401 otherwise."""
    found = caller.credentials(token)
    row = session.execute(found.statement, found.params).mappings().first()
    if row is None:
        raise Unauthorized(caller.INVALID)
    return Actor.from_row(row)


async def get_actor(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    return find_actor(session, token)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def ensure_role(actor: Actor, roles: frozenset[Role]) -> Actor:
    """The actor, if their role is one of `roles`; 403 otherwise."""
    if actor.role not in roles:
        raise Forbidden(f"The {actor.role} role may not do this.")
    return actor


def require_role(*roles: Role) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    allowed = frozenset(roles)

    async def guard(actor: CurrentActor) -> Actor:
        return ensure_role(actor, allowed)

    return guard


CLINICAL_ROLES = frozenset({Role.admin, Role.clinician, Role.integration})
"""Those who care for the clinic's patients: ClinicalActor, and reads that check the caller
themselves (the worklist)."""

AdminActor = Annotated[Actor, Depends(require_role(Role.admin))]
ClinicalActor = Annotated[Actor, Depends(require_role(*CLINICAL_ROLES))]
