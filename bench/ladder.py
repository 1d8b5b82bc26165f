"""The ladder: the same plan response served by ever more of the stack, to know the ceiling.

Every rung answers GET /api/v1/plans/{plan_id} with exactly the bytes the real app answers for
the seeded plan (bench/run.py fetches them once from the real app and checks every rung
against them). Each factory reads its configuration from the environment:

- BENCH_BODY_FILE: the plan response's bytes; BENCH_ETAG: its ETag
- BENCH_CLINIC_ID: the plan's clinic (for the C1 lookups)
- DATABASE_URL, REHAB_SECRET_KEY, REHAB_ENV: as the app reads them (for the conventional rung)

Rungs, as shared/PERFORMANCE.md names them:

- C0: a bare Starlette route returning the bytes.
- FastAPI `async def` returning the bytes.
- C1 SQLite: FastAPI `async def`, one indexed lookup with raw `sqlite3`, then the bytes.
- C1 PostgreSQL: FastAPI `async def`, one indexed lookup with raw `asyncpg`, then the bytes.
- The conventional way: a `def` endpoint with `def` dependencies (FastAPI's threadpool), a
  `Session` per request, the bearer token checked against the user table, the plan loaded
  through the app's ORM `selectinload` read (app.plans.reading) and `response_model=PlanRead`.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

import app.models  # noqa: F401  (every table mapped)
from app.core.auth import Actor, find_actor, oauth2_scheme
from app.core.concurrency import set_etag
from app.core.db import SAFE_METHODS, normalise_url, transaction
from app.core.errors import NotFound, install_error_handlers
from app.plans import reading
from app.plans.schemas import PlanRead

PATH = "/api/v1/plans/{plan_id}"
BODY_FILE_VARIABLE = "BENCH_BODY_FILE"
ETAG_VARIABLE = "BENCH_ETAG"
CLINIC_VARIABLE = "BENCH_CLINIC_ID"
LOOKUP = "SELECT version FROM plans WHERE clinic_id = {0} AND id = {1}"
JSON = "application/json"


def _body() -> tuple[bytes, dict[str, str]]:
    return Path(os.environ[BODY_FILE_VARIABLE]).read_bytes(), {"ETag": os.environ[ETAG_VARIABLE]}


def _bare_fastapi(**kwargs: Any) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, **kwargs)
    install_error_handlers(app)
    return app


# C0


def create_c0_app() -> Starlette:
    body, headers = _body()

    async def read_plan(_request: StarletteRequest) -> StarletteResponse:
        return StarletteResponse(body, media_type=JSON, headers=headers)

    return Starlette(routes=[Route(PATH, read_plan)])


# FastAPI, bytes


def create_fastapi_bytes_app() -> FastAPI:
    body, headers = _body()
    app = _bare_fastapi()

    @app.get(PATH)
    async def read_plan(plan_id: uuid.UUID) -> Response:  # noqa: ARG001  (parsed, as the app does)
        return Response(body, media_type=JSON, headers=headers)

    return app


# C1: one raw-driver indexed lookup (the plan's primary key, within its clinic), then the bytes.


def create_c1_sqlite_app() -> FastAPI:
    body, headers = _body()
    clinic = uuid.UUID(os.environ[CLINIC_VARIABLE]).hex  # SQLAlchemy's Uuid on SQLite: 32 hex
    path = normalise_url(os.environ["DATABASE_URL"]).removeprefix("sqlite:///")
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    query = LOOKUP.format("?", "?")
    app = _bare_fastapi()

    @app.get(PATH)
    async def read_plan(plan_id: uuid.UUID) -> Response:
        row = connection.execute(query, (clinic, plan_id.hex)).fetchone()
        if row is None:
            raise NotFound("No plan with that id in your clinic.")
        return Response(body, media_type=JSON, headers=headers)

    return app


def create_c1_postgres_app() -> FastAPI:
    import asyncpg  # the bench extra

    body, headers = _body()
    clinic = uuid.UUID(os.environ[CLINIC_VARIABLE])
    dsn = normalise_url(os.environ["DATABASE_URL"]).replace(
        "postgresql+psycopg://", "postgresql://"
    )
    query = LOOKUP.format("$1", "$2")
    pool: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool["pool"] = await asyncpg.create_pool(dsn, min_size=5, max_size=5)
        try:
            yield
        finally:
            await pool["pool"].close()

    app = _bare_fastapi(lifespan=lifespan)

    @app.get(PATH)
    async def read_plan(plan_id: uuid.UUID) -> Response:
        row = await pool["pool"].fetchrow(query, clinic, plan_id)
        if row is None:
            raise NotFound("No plan with that id in your clinic.")
        return Response(body, media_type=JSON, headers=headers)

    return app


# The conventional way: def all the way down, FastAPI's threadpool, ORM selectinload and
# response_model. Same token check, clinic scoping and ORM read as the app.


def _sync_session(request: Request) -> Iterator[Session]:
    with transaction(write=request.method not in SAFE_METHODS) as session:
        yield session


SyncSessionDep = Annotated[Session, Depends(_sync_session, scope="function")]


def _sync_actor(
    session: SyncSessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    return find_actor(session, token)


def read_plan_conventional(
    plan_id: uuid.UUID,
    session: SyncSessionDep,
    actor: Annotated[Actor, Depends(_sync_actor)],
    response: Response,
) -> PlanRead:
    plan = reading.read(session, actor, plan_id)
    set_etag(response, plan.version)
    return plan


def create_conventional_app() -> FastAPI:
    app = _bare_fastapi()
    app.add_api_route(PATH, read_plan_conventional, methods=["GET"], response_model=PlanRead)
    return app
