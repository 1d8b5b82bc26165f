"""Engine and session: one request is one transaction.

SQLite gets foreign keys, WAL and a busy timeout on every connection, and pysqlite's own
transaction handling is switched off so that SQLAlchemy emits BEGIN itself: a session that
writes starts with BEGIN IMMEDIATE, so concurrent writers queue on the lock instead of
failing with "database is locked" when a read transaction tries to upgrade.

Reads (GET, HEAD, OPTIONS, and the read sessions of `get_read_session`) take their connections
from a second, read-only pool, and end without a commit: there is nothing to commit.
- PostgreSQL: autocommit, so a read sends its statements and nothing else (no BEGIN and
  COMMIT round trips). Each statement sees only committed rows, as it does in a READ
  COMMITTED transaction, so a read sees what it saw before. The server refuses any write on
  these connections (`default_transaction_read_only`): a read cannot write half of anything.
- SQLite: `BEGIN`, deferred, so a request's statements read one snapshot, and
  `PRAGMA query_only`, so the database refuses writes there too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import get_settings

WRITE_OPTION = "rehab_write"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever the URL's scheme says."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, *, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    if read_only:
        event.listen(engine, "begin", _begin_read)
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _begin_read(connection: Connection) -> None:
    """A deferred BEGIN straight on the driver: it takes no lock, and SQLAlchemy's statement
    machinery would cost more than the read's own statements. SQLAlchemy does not wrap errors
    raised in its `begin` event, so a failure is wrapped here as its execution would be."""
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    try:
        dbapi_connection.execute("BEGIN")
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance("BEGIN", None, error, sqlite3.Error) from error


def create_db_engine(
    url: str, *, pool_size: int = 5, busy_timeout_ms: int = 30_000, read_only: bool = False
) -> Engine:
    """The engine, or with `read_only` the pool that read sessions use (module docstring)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
        )
        _configure_sqlite(engine, busy_timeout_ms, read_only=read_only)
        return engine
    # No pool_pre_ping: it costs a round trip on every checkout. A connection the server has
    # closed fails its request with a 503 (Retry-After) and SQLAlchemy then replaces every
    # pooled connection; direct reads (app.core.direct) retry once on a new connection.
    if read_only:
        return create_engine(
            url,
            pool_size=pool_size,
            isolation_level="AUTOCOMMIT",
            # In the connection's start-up packet: no statement of its own.
            connect_args={"options": "-c default_transaction_read_only=on"},
        )
    return create_engine(url, pool_size=pool_size)


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return create_db_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )


@lru_cache
def _session_factories() -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    engine = get_engine()
    settings = get_settings()
    reads = create_db_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        read_only=True,
    )
    # The read pool goes with the engine's: disposing the engine (a server restart seen by a
    # direct read, a test's teardown) replaces both.
    event.listen(engine, "engine_disposed", lambda _engine: reads.dispose())
    read = sessionmaker(reads, expire_on_commit=False)
    write = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    return read, write


@contextmanager
def transaction(*, write: bool) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error.

    A read session is closed instead (a rollback): it can hold nothing to commit, and its
    commit would run the session's commit machinery, its listeners included, for nothing.
    """
    read_factory, write_factory = _session_factories()
    if not write:
        with read_factory() as session:
            yield session
        return
    session = write_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: committed before the response is sent, rolled back on error.

    An async dependency on purpose: it runs on the event loop with the endpoint, so a request
    never hops to the threadpool (docs/decisions/0001-io-model.md).
    """
    with transaction(write=request.method not in SAFE_METHODS) as session:
        yield session


async def get_read_session() -> AsyncIterator[Session]:
    """A read-only transaction even for a POST: it holds no lock, so the request may await
    (a password check in the threadpool) while it is open."""
    with transaction(write=False) as session:
        yield session
