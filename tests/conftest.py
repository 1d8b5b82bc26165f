from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, Select, event
from sqlalchemy.orm import Session

from tests import database

os.environ["REHAB_ENV"] = "test"
os.environ["REHAB_SECRET_KEY"] = "test-secret-key-that-is-long-enough-for-hs256"
_DATABASE_URL = database.create()
os.environ["DATABASE_URL"] = _DATABASE_URL

from app.core import migrations  # noqa: E402
from app.core.caller import Row  # noqa: E402
from app.core.db import get_engine, get_read_session, get_session  # noqa: E402
from app.core.direct import DirectRead, get_direct_read  # noqa: E402
from app.main import create_app  # noqa: E402


@pytest.fixture(scope="session")
def engine() -> Engine:
    migrations.upgrade(_DATABASE_URL)
    return get_engine()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:  # noqa: ARG001
    """Drops the suite's throwaway database, whether or not any test used it."""
    get_engine().dispose()
    database.drop(_DATABASE_URL)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """Each test's writes live in an outer transaction that is rolled back afterwards."""
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app()


SETTING_UP = "tests.setting_up"


class IsolatedSessionTestClient(TestClient):
    """Commits what the test built (into the outer transaction), then empties the session
    before each request, so a lazy load fails as it would in production."""

    def __init__(self, app: FastAPI, session: Session, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._session = session

    def request(self, *args: Any, **kwargs: Any) -> Any:
        # What the test built is committed (and so projected) before the request, uncounted:
        # a statement budget is the request's own.
        self._session.info[SETTING_UP] = True
        try:
            self._session.commit()
        finally:
            self._session.info.pop(SETTING_UP)
        self._session.expunge_all()
        return super().request(*args, **kwargs)


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    async def request_session() -> Any:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    async def direct_read() -> SessionDirectRead:
        return SessionDirectRead(session)

    app.dependency_overrides[get_session] = request_session
    app.dependency_overrides[get_read_session] = request_session
    app.dependency_overrides[get_direct_read] = direct_read
    with IsolatedSessionTestClient(app, session) as test_client:
        yield test_client
    app.dependency_overrides.clear()


class SessionDirectRead(DirectRead):
    """The production SQL, run inside the test's own transaction (so `statements` counts it),
    read back as mapping rows of the driver's values as production reads them."""

    def __init__(self, session: Session) -> None:
        self._own = session
        self._dialect = session.get_bind().dialect

    def fetch_one(self, statement: Select[*tuple[Any, ...]], params: dict[str, Any]) -> Row | None:
        sql, bound = self._prepare(statement, params)
        return self._own.connection().exec_driver_sql(sql, bound).mappings().first()

    def session(self) -> AbstractContextManager[Session]:
        return nullcontext(self._own)

    def write_session(self) -> AbstractContextManager[Session]:
        return nullcontext(self._own)


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def statements(connection: Connection, session: Session) -> Iterator[StatementCounter]:
    """Counts the SQL statements the test's connection runs (savepoints excluded, and the
    client's commit of what the test built)."""
    counter = StatementCounter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if session.info.get(SETTING_UP):
            return
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            counter.statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    yield counter
    event.remove(connection, "before_cursor_execute", count)
