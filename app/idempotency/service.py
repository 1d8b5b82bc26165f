"""Idempotency-Key: a retried create returns the first answer and creates nothing.

The key row is inserted in the request's own transaction, before the write it guards, and holds
the response by the end: both commit together, or neither does (a refused request leaves no key,
so its retry runs again). A route that knows its answer before it writes (its ids and
timestamps are made in Python) stores the answer in that same insert; others `complete` it.
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
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.core.auth import Actor
from app.core.errors import Conflict, InvalidInput
from app.idempotency.models import IdempotencyKey

IN_PROGRESS = "A request with this Idempotency-Key is still in progress; retry shortly."
# PostgreSQL's lock_not_available: the lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"

_keys = cast(Table, IdempotencyKey.__table__)
_unique = [_keys.c.clinic_id, _keys.c.actor_id, _keys.c.key]


def _claim_postgresql() -> Insert:
    """The key's insert in one round trip, waiting at most `:lock_timeout` on a concurrent
    request's uncommitted key: the row is selected from the CTE that limits the wait (so the
    limit is in force before the insert), and RETURNING puts the previous limit back (so it
    holds for that insert alone). When nothing is inserted the caller resets it."""
    previous = select(func.current_setting("lock_timeout").label("value")).cte("previous")
    limited = (
        select(func.set_config("lock_timeout", bindparam("lock_timeout"), True).label("value"))
        .select_from(previous)
        .cte("limited")
    )
    columns = list(_keys.c)
    row = select(*(bindparam(c.key, type_=c.type) for c in columns)).select_from(limited)
    restore = select(func.set_config("lock_timeout", previous.c.value, True)).scalar_subquery()
    return (
        postgresql.insert(_keys)
        .from_select(columns, row)
        .on_conflict_do_nothing(index_elements=_unique)
        .returning(_keys.c.id, restore)
    )


# Built once, so their cache keys are memoised. A key that exists already is skipped by the
# database instead of raising, so the insert needs no savepoint; RETURNING says which it was.
_CLAIM: dict[str, Insert] = {
    "postgresql": _claim_postgresql(),
    "sqlite": sqlite.insert(_keys)
    .on_conflict_do_nothing(index_elements=_unique)
    .returning(_keys.c.id),
}
_DEFAULT_LOCK_WAIT = text("SET LOCAL lock_timeout TO DEFAULT")


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
    answer: StoredResponse | None = None,
) -> StoredResponse | uuid.UUID:
    """The stored answer to replay, or the id of the key row this request now holds (with
    `answer` in it already when given; otherwise `complete` it after the write)."""
    now, key_id = datetime.now(UTC), uuid.uuid4()
    row = {
        "id": key_id,
        "clinic_id": actor.clinic_id,
        "actor_id": actor.id,
        "key": key,
        "method": method,
        "path": path,
        "request_hash": request_hash,
        "status_code": answer.status_code if answer else None,
        "response_body": answer.body if answer else None,
        "response_headers": answer.headers if answer else None,
        "created_at": now,
        "expires_at": now + retention,
    }
    if _insert(session, row, lock_wait_ms):
        return key_id
    existing = _find(session, actor, key)
    if existing is not None and existing.expires_at <= now:
        # Guarded: a concurrent retry may have replaced the expired row already.
        session.execute(delete(_keys).where(_keys.c.id == existing.id, _keys.c.expires_at <= now))
        if _insert(session, row, lock_wait_ms):
            return key_id
        existing = _find(session, actor, key)
    if existing is None:  # gone between the insert and the read: purged, or rolled back
        raise _in_progress()
    return _replay(existing, request_hash)


def _insert(session: Session, row: dict[str, Any], lock_wait_ms: int) -> bool:
    """Inserts the key unless it exists; on PostgreSQL waits at most `lock_wait_ms` on a
    concurrent request's uncommitted key (then 409, and the transaction is spoilt anyway)."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect != "postgresql":
        return connection.execute(_CLAIM[dialect], row).first() is not None
    # At least 1 ms: PostgreSQL reads 0 as "wait for ever", not "do not wait".
    limit = {"lock_timeout": f"{max(int(lock_wait_ms), 1)}ms"}
    try:
        inserted = connection.execute(_CLAIM[dialect], {**row, **limit}).first() is not None
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise _in_progress() from None
    if not inserted:  # no row returned, so the limit was not put back
        connection.execute(_DEFAULT_LOCK_WAIT)
    return inserted


def _find(session: Session, actor: Actor, key: str) -> Any:
    return session.execute(
        select(
            _keys.c.id,
            _keys.c.request_hash,
            _keys.c.status_code,
            _keys.c.response_body,
            _keys.c.response_headers,
            _keys.c.expires_at,
        ).where(
            _keys.c.clinic_id == actor.clinic_id,
            _keys.c.actor_id == actor.id,
            _keys.c.key == key,
        )
    ).first()


def _in_progress() -> Conflict:
    return Conflict(IN_PROGRESS, headers={"Retry-After": "1"})


def _replay(row: Any, request_hash: str) -> StoredResponse:
    if row.request_hash != request_hash:
        raise InvalidInput(
            "This Idempotency-Key was used for a different request.",
            errors=[{"parameter": "Idempotency-Key", "in": "header", "detail": "reused"}],
        )
    if row.status_code is None:  # only ever committed with its answer; kept as a safeguard
        raise _in_progress()
    return StoredResponse(row.status_code, row.response_body, dict(row.response_headers or {}))


def complete(key_id: uuid.UUID, response: StoredResponse, session: Session) -> None:
    session.execute(
        update(_keys)
        .where(_keys.c.id == key_id)
        .values(
            status_code=response.status_code,
            response_body=response.body,
            response_headers=response.headers,
        )
    )


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
