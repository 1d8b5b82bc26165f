"""Who is calling, defined once: the statement that finds a user or an integration key, for
`get_actor` (through the session) and for the direct reads (app.core.direct), which embed it
as a derived table so that one statement checks the caller and fetches the record.

A caller row has the columns clinic_id, role, user_id, api_key_id and patient_id; `Actor.from_row`
(app.core.auth) turns it into the Actor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, Uuid, bindparam, cast, literal_column, null, select

from app.api_keys.models import ApiKey
from app.auth.security import API_KEY_PREFIX, hash_api_key, read_token
from app.core.config import get_settings
from app.core.errors import Unauthorized
from app.core.types import Role
from app.users.models import User

INVALID = "The credentials are invalid, expired or revoked."

users, api_keys = User.__table__, ApiKey.__table__


def _no_uuid(name: str) -> Any:
    # Typed, so that PostgreSQL can compare the derived table's column with a uuid.
    return cast(null(), Uuid()).label(name)


def _constant(value: str) -> Any:
    # Rendered in the SQL rather than bound, so the compiled string needs no extra parameter.
    return literal_column(f"'{value}'")


# Active users only, in the clinic their token names.
USER: Select[*tuple[Any, ...]] = select(
    users.c.clinic_id,
    users.c.role,
    users.c.id.label("user_id"),
    _no_uuid("api_key_id"),
    users.c.patient_id,
).where(
    users.c.id == bindparam("caller_id", type_=Uuid()),
    users.c.clinic_id == bindparam("caller_clinic", type_=Uuid()),
    users.c.is_active,
)
# Unrevoked keys only, found by the hash of their secret.
KEY: Select[*tuple[Any, ...]] = select(
    api_keys.c.clinic_id,
    _constant(Role.integration.value).label("role"),
    _no_uuid("user_id"),
    api_keys.c.id.label("api_key_id"),
    _no_uuid("patient_id"),
).where(api_keys.c.secret_hash == bindparam("caller_secret"), api_keys.c.revoked_at.is_(None))
PATIENT = _constant(Role.patient.value)


class Row(Protocol):
    """A row read by column name: SQLAlchemy's RowMapping, psycopg's dict_row, sqlite3.Row."""

    def __getitem__(self, column: str, /) -> Any: ...


@dataclass(frozen=True)
class Credentials:
    """What the bearer token says, before the database has confirmed it: the caller's
    statement (USER or KEY) and its parameters."""

    statement: Select[*tuple[Any, ...]]
    params: dict[str, Any]


def credentials(token: str | None) -> Credentials:
    """The statement that finds the token's caller; 401 for a missing or forged token."""
    if not token:
        raise Unauthorized("Send a bearer token or an integration key.")
    if token.startswith(API_KEY_PREFIX):
        return Credentials(KEY, {"caller_secret": hash_api_key(token)})
    claims = read_token(get_settings(), token)
    if claims is None:
        raise Unauthorized(INVALID)
    return Credentials(USER, {"caller_id": claims.user_id, "caller_clinic": claims.clinic_id})


def as_uuid(value: Any) -> uuid.UUID:
    """The ORM and psycopg read a uuid; SQLite's driver reads SQLAlchemy's Uuid as 32 hex
    digits."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def as_optional_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else as_uuid(value)
