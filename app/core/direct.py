"""Hot reads in one statement on the driver's own connection: the caller checked and the
record fetched together, with no ORM, no transaction and no session.

For reads whose answer was rendered on write (a plan's document): the ORM and a session cost
more than everything else in such a request (docs/performance.md). A single statement sees one
committed state of the database, so it needs no transaction; on PostgreSQL it runs in
autocommit, one round trip. Anything that needs more than one statement takes a session from
`DirectRead.session()`, a read transaction as `get_session` gives.

The statements are SQLAlchemy Core, compiled once per dialect; rows come back as the driver's
mapping rows, read by column name, with the driver's values (SQLite's are text for a uuid or a
date).

Tests override `get_direct_read` to run the same SQL inside the test's own transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from contextlib import AbstractContextManager
from datetime import date
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends
from psycopg.rows import dict_row
from sqlalchemy import Engine, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from app.core import caller
from app.core.auth import Actor, oauth2_scheme
from app.core.db import get_engine, transaction
from app.core.errors import ServiceUnavailable, Unauthorized

logger = logging.getLogger(__name__)

# Named parameters on both: sqlite3 takes `:name`, psycopg `%(name)s`.
_COMPILERS: dict[str, Dialect] = {
    "postgresql": postgresql.psycopg.dialect(),  # type: ignore[no-untyped-call]  # unannotated
    "sqlite": sqlite.pysqlite.dialect(paramstyle="named"),
}


@lru_cache(maxsize=256)
def _sql(statement: Select[*tuple[Any, ...]], dialect: str) -> str:
    return str(statement.compile(dialect=_COMPILERS[dialect]))


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores them on SQLite: a uuid as 32 hex digits, a date as ISO 8601."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_date(value: Any) -> date | None:
    """psycopg reads a date; SQLite's driver reads the ISO 8601 text SQLAlchemy stored."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


class _ConnectionLost(Exception):
    """The connection failed, not the statement: the driver says it is closed or broken."""


class DirectRead:
    """A request's direct reads: `fetch_one` takes a pooled driver connection for its one
    statement and gives it back at once; `session()` opens a read transaction for a fallback
    that needs the ORM."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect

    def fetch_one(
        self, statement: Select[*tuple[Any, ...]], params: dict[str, Any]
    ) -> caller.Row | None:
        sql, bound = self._prepare(statement, params)
        try:
            return self._execute(sql, bound)
        except _ConnectionLost as lost:
            # A pooled connection the server closed (a restart): the others likely are too, so
            # replace the pool and try once more on a new connection (a read: safe to repeat).
            logger.warning("direct read: connection lost, replacing the pool: %s", lost.__cause__)
            self._engine.dispose()
        try:
            return self._execute(sql, bound)
        except _ConnectionLost as lost:
            raise ServiceUnavailable(
                "The database is busy or unavailable; retry shortly.",
                headers={"Retry-After": "1"},
            ) from lost.__cause__

    def session(self) -> AbstractContextManager[Session]:
        return transaction(write=False)

    def write_session(self) -> AbstractContextManager[Session]:
        """A write transaction, for a read that must first bring a projection current."""
        return transaction(write=True)

    @property
    def _postgres(self) -> bool:
        return self._dialect.name == "postgresql"

    def _prepare(
        self, statement: Select[*tuple[Any, ...]], params: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The statement's SQL for this dialect, and its parameters as the driver takes them."""
        sql = _sql(statement, self._dialect.name)
        if self._postgres:
            return sql, params
        return sql, {name: _sqlite_value(value) for name, value in params.items()}

    def _execute(self, sql: str, params: dict[str, Any]) -> caller.Row | None:
        pooled = self._engine.raw_connection()
        driver: Any = pooled.driver_connection
        lost = False
        try:
            return self._fetch(driver, sql, params)
        except self._dialect.loaded_dbapi.Error as exc:
            lost = self._dialect.is_disconnect(exc, driver, None)
            if lost:
                raise _ConnectionLost from exc
            logger.error("direct read failed: %r in %s", exc, sql)
            raise
        finally:
            # Back to the pool only as the pool lent it: connected, and out of autocommit, as
            # the sessions that take it next expect.
            if lost or (self._postgres and driver.autocommit):
                pooled.invalidate()
            else:
                pooled.close()

    def _fetch(self, driver: Any, sql: str, params: dict[str, Any]) -> caller.Row | None:
        if not self._postgres:
            cursor = driver.cursor()
            cursor.row_factory = sqlite3.Row
            try:
                cursor.execute(sql, params)
                row: caller.Row | None = cursor.fetchone()
            finally:
                cursor.close()
            return row
        driver.autocommit = True  # one statement: no BEGIN, no ROLLBACK, one round trip
        try:
            with driver.cursor(row_factory=dict_row) as cursor:
                cursor.execute(sql, params)
                found: caller.Row | None = cursor.fetchone()
            return found
        finally:
            if not driver.closed:  # a lost connection is invalidated, not given back
                driver.autocommit = False


def actor(reader: DirectRead, token: str | None) -> Actor:
    """The caller alone, as `get_actor` finds them, in one direct statement: 401 if unknown."""
    found = caller.credentials(token)
    row = reader.fetch_one(found.statement, found.params)
    if row is None:
        raise Unauthorized(caller.INVALID)
    return Actor.from_row(row)


async def get_direct_read() -> DirectRead:
    return DirectRead(get_engine())


DirectReadDep = Annotated[DirectRead, Depends(get_direct_read)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]
