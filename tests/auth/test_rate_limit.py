"""Login throttling through /auth/token: per account, per address, shared through the database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from app.auth import rate_limit
from app.auth import router as auth_router
from app.auth.models import LoginFailure, LoginKeyKind
from app.auth.rate_limit import LoginAttempt
from app.core.config import get_settings
from app.core.db import transaction
from app.main import create_app
from tests.builders import PASSWORD, make_user

TOKEN = "/api/v1/auth/token"
ACCOUNT_LIMIT = get_settings().login_max_failures
ADDRESS_LIMIT = get_settings().login_max_failures_per_address
WINDOW = get_settings().login_window_seconds


def _login(client: TestClient, email: str, password: str = "wrong password") -> int:
    return client.post(TOKEN, data={"username": email, "password": password}).status_code


def _fail(client: TestClient, email: str, times: int) -> None:
    assert [_login(client, email) for _ in range(times)] == [401] * times


def _rows(session: Session) -> dict[tuple[str, str], LoginFailure]:
    session.expire_all()
    return {(r.key_kind.value, r.key): r for r in session.scalars(select(LoginFailure))}


@pytest.fixture(autouse=True)
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every password the token route checks, and checks it without argon2 (these
    tests make dozens of failed logins; hashing is tested in tests/auth/test_router.py)."""
    seen: list[str] = []

    def check(password: str, password_hash: str | None) -> bool:
        seen.append(password)
        return password_hash is not None and password == PASSWORD

    monkeypatch.setattr(auth_router, "verify_password", check)
    return seen


def test_account_locks_after_the_limit_without_checking_the_password(
    client: TestClient, session: Session, hashes: list[str]
) -> None:
    user = make_user(session)
    _fail(client, user.email, ACCOUNT_LIMIT)
    assert len(hashes) == ACCOUNT_LIMIT
    locked = client.post(TOKEN, data={"username": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert 0 < int(locked.headers["retry-after"]) <= WINDOW
    assert locked.json()["status"] == 429
    assert len(hashes) == ACCOUNT_LIMIT, "a locked account's password is never hashed"
    row = _rows(session)[("account", user.email)]
    assert (row.count, row.locked_until) == (
        ACCOUNT_LIMIT,
        row.window_start + timedelta(seconds=WINDOW),
    )


def test_an_unknown_email_locks_exactly_like_a_known_one(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    answers = []
    for email in (user.email, f"nobody-{uuid.uuid4().hex[:8]}@example.org"):
        _fail(client, email, ACCOUNT_LIMIT)
        answers.append(client.post(TOKEN, data={"username": email, "password": PASSWORD}))
    known, unknown = answers
    assert known.status_code == unknown.status_code == 429
    assert {**known.json(), "instance": None} == {**unknown.json(), "instance": None}


def test_the_email_is_counted_whatever_its_case_and_spaces(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    for email in (user.email.upper(), f"  {user.email}  ", user.email):
        _fail(client, email, 1)
    assert _rows(session)[("account", user.email)].count == 3


def test_a_success_clears_the_accounts_count_but_not_the_addresss(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    _fail(client, user.email, ACCOUNT_LIMIT - 1)
    assert _login(client, user.email, PASSWORD) == 200
    rows = _rows(session)
    assert ("account", user.email) not in rows
    assert rows[("address", "testclient")].count == ACCOUNT_LIMIT - 1
    _fail(client, user.email, ACCOUNT_LIMIT - 1)
    assert _login(client, user.email, PASSWORD) == 200


def test_one_address_locks_after_its_limit_across_emails(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    for i in range(ADDRESS_LIMIT):
        assert _login(client, f"guess-{i}@example.org") == 401
    assert _rows(session)[("address", "testclient")].count == ADDRESS_LIMIT
    locked = client.post(TOKEN, data={"username": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


def test_the_lock_ends_with_the_window(client: TestClient, session: Session) -> None:
    user = make_user(session)
    _fail(client, user.email, ACCOUNT_LIMIT)
    assert _login(client, user.email, PASSWORD) == 429
    past = timedelta(seconds=WINDOW + 1)
    for row in _rows(session).values():
        row.window_start -= past
        row.locked_until = row.locked_until - past if row.locked_until else None
    ended = LoginFailure(
        key_kind=LoginKeyKind.account,
        key="gone@example.org",
        count=2,
        window_start=row.window_start,
    )
    session.add(ended)
    # A failure after the window starts a new count at one, and keys whose window ended and
    # that nobody tried again are forgotten.
    assert _login(client, user.email) == 401
    rows = _rows(session)
    assert (rows[("account", user.email)].count, rows[("address", "testclient")].count) == (1, 1)
    assert ("account", "gone@example.org") not in rows
    assert _login(client, user.email, PASSWORD) == 200


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_the_address_key(host: str | None, key: str) -> None:
    assert LoginAttempt.of(" Someone@Example.org ", host) == LoginAttempt(
        "someone@example.org", key
    )


# Two app instances with no dependency overrides share nothing but the database, as two API
# processes do; so their writes really commit, and the test deletes what it counted.

OTHER_PROCESS_ADDRESS = "198.51.100.23"


@pytest.fixture
def unknown_email(engine: Engine) -> Iterator[str]:  # noqa: ARG001
    email = f"stranger-{uuid.uuid4().hex[:8]}@example.org"
    yield email
    with transaction(write=True) as session:
        session.execute(
            delete(LoginFailure).where(LoginFailure.key.in_([email, OTHER_PROCESS_ADDRESS]))
        )


def test_a_lock_set_by_one_process_holds_in_another(unknown_email: str) -> None:
    first = TestClient(create_app(), client=(OTHER_PROCESS_ADDRESS, 40000))
    second = TestClient(create_app(), client=(OTHER_PROCESS_ADDRESS, 40001))
    with first, second:
        _fail(first, unknown_email, ACCOUNT_LIMIT - 1)
        assert _login(second, unknown_email) == 401
        assert _login(first, unknown_email) == 429
        assert _login(second, unknown_email) == 429
    with transaction(write=False) as session:
        kinds = session.scalars(
            select(LoginFailure.key_kind).where(
                LoginFailure.key.in_([unknown_email, OTHER_PROCESS_ADDRESS])
            )
        ).all()
    assert sorted(kinds) == [LoginKeyKind.account, LoginKeyKind.address]


def test_concurrent_failures_from_several_processes_are_all_counted(unknown_email: str) -> None:
    """Writers racing on one key, each in its own committed transaction (on PostgreSQL the
    first inserts race on the unique constraint; on SQLite BEGIN IMMEDIATE queues them)."""
    attempt = LoginAttempt(unknown_email, OTHER_PROCESS_ADDRESS)
    errors: list[BaseException] = []

    def fail_repeatedly() -> None:
        try:
            for _ in range(5):
                with transaction(write=True) as session:
                    rate_limit.record_failure(session, attempt, get_settings())
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=fail_repeatedly) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with transaction(write=False) as session:
        rows = session.scalars(
            select(LoginFailure).where(LoginFailure.key.in_([unknown_email, OTHER_PROCESS_ADDRESS]))
        )
        counts = {row.key: row.count for row in rows}
    assert counts == {unknown_email: 30, OTHER_PROCESS_ADDRESS: 30}
