"""Hot reads in one statement on the driver's own connection: the caller checked and the
record fetched together, with no ORM, no transaction and no session.

For reads whose answer was rendered on write (a plan's document): the ORM and a session cost
more than everything else in such a request (docs/performance.md). A single statement sees one
committed state of the database, so it needs no transaction; on PostgreSQL it runs in
autocommit, one round trip. Anything that needs more than one statement takes a session from
`DirectRead.session()`, a read transaction as `get_session` gives.

Tests override `get_direct_read` to run the same SQL inside the test's own transaction.
"""

from __future__ import annotations

import re
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.auth.security import API_KEY_PREFIX, hash_api_key, read_token
from app.core.auth import Actor, oauth2_scheme
from app.core.config import get_settings
from app.core.db import get_engine, transaction
from app.core.errors import ServiceUnavailable, Unauthorized
from app.core.types import Role

Row = tuple[Any, ...]

# The caller as one derived table, so that the record's query checks them in the same
# statement. Columns: clinic_id, role, user_id, api_key_id, patient_id.
_USER_CALLER = (
    "SELECT u.clinic_id AS clinic_id, u.role AS role, u.id AS user_id,"
    " CAST(NULL AS UUID) AS api_key_id, u.patient_id AS patient_id"
    " FROM users u WHERE u.id = :caller_id AND u.clinic_id = :caller_clinic AND u.is_active"
)
_KEY_CALLER = (
    "SELECT k.clinic_id AS clinic_id, 'integration' AS role, CAST(NULL AS UUID) AS user_id,"
    " k.id AS api_key_id, CAST(NULL AS UUID) AS patient_id"
    " FROM api_keys k WHERE k.secret_hash = :caller_secret AND k.revoked_at IS NULL"
)
CALLER_COLUMNS = 5


@dataclass(frozen=True)
class Credentials:
    """What the bearer token says, before the database has confirmed it."""

    sql: str
    params: dict[str, Any]


def credentials(token: str | None) -> Credentials:
    """The caller's derived table and its parameters; 401 for a missing or forged token."""
    if not token:
        raise Unauthorized("Send a bearer token or an integration key.")
    if token.startswith(API_KEY_PREFIX):
        return Credentials(_KEY_CALLER, {"caller_secret": hash_api_key(token)})
    claims = read_token(get_settings(), token)
    if claims is None:
        raise Unauthorized("The credentials are invalid, expired or revoked.")
    return Credentials(
        _USER_CALLER, {"caller_id": claims.user_id, "caller_clinic": claims.clinic_id}
    )


def actor(row: Row) -> Actor:
    """The Actor from a row's first CALLER_COLUMNS columns."""
    clinic_id, role, user_id, api_key_id, patient_id = row[:CALLER_COLUMNS]
    return Actor(
        clinic_id=as_uuid(clinic_id),
        role=Role(role),
        user_id=as_uuid(user_id) if user_id is not None else None,
        api_key_id=as_uuid(api_key_id) if api_key_id is not None else None,
        patient_id=as_uuid(patient_id) if patient_id is not None else None,
    )


def as_uuid(value: Any) -> uuid.UUID:
    """psycopg reads a uuid; SQLite stores SQLAlchemy's Uuid as 32 hex digits."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def _pyformat(sql: str) -> str:
    """`:name` (sqlite3's style) as `%(name)s` (psycopg's)."""
    return _NAMED.sub(r"%(\1)s", sql)


class DirectRead:
    """A request's direct reads: `fetch_one` takes a pooled driver connection for its one
    statement and gives it back at once; `session()` opens a read transaction for a fallback
    that needs the ORM."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def fetch_one(self, sql: str, params: dict[str, Any]) -> Row | None:
        statement, bound = self._dialect(sql, params)
        errors = self._engine.dialect.loaded_dbapi.Error
        try:
            return self._execute(statement, bound)
        except errors as exc:
            # A pooled connection the server closed (a restart): the others are likely closed
            # too, so replace the pool, and try once more on a new connection. A read, so
            # trying again is safe.
            self._engine.dispose()
            try:
                return self._execute(statement, bound)
            except errors:
                raise ServiceUnavailable(
                    "The database is busy or unavailable; retry shortly.",
                    headers={"Retry-After": "1"},
                ) from exc

    def session(self) -> AbstractContextManager[Session]:
        return transaction(write=False)

    def _execute(self, statement: str, params: Any) -> Row | None:
        connection = self._engine.raw_connection()
        driver: Any = connection.driver_connection
        errors = self._engine.dialect.loaded_dbapi.Error
        try:
            if self._postgres:
                driver.autocommit = True
            cursor = connection.cursor()
            try:
                cursor.execute(statement, params)
                row: Row | None = cursor.fetchone()
            finally:
                cursor.close()
            if self._postgres:
                driver.autocommit = False
        except errors:
            connection.invalidate()  # lost: not one to give back to the pool
            raise
        connection.close()
        return row

    def _dialect(self, sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if self._postgres:
            return _pyformat(sql), params
        return sql, {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in params.items()}


async def get_direct_read() -> DirectRead:
    return DirectRead(get_engine())


DirectReadDep = Annotated[DirectRead, Depends(get_direct_read)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]
