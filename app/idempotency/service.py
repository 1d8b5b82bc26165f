"""Idempotency-Key: a retried create returns the first answer and creates nothing.

The key row is inserted in the request's own transaction, before the write it guards, and gets
the response at the end: both commit together, or neither does (a refused request leaves no key,
so its retry runs again).
- A retry after the first committed finds the row: the same request replays the stored answer
  (status, body, Location and ETag as first sent); another body or path is a 422.
- A retry while the first is still running: on PostgreSQL the insert waits on the first's
  uncommitted row for `lock_wait_ms`, then answers 409 (in progress, Retry-After: 1); if the
  first commits in that time, the retry replays it. On SQLite writers queue on the database
  lock (BEGIN IMMEDIATE), so a retry runs after the first has committed and replays it.
- A key is kept `retention` (REHAB_IDEMPOTENCY_RETENTION_HOURS); past it, the same key starts
  afresh. `purge_expired` deletes the expired rows.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.core.auth import Actor
from app.core.errors import Conflict, InvalidInput
from app.idempotency.models import IdempotencyKey

IN_PROGRESS = "A request with this Idempotency-Key is still in progress; retry shortly."
# PostgreSQL's lock_not_available: the lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: bytes, *, secret: str) -> str:
    """Keyed (HMAC), not a bare hash: a body may hold a password (POST /users), and the stored
    fingerprint must not be a fast hash of it that anyone reading the database could guess at."""
    message = b"\n".join([method.encode(), path.encode(), body])
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _find(session: Session, actor: Actor, key: str) -> IdempotencyKey | None:
    return session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.clinic_id == actor.clinic_id,
            IdempotencyKey.actor_id == actor.id,
            IdempotencyKey.key == key,
        )
    ).first()


def _in_progress() -> Conflict:
    return Conflict(IN_PROGRESS, headers={"Retry-After": "1"})


def _replay(row: IdempotencyKey, request_hash: str) -> StoredResponse:
    if row.request_hash != request_hash:
        raise InvalidInput(
            "This Idempotency-Key was used for a different request.",
            errors=[{"parameter": "Idempotency-Key", "in": "header", "detail": "reused"}],
        )
    if row.status_code is None:  # only ever committed with its answer; kept as a safeguard
        raise _in_progress()
    return StoredResponse(row.status_code, row.response_body, dict(row.response_headers or {}))


def claim(
    session: Session,
    actor: Actor,
    key: str,
    *,
    method: str,
    path: str,
    request_hash: str,
    retention: timedelta,
    lock_wait_ms: int,
) -> StoredResponse | IdempotencyKey:
    """The stored answer to replay, or the claimed key row to complete after the write."""
    now = datetime.now(UTC)
    existing = _find(session, actor, key)
    if existing is not None and existing.expires_at > now:
        return _replay(existing, request_hash)
    if existing is not None:
        # Core, and guarded: a concurrent retry may have replaced the expired row already.
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == existing.id, IdempotencyKey.expires_at <= now
            )
        )
        session.expunge(existing)
    row = IdempotencyKey(
        clinic_id=actor.clinic_id,
        actor_id=actor.id,
        key=key,
        method=method,
        path=path,
        request_hash=request_hash,
        created_at=now,
        expires_at=now + retention,
    )
    _limit_lock_wait(session, lock_wait_ms)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        committed = _find(session, actor, key)
        if committed is None:
            raise _in_progress() from None
        return _replay(committed, request_hash)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise _in_progress() from None
    finally:
        _limit_lock_wait(session, None)
    return row


def _limit_lock_wait(session: Session, milliseconds: int | None) -> None:
    """On PostgreSQL, how long the key's insert may wait on a concurrent request's row."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if milliseconds is None:
        session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    else:
        # At least 1 ms: PostgreSQL reads 0 as "wait for ever", not "do not wait".
        session.execute(text(f"SET LOCAL lock_timeout = '{max(int(milliseconds), 1)}ms'"))


def complete(row: IdempotencyKey, response: StoredResponse, session: Session) -> None:
    row.status_code = response.status_code
    row.response_body = response.body
    row.response_headers = response.headers
    session.flush()


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
