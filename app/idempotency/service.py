"""Idempotency-Key: a retried create returns the first answer and creates nothing.

The key row is inserted in the request's own transaction, before the write it guards, and gets
the response at the end: both commit together, or neither does.
- A retry after the first committed finds the row: the same body replays the stored answer;
  another body is a 422.
- A retry while the first is still running: on PostgreSQL the insert waits on the first's
  uncommitted row for `lock_wait_ms`, then answers 409 (in progress); if the first commits in
  that time, the retry replays it. On SQLite writers queue on the database lock (BEGIN
  IMMEDIATE), so a retry runs after the first has committed and replays it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.core.auth import Actor
from app.core.errors import Conflict, InvalidInput
from app.idempotency.models import IdempotencyKey


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def _find(session: Session, actor: Actor, key: str) -> IdempotencyKey | None:
    return session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.clinic_id == actor.clinic_id,
            IdempotencyKey.actor_id == actor.id,
            IdempotencyKey.key == key,
        )
    ).first()


def _replay(row: IdempotencyKey, request_hash: str) -> StoredResponse:
    if row.request_hash != request_hash:
        raise InvalidInput(
            "This Idempotency-Key was used for a different request.",
            errors=[{"parameter": "Idempotency-Key", "in": "header", "detail": "reused"}],
        )
    if row.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry later.")
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
        session.delete(existing)
        session.flush()
    row = IdempotencyKey(
        clinic_id=actor.clinic_id,
        actor_id=actor.id,
        key=key,
        method=method,
        path=path,
        request_hash=request_hash,
        expires_at=now + retention,
    )
    try:
        with session.begin_nested():
            _limit_lock_wait(session, lock_wait_ms)
            session.add(row)
            session.flush()
    except IntegrityError:
        committed = _find(session, actor, key)
        if committed is None:
            raise Conflict("A request with this Idempotency-Key is still in progress.") from None
        return _replay(committed, request_hash)
    except OperationalError as exc:
        if "lock" not in str(exc).lower():
            raise
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry later."
        ) from None
    finally:
        _limit_lock_wait(session, None)
    return row


def _limit_lock_wait(session: Session, milliseconds: int | None) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    value = f"{int(milliseconds)}ms" if milliseconds is not None else "0"
    session.execute(text(f"SET LOCAL lock_timeout = '{value}'"))


def complete(row: IdempotencyKey, response: StoredResponse, session: Session) -> None:
    row.status_code = response.status_code
    row.response_body = response.body
    row.response_headers = response.headers
    session.flush()


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
