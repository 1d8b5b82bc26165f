from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.core.auth import Actor, CurrentActor, SessionDep
from app.core.concurrency import etag
from app.core.config import get_settings
from app.idempotency import service as idempotency_service
from app.idempotency.service import StoredResponse

REPLAYED_HEADER = "Idempotent-Replayed"


class Idempotency:
    """A create route's guard: `replay(data)` first (return its answer when there is one), then
    do the write and return `respond(...)` (or `created(...)` for a 201 with Location and
    ETag), which stores the answer with the key. A route that knows its answer before writing
    passes it to `replay(data, answer)`, which stores it with the key in the same insert, and
    returns `answered(answer)` after the write: one statement fewer.

    No await between the two: the key row is part of the request's write transaction."""

    def __init__(self, session: Session, actor: Actor, request: Request, key: str | None) -> None:
        self._session = session
        self._actor = actor
        self._method = request.method
        self._path = request.url.path
        self._key = key
        self._claimed: uuid.UUID | None = None

    def replay(
        self, data: BaseModel | None, answer: StoredResponse | None = None
    ) -> JSONResponse | None:
        """The stored answer when this key was seen before; otherwise claims the key (storing
        `answer` with it when given)."""
        if self._key is None:
            return None
        settings = get_settings()
        body = data.model_dump_json().encode() if data is not None else b""
        result = idempotency_service.claim(
            self._session,
            self._actor,
            self._key,
            method=self._method,
            path=self._path,
            request_hash=idempotency_service.fingerprint(
                self._method, self._path, body, secret=settings.secret_key
            ),
            retention=timedelta(hours=settings.idempotency_retention_hours),
            lock_wait_ms=settings.idempotency_lock_wait_ms,
            answer=answer,
        )
        if isinstance(result, StoredResponse):
            headers = {**result.headers, REPLAYED_HEADER: "true"}
            return JSONResponse(result.body, status_code=result.status_code, headers=headers)
        self._claimed = None if answer is not None else result
        return None

    def respond(
        self,
        status_code: int,
        body: BaseModel,
        headers: dict[str, str] | None = None,
        *,
        withheld: Collection[str] = (),
    ) -> JSONResponse:
        """The answer, stored with the key; `withheld` fields (a secret shown once) are
        stored, and so replayed, as null."""
        payload = body.model_dump(mode="json")
        headers = headers or {}
        if self._claimed is not None:
            kept = {**payload, **dict.fromkeys(withheld)} if withheld else payload
            stored = StoredResponse(status_code, kept, headers)
            idempotency_service.complete(self._claimed, stored, self._session)
        return JSONResponse(payload, status_code=status_code, headers=headers)

    @staticmethod
    def answered(answer: StoredResponse) -> JSONResponse:
        """The answer given to `replay`, stored with the key already."""
        return JSONResponse(answer.body, status_code=answer.status_code, headers=answer.headers)

    def created(self, body: BaseModel, location: str, version: int) -> JSONResponse:
        """A 201 with Location and ETag, stored with the key."""
        return self.respond(201, body, {"Location": location, "ETag": etag(version)})


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        description="Any unique string (a UUID): a retry with the same key and body "
        "returns the first answer and creates nothing.",
    ),
]


async def idempotency(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Idempotency:
    return Idempotency(session, actor, request, idempotency_key)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
