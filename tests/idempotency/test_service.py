from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.auth import Actor
from app.core.errors import Conflict, InvalidInput
from app.core.types import Role
from app.idempotency import service as idempotency_service
from app.idempotency.models import IdempotencyKey
from app.idempotency.service import StoredResponse
from tests.builders import make_clinic

HASH = "a" * 64


def _actor(session: Session) -> Actor:
    return Actor(clinic_id=make_clinic(session).id, role=Role.clinician, user_id=uuid.uuid4())


def _claim(session: Session, actor: Actor, key: str, request_hash: str = HASH) -> object:
    return idempotency_service.claim(
        session,
        actor,
        key,
        method="POST",
        path="/api/v1/things",
        request_hash=request_hash,
        retention=timedelta(hours=24),
        lock_wait_ms=200,
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
