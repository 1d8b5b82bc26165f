from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.core.auth import Actor
from app.core.errors import Conflict, InvalidInput
from app.core.types import Role
from app.idempotency import service as idempotency_service
from app.idempotency.models import IdempotencyKey
from app.idempotency.service import StoredResponse
from tests import database
from tests.builders import make_clinic

HASH = "a" * 64


def _actor(session: Session) -> Actor:
    return Actor(clinic_id=make_clinic(session).id, role=Role.clinician, user_id=uuid.uuid4())


def _claim(
    session: Session,
    actor: Actor,
    key: str,
    request_hash: str = HASH,
    answer: StoredResponse | None = None,
) -> object:
    return idempotency_service.claim(
        session,
        actor,
        key,
        method="POST",
        path="/api/v1/things",
        request_hash=request_hash,
        retention=timedelta(hours=24),
        lock_wait_ms=200,
        answer=answer,
    )


def test_claim_then_replay_then_refuse_another_request(session: Session) -> None:
    actor = _actor(session)
    row = _claim(session, actor, "k")
    assert isinstance(row, uuid.UUID)
    answer = StoredResponse(201, {"id": "1"}, {"Location": "/api/v1/things/1"})
    idempotency_service.complete(row, answer, session)
    assert _claim(session, actor, "k") == answer
    with pytest.raises(InvalidInput):
        _claim(session, actor, "k", request_hash="b" * 64)


def test_an_answer_known_before_the_write_is_stored_with_the_claim(session: Session) -> None:
    actor = _actor(session)
    answer = StoredResponse(201, {"id": "1", "sets": [{"reps": 10}]}, {"ETag": '"1"'})
    claimed = _claim(session, actor, "k", answer=answer)
    assert isinstance(claimed, uuid.UUID)
    assert _claim(session, actor, "k") == answer
    row = session.scalars(select(IdempotencyKey)).one()
    assert (row.id, row.status_code, row.response_body) == (claimed, 201, answer.body)


@pytest.mark.skipif(database.kind() != "postgres", reason="PostgreSQL's lock_timeout")
def test_the_lock_wait_limit_holds_for_the_keys_insert_alone(session: Session) -> None:
    """A later statement of the write (a foreign key check waiting on a plan row locked by a
    session being recorded) must not be cut short as if it were a concurrent retry."""

    def lock_timeout() -> str:
        return str(session.scalar(text("SHOW lock_timeout")))

    actor = _actor(session)
    before = lock_timeout()
    assert isinstance(_claim(session, actor, "k"), uuid.UUID)
    assert lock_timeout() == before
    with pytest.raises(Conflict):  # the key exists, without an answer: nothing inserted
        _claim(session, actor, "k")
    assert lock_timeout() == before


def test_a_key_committed_without_an_answer_reads_as_in_progress(session: Session) -> None:
    actor = _actor(session)
    assert isinstance(_claim(session, actor, "k"), uuid.UUID)
    with pytest.raises(Conflict) as refused:
        _claim(session, actor, "k")
    assert refused.value.headers == {"Retry-After": "1"}


def test_purge_deletes_only_expired_keys(session: Session) -> None:
    actor = _actor(session)
    now = datetime.now(UTC)
    for key, expires_at in (("old", now - timedelta(minutes=1)), ("new", now + timedelta(hours=1))):
        session.add(
            IdempotencyKey(
                clinic_id=actor.clinic_id,
                actor_id=actor.id,
                key=key,
                method="POST",
                path="/api/v1/things",
                request_hash=HASH,
                expires_at=expires_at,
            )
        )
    session.flush()
    assert idempotency_service.purge_expired(session, now) == 1
    assert session.scalars(select(IdempotencyKey.key)).all() == ["new"]


def test_fingerprint_covers_method_path_and_body_and_is_keyed() -> None:
    def fingerprint(method: str, path: str, body: bytes, secret: str = "s") -> str:
        return idempotency_service.fingerprint(method, path, body, secret=secret)

    base = fingerprint("POST", "/a", b"{}")
    assert base == fingerprint("POST", "/a", b"{}")
    assert base != fingerprint("POST", "/b", b"{}")
    assert base != fingerprint("POST", "/a", b'{"x":1}')
    assert base != fingerprint("PUT", "/a", b"{}")
    # Keyed: a body with a password is not a bare fast hash of it in the database.
    assert base != fingerprint("POST", "/a", b"{}", secret="another")
    assert len(base) == 64
