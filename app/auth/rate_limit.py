"""Login throttling: 429 after too many failed logins per account and per client address.

The counts live in the `login_failures` table, so every API process sees the same ones. Each
key (the submitted email, lower-cased, whether or not a user has it; and the client address)
counts failures in a fixed window that opens at its first failure. A key that reaches its
limit is locked until its window ends, and a locked key is refused before any password is
hashed: a guess against a locked account costs the server nothing and tells the guesser
nothing, not even whether the account exists.

The client address is `request.client.host`. `rehab serve` runs uvicorn with
`proxy_headers=True`, which believes X-Forwarded-For only when the connection comes from an
address in FORWARDED_ALLOW_IPS (uvicorn's variable, default 127.0.0.1 and ::1); from anyone
else the header is ignored, so a client cannot choose the address it is counted under. Behind
a proxy that is not listed there, every login counts against the proxy's address.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.auth.models import LoginFailure, LoginKeyKind
from app.core.config import Settings
from app.core.errors import PROBLEM_BASE, AppError
from app.core.orm import utcnow

# At most this many forgotten keys are deleted per failure: bounded work, and the table still
# drains, since a failure adds at most two rows.
PURGE_BATCH = 100


class TooManyLoginAttempts(AppError):
    status, title, type = 429, "Too many requests", PROBLEM_BASE + "too-many-requests"


@dataclass(frozen=True)
class LoginAttempt:
    email: str
    address: str

    @classmethod
    def of(cls, email: str, client_host: str | None) -> LoginAttempt:
        return cls(email=email.strip().lower(), address=_address_key(client_host))

    def keys(self) -> tuple[tuple[LoginKeyKind, str], ...]:
        # Always account first: concurrent writers lock the two rows in the same order.
        return ((LoginKeyKind.account, self.email), (LoginKeyKind.address, self.address))


def _address_key(host: str | None) -> str:
    """An IPv4 address as it is; an IPv6 address by its /64, which one client usually holds."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _limit(settings: Settings, kind: LoginKeyKind) -> int:
    if kind is LoginKeyKind.account:
        return settings.login_max_failures
    return settings.login_max_failures_per_address


def _key_filter(attempt: LoginAttempt) -> ColumnElement[bool]:
    return or_(
        *(
            and_(LoginFailure.key_kind == kind, LoginFailure.key == key)
            for kind, key in attempt.keys()
        )
    )


def check(session: Session, attempt: LoginAttempt) -> bool:
    """Raises TooManyLoginAttempts while either key is locked; else says whether the account
    has failures on record (a success then clears them)."""
    now = utcnow()
    rows = session.scalars(select(LoginFailure).where(_key_filter(attempt))).all()
    locked = [row.locked_until for row in rows if row.locked_until and row.locked_until > now]
    if locked:
        retry_after = max(1, math.ceil((max(locked) - now).total_seconds()))
        raise TooManyLoginAttempts(
            "Too many failed logins; try again later.",
            headers={"Retry-After": str(retry_after)},
        )
    return any(row.key_kind is LoginKeyKind.account for row in rows)


# The write side. The token route reads with a read-only session and ends it before it awaits
# the password check in the threadpool; these run afterwards, in the request's write session
# (SessionDep). That session begins its transaction (BEGIN IMMEDIATE on SQLite) at its first
# statement here, after the await, and commits here before anything else is awaited. They
# commit themselves because a failure is followed by a 401, which rolls the request's session
# back. The request's session rather than a transaction of their own: the tests swap
# get_session for their rolled-back session, and so see the rows.


def record_failure(session: Session, attempt: LoginAttempt, settings: Settings) -> None:
    now = utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    for kind, key in attempt.keys():
        _count_failure(session, kind, key, _limit(settings, kind), now, window)
    _forget_ended_windows(session, now - window)
    session.commit()


def record_success(session: Session, attempt: LoginAttempt) -> None:
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.key_kind == LoginKeyKind.account, LoginFailure.key == attempt.email
        )
    )
    session.commit()


def _count_failure(
    session: Session,
    kind: LoginKeyKind,
    key: str,
    limit: int,
    now: datetime,
    window: timedelta,
) -> None:
    row = _locked_row(session, kind, key)
    if row is None:
        # Another process may insert the same key at the same moment: the unique constraint
        # lets one insert win, and the loser counts on the winner's row.
        if _insert_first(session, kind, key, limit, now, window):
            return
        row = _locked_row(session, kind, key)
        assert row is not None
    if row.window_start + window <= now:
        row.window_start, row.count, row.locked_until = now, 0, None
    row.count += 1
    if row.count >= limit:
        row.locked_until = row.window_start + window
    session.flush()


def _forget_ended_windows(session: Session, cutoff: datetime) -> None:
    """Deletes keys whose window has ended: they hold nothing a new window needs. Rows another
    transaction holds are skipped, not waited for, so two failures never wait on each other."""
    ended = (
        select(LoginFailure.id)
        .where(LoginFailure.window_start <= cutoff)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(LoginFailure).where(LoginFailure.id.in_(ended)),
        execution_options={"synchronize_session": False},
    )


def _locked_row(session: Session, kind: LoginKeyKind, key: str) -> LoginFailure | None:
    """The key's row, locked for this transaction (PostgreSQL; SQLite's BEGIN IMMEDIATE
    already serialises every writer)."""
    return session.scalars(
        select(LoginFailure)
        .where(LoginFailure.key_kind == kind, LoginFailure.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _insert_first(
    session: Session,
    kind: LoginKeyKind,
    key: str,
    limit: int,
    now: datetime,
    window: timedelta,
) -> bool:
    """Inserts the key's first failure unless the key exists by now; True if it inserted."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(LoginFailure)
        .values(
            key_kind=kind,
            key=key,
            window_start=now,
            count=1,
            locked_until=now + window if limit <= 1 else None,
        )
        .on_conflict_do_nothing(index_elements=["key_kind", "key"])
        .returning(LoginFailure.id)
    ).first()
    return inserted is not None
