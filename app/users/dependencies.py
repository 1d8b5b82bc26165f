from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from app.core.auth import (
    Actor,
    AdminActor,
    ReadSessionDep,
    SessionDep,
    get_actor,
    oauth2_scheme,
    require_role,
)
from app.core.types import Role
from app.idempotency.dependencies import Idempotency, IdempotencyKeyHeader
from app.users import service as users_service
from app.users.models import User


async def user_or_404(user_id: uuid.UUID, session: SessionDep, actor: AdminActor) -> User:
    return users_service.get(session, actor, user_id)


async def admin_before_write(
    session: ReadSessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    """The admin, authenticated in a read transaction: on SQLite the write transaction takes the
    write lock at its first statement, so a route that must await (a password hash) before
    writing authenticates here and leaves its write session untouched until the service runs."""
    actor = await get_actor(session, token)
    return await require_role(Role.admin)(actor)


UserDep = Annotated[User, Depends(user_or_404)]
AdminBeforeWrite = Annotated[Actor, Depends(admin_before_write)]


async def idempotency_before_write(
    request: Request,
    session: SessionDep,
    actor: AdminBeforeWrite,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Idempotency:
    """Idempotency-Key for a route that awaits before it writes: the admin comes from the read
    transaction, and the key is claimed only when the route calls `replay`, after its await."""
    return Idempotency(session, actor, request, idempotency_key)


IdempotencyBeforeWrite = Annotated[Idempotency, Depends(idempotency_before_write)]
