"""The same authenticated read, served the ways docs/decisions/0001-io-model.md compares.

Every variant answers GET /api/v1/patients/{patient_id}: decode the bearer JWT, look up the
active user, load the patient within the user's clinic, answer PatientRead JSON with an ETag,
in one transaction. Variant (a) is the app itself (`app.main:create_app`); (b) to (e) are the
factories below, so app/ stays untouched. They use the app's engine settings, SQLite pragmas,
BEGIN handling, token check and clinic-scoped statement, and read their configuration from the
environment through the app's settings (DATABASE_URL, REHAB_SECRET_KEY), as the app does.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from sqlalchemy import Connection, Engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from app.auth.security import read_token
from app.core.auth import Actor, find_actor, oauth2_scheme
from app.core.concurrency import set_etag
from app.core.config import get_settings
from app.core.db import (
    SAFE_METHODS,
    WRITE_OPTION,
    _configure_sqlite,
    get_engine,
    normalise_url,
    transaction,
)
from app.core.errors import NotFound, Unauthorized, install_error_handlers
from app.patients import service as patients_service
from app.patients.models import Patient
from app.patients.schemas import PatientRead
from app.users.models import User

PATH = "/api/v1/patients/{patient_id}"
BODY_FILE_VARIABLE = "BENCH_BODY_FILE"

TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def _no_credentials() -> Unauthorized:
    return Unauthorized("The credentials are invalid, expired or revoked.")


def _bare_app(endpoint: Callable[..., Any]) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.add_api_route(PATH, endpoint, methods=["GET"], response_model=PatientRead)
    return app


# (b) The conventional way: `def` endpoint and `def` dependencies; FastAPI runs each of them
# (and the generator's enter and exit) in its threadpool.


def _sync_session(request: Request) -> Iterator[Session]:
    with transaction(write=request.method not in SAFE_METHODS) as session:
        yield session


SyncSessionDep = Annotated[Session, Depends(_sync_session, scope="function")]


def _sync_actor(session: SyncSessionDep, token: TokenDep) -> Actor:
    return find_actor(session, token)


def _sync_patient(
    patient_id: uuid.UUID,
    session: SyncSessionDep,
    actor: Annotated[Actor, Depends(_sync_actor)],
) -> Patient:
    return patients_service.get(session, actor, patient_id)


def read_patient_threadpool(
    patient: Annotated[Patient, Depends(_sync_patient)], response: Response
) -> PatientRead:
    set_etag(response, patient.version)
    return PatientRead.model_validate(patient)


def create_threadpool_app() -> FastAPI:
    return _bare_app(read_patient_threadpool)


# (c) `async def` with AsyncSession: aiosqlite on SQLite, asyncpg on PostgreSQL.


def async_url(url: str) -> str:
    url = normalise_url(url)
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    return url.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1)


def create_async_engine(url: str, *, pool_size: int, busy_timeout_ms: int) -> AsyncEngine:
    """The async twin of app.core.db.create_db_engine: same pool, pragmas and BEGIN."""
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = sa_create_async_engine(
            url, connect_args={"timeout": busy_timeout_ms / 1000}, pool_size=pool_size
        )
        _configure_sqlite(engine.sync_engine, busy_timeout_ms)
        return engine
    return sa_create_async_engine(url, pool_size=pool_size, pool_pre_ping=True)


@lru_cache
def _async_factories() -> tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]:
    settings = get_settings()
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    write_engine = engine.execution_options(**{WRITE_OPTION: True})
    return (
        async_sessionmaker(engine, expire_on_commit=False),
        async_sessionmaker(write_engine, expire_on_commit=False),
    )


async def _async_session(request: Request) -> AsyncIterator[AsyncSession]:
    read_factory, write_factory = _async_factories()
    factory = read_factory if request.method in SAFE_METHODS else write_factory
    async with factory() as session, session.begin():
        yield session


AsyncSessionDep = Annotated[AsyncSession, Depends(_async_session, scope="function")]


async def _async_actor(session: AsyncSessionDep, token: TokenDep) -> Actor:
    claims = read_token(get_settings(), token) if token else None
    if claims is None:
        raise _no_credentials()
    result = await session.execute(
        select(User.role, User.patient_id).where(
            User.id == claims.user_id, User.clinic_id == claims.clinic_id, User.is_active
        )
    )
    row = result.first()
    if row is None:
        raise _no_credentials()
    return Actor(
        clinic_id=claims.clinic_id, role=row.role, user_id=claims.user_id, patient_id=row.patient_id
    )


async def _async_patient(
    patient_id: uuid.UUID,
    session: AsyncSessionDep,
    actor: Annotated[Actor, Depends(_async_actor)],
) -> Patient:
    statement = patients_service.readable(actor).where(Patient.id == patient_id)
    patient = (await session.scalars(statement)).first()
    if patient is None:
        raise NotFound("No patient with that id in your clinic.")
    return patient


async def read_patient_async_session(
    patient: Annotated[Patient, Depends(_async_patient)], response: Response
) -> PatientRead:
    set_etag(response, patient.version)
    return PatientRead.model_validate(patient)


def create_async_session_app() -> FastAPI:
    return _bare_app(read_patient_async_session)


# (d) `async def` with SQLAlchemy Core on the app's sync engine, inline on the event loop:
# rows, not ORM objects; pydantic builds the response from the row.

users = User.__table__
patients = Patient.__table__


@lru_cache
def _core_engines() -> tuple[Engine, Engine]:
    engine = get_engine()
    return engine, engine.execution_options(**{WRITE_OPTION: True})


async def _core_connection(request: Request) -> AsyncIterator[Connection]:
    read_engine, write_engine = _core_engines()
    engine = read_engine if request.method in SAFE_METHODS else write_engine
    with engine.begin() as connection:
        yield connection


ConnectionDep = Annotated[Connection, Depends(_core_connection, scope="function")]


async def _core_actor(connection: ConnectionDep, token: TokenDep) -> Actor:
    claims = read_token(get_settings(), token) if token else None
    if claims is None:
        raise _no_credentials()
    row = connection.execute(
        select(users.c.role, users.c.patient_id).where(
            users.c.id == claims.user_id,
            users.c.clinic_id == claims.clinic_id,
            users.c.is_active,
        )
    ).first()
    if row is None:
        raise _no_credentials()
    return Actor(
        clinic_id=claims.clinic_id, role=row.role, user_id=claims.user_id, patient_id=row.patient_id
    )


async def read_patient_core(
    patient_id: uuid.UUID,
    connection: ConnectionDep,
    actor: Annotated[Actor, Depends(_core_actor)],
    response: Response,
) -> PatientRead:
    statement = select(patients).where(
        patients.c.clinic_id == actor.clinic_id, patients.c.id == patient_id
    )
    if actor.is_patient:
        statement = statement.where(patients.c.id == actor.patient_id)
    row = connection.execute(statement).first()
    if row is None:
        raise NotFound("No patient with that id in your clinic.")
    set_etag(response, row.version)
    return PatientRead.model_validate(row)


def create_core_app() -> FastAPI:
    return _bare_app(read_patient_core)


# (e) The ceiling: a bare Starlette route answering the same body, precomputed. No token
# check, no database: what this machine serves when the application does nothing.


def create_ceiling_app() -> Starlette:
    body = Path(os.environ[BODY_FILE_VARIABLE]).read_bytes()
    version = PatientRead.model_validate_json(body).version

    async def read_patient_ceiling(_request: StarletteRequest) -> StarletteResponse:
        return StarletteResponse(
            body, media_type="application/json", headers={"ETag": f'"{version}"'}
        )

    return Starlette(routes=[Route(PATH, read_patient_ceiling)])
