from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.api_keys.schemas import ApiKeyCreate
from app.audit import service as audit_service
from app.auth.security import hash_api_key, new_api_key_secret
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams, paginate

# "rk_" and 8 random characters: enough to tell keys apart, far too few to guess one.
PREFIX_LENGTH = 11


def readable(actor: Actor) -> Select[ApiKey]:
    return select(ApiKey).where(ApiKey.clinic_id == actor.clinic_id)


def get(session: Session, actor: Actor, api_key_id: uuid.UUID) -> ApiKey:
    key = session.scalars(readable(actor).where(ApiKey.id == api_key_id)).first()
    if key is None:
        raise NotFound("No API key with that id in your clinic.")
    return key


def search(
    session: Session, actor: Actor, page: PageParams, *, include_revoked: bool = False
) -> tuple[list[ApiKey], str | None]:
    statement = readable(actor)
    if not include_revoked:
        statement = statement.where(ApiKey.revoked_at.is_(None))
    return paginate(session, statement, (ApiKey.created_at, ApiKey.id), page)


def create(session: Session, actor: Actor, data: ApiKeyCreate) -> tuple[ApiKey, str]:
    """Issues a key; the secret is returned here once and only its hash is kept."""
    assert actor.user_id is not None, "only a user (an admin) issues keys"
    secret = new_api_key_secret()
    key = ApiKey(
        clinic_id=actor.clinic_id,
        name=data.name,
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=hash_api_key(secret),
        created_by_id=actor.user_id,
    )
    session.add(key)
    session.flush()
    audit_service.record(session, actor, "create", "api_key", key.id, {"prefix": key.prefix})
    return key, secret


def revoke(session: Session, actor: Actor, key: ApiKey, expected_version: int) -> ApiKey:
    check_version(key.version, expected_version)
    if key.revoked_at is not None:
        raise Conflict("The API key is already revoked.")
    key.revoked_at = datetime.now(UTC)
    session.flush()
    audit_service.record(session, actor, "revoke", "api_key", key.id)
    return key
