"""What a direct read (app.core.direct) does when the driver fails: a connection the server
dropped replaces the pool and is tried once more, then answers 503 with Retry-After; any other
error is the request's own 500, and leaves the pool alone."""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, literal_column, select

from app.core import caller
from app.core.db import create_db_engine
from app.core.direct import DirectRead, get_direct_read
from app.core.errors import ServiceUnavailable
from tests import database

A_ROW = {"clinic_id": uuid.uuid4(), "role": "integration", "user_id": None}
KEY_PARAMS = {"caller_secret": "0" * 64}


class FakeCursor:
    def __init__(self, driver: FakeDriver) -> None:
        self._driver = driver

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def execute(self, _sql: str, _params: dict[str, Any]) -> None:
        self._driver.executed_in_autocommit = self._driver.autocommit
        if self._driver.drops:
            self._driver.closed = self._driver.broken = True
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        if self._driver.error is not None:
            raise self._driver.error

    def fetchone(self) -> dict[str, Any]:
        return A_ROW

    def close(self) -> None:
        pass


class FakeDriver:
    """psycopg's connection, as far as a direct read uses it."""

    def __init__(self, *, drops: bool = False, error: Exception | None = None) -> None:
        self.drops, self.error = drops, error
        self.autocommit = False
        self.closed = self.broken = False
        self.executed_in_autocommit: bool | None = None

    def cursor(self, *, row_factory: Any) -> FakeCursor:
        assert row_factory is psycopg.rows.dict_row
        return FakeCursor(self)


class FakePooled:
    """The pool's proxy around a driver connection."""

    def __init__(self, driver: Any) -> None:
        self.driver_connection = driver
        self.outcome = "lent"

    def invalidate(self, _error: BaseException | None = None) -> None:
        self.outcome = "invalidated"

    def close(self) -> None:
        self.outcome = "given back"


class Pool:
    """The connections the engine lends, in turn, and how often the pool was replaced."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch, *drivers: Any) -> None:
        self.lent = [FakePooled(driver) for driver in drivers]
        self.replaced = 0
        queue = iter(self.lent)
        monkeypatch.setattr(engine, "raw_connection", lambda: next(queue))
        monkeypatch.setattr(engine, "dispose", self._replace)

    def _replace(self) -> None:
        self.replaced += 1


@pytest.fixture
def postgres() -> Engine:
    return create_engine("postgresql+psycopg://nobody@127.0.0.1:1/never_connected")


def test_a_dropped_connection_replaces_the_pool_and_is_tried_once_more(
    postgres: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped, fresh = FakeDriver(drops=True), FakeDriver()
    pool = Pool(postgres, monkeypatch, dropped, fresh)

    row = DirectRead(postgres).fetch_one(caller.KEY, KEY_PARAMS)

    assert row == A_ROW
    assert pool.replaced == 1
    assert [pooled.outcome for pooled in pool.lent] == ["invalidated", "given back"]
    assert fresh.executed_in_autocommit is True  # one statement, one round trip
    assert fresh.autocommit is False  # as the sessions that take it next expect


def test_a_connection_dropped_twice_is_a_503_with_retry_after(
    postgres: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = Pool(postgres, monkeypatch, FakeDriver(drops=True), FakeDriver(drops=True))

    with pytest.raises(ServiceUnavailable) as refused:
        DirectRead(postgres).fetch_one(caller.KEY, KEY_PARAMS)

    assert refused.value.status == 503
    assert refused.value.headers == {"Retry-After": "1"}
    assert isinstance(refused.value.__cause__, psycopg.OperationalError)
    assert pool.replaced == 1
    assert [pooled.outcome for pooled in pool.lent] == ["invalidated", "invalidated"]


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.SyntaxError('syntax error at or near "SELEC"'),
        psycopg.errors.UndefinedColumn('column "clinic" does not exist'),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
    ],
)
def test_an_error_of_the_statement_is_raised_and_leaves_the_pool_alone(
    postgres: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    """A bad statement, or one the server cancelled on a live connection: retrying would fail
    again, and the other pooled connections are fine."""
    driver = FakeDriver(error=error)
    pool = Pool(postgres, monkeypatch, driver)

    with caplog.at_level(logging.ERROR, logger="app.core.direct"):
        with pytest.raises(type(error)):
            DirectRead(postgres).fetch_one(caller.KEY, KEY_PARAMS)

    assert pool.replaced == 0
    assert [pooled.outcome for pooled in pool.lent] == ["given back"]
    assert driver.autocommit is False
    assert type(error).__name__ in caplog.text
    assert str(error) in caplog.text


def test_on_sqlite_a_closed_connection_is_a_dropped_one(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine("sqlite://")
    closed, open_ = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    closed.close()
    pool = Pool(engine, monkeypatch, closed, open_)

    row = DirectRead(engine).fetch_one(select(literal_column("7").label("seven")), {})

    assert row is not None
    assert row["seven"] == 7
    assert pool.replaced == 1
    assert [pooled.outcome for pooled in pool.lent] == ["invalidated", "given back"]


def test_on_sqlite_a_bad_statement_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite reports a missing table as an OperationalError: still the statement's fault."""
    engine = create_engine("sqlite://")
    pool = Pool(engine, monkeypatch, sqlite3.connect(":memory:"))

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        DirectRead(engine).fetch_one(caller.KEY, KEY_PARAMS)

    assert pool.replaced == 0
    assert [pooled.outcome for pooled in pool.lent] == ["given back"]


@pytest.fixture
def over_http(app: FastAPI, postgres: Engine) -> Iterator[tuple[TestClient, Engine]]:
    """The app, its direct reads on `postgres` (whose connections the test lends)."""

    async def direct_read() -> DirectRead:
        return DirectRead(postgres)

    app.dependency_overrides[get_direct_read] = direct_read
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, postgres
    app.dependency_overrides.clear()


@pytest.mark.parametrize("url", ["/api/v1/worklist", f"/api/v1/plans/{uuid.uuid4()}"])
def test_over_http_a_lost_database_is_a_503_and_a_bad_statement_a_500(
    over_http: tuple[TestClient, Engine], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    client, engine = over_http
    headers = {"Authorization": "Bearer rk_not_checked_by_the_fakes"}
    drivers = [FakeDriver(drops=True), FakeDriver(drops=True)]
    Pool(engine, monkeypatch, *drivers, FakeDriver(error=psycopg.errors.SyntaxError("SELEC")))

    lost = client.get(url, headers=headers)
    broken = client.get(url, headers=headers)

    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    assert lost.headers["content-type"] == "application/problem+json"
    assert broken.status_code == 500


@pytest.mark.skipif(database.kind() != "postgres", reason="a PostgreSQL backend to terminate")
def test_a_connection_the_server_terminated_is_replaced_on_postgresql() -> None:
    engine = create_db_engine(os.environ["DATABASE_URL"], pool_size=1)
    reader, backend = DirectRead(engine), select(func.pg_backend_pid().label("pid"))
    try:
        first = reader.fetch_one(backend, {})
        assert first is not None
        with psycopg.connect(database.postgres_server_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first["pid"],))

        second = reader.fetch_one(backend, {})

        assert second is not None
        assert second["pid"] != first["pid"]
        pooled = engine.raw_connection()
        assert pooled.driver_connection.autocommit is False  # type: ignore[union-attr]
        pooled.close()
    finally:
        engine.dispose()
