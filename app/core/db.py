"""Engine and session: one request is one transaction.

SQLite gets foreign keys, WAL and a busy timeout on every connection, and pysqlite's own
transaction handling is switched off so that SQLAlchemy emits BEGIN itself: a session that
writes starts with BEGIN IMMEDIATE, so concurrent writers queue on the lock instead of
failing with "database is locked" when a read transaction tries to upgrade.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, create_engine, event
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


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_db_engine(url: str, *, pool_size: int = 5, busy_timeout_ms: int = 30_000) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # No pool_pre_ping: it costs a round trip on every checkout. A connection the server has
    # closed fails its request with a 503 (Retry-After) and SQLAlchemy then replaces every
    # pooled connection; direct reads (app.core.direct) retry once on a new connection.
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
    read = sessionmaker(engine, expire_on_commit=False)
    write = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    return read, write


@contextmanager
def transaction(*, write: bool) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    read_factory, write_factory = _session_factories()
    session = (write_factory if write else read_factory)()
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
