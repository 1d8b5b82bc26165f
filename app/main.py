from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

import app.models  # noqa: F401  (every table mapped, whichever routers are loaded)
from app.api import API_PREFIX, ROUTERS
from app.core.config import get_settings
from app.core.errors import install_error_handlers
from app.core.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from app.core.openapi import add_examples
from app.health.router import router as health_router

DESCRIPTION = """
Rehabilitation plans that target the driver found at assessment, progress week by week,
advance on measured criteria and discharge on function.

Conventions: JSON with snake_case fields, UUID ids, UTC ISO 8601 timestamps; errors are
`application/problem+json` (RFC 9457); lists take `limit` and `cursor`; every mutable
resource has an `ETag`, and PATCH, PUT and DELETE need `If-Match`.
"""


@asynccontextmanager
async def _frozen_heap(_app: FastAPI) -> AsyncIterator[None]:
    """Moves everything loaded at start-up (modules, routes, schemas, the mapper) out of the
    garbage collector's reach: a full collection otherwise walks it all, which showed as
    90 ms pauses at p99 under load (docs/performance.md)."""
    gc.collect()
    gc.freeze()
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    app = FastAPI(
        title="rehab-plans",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url="/docs",
        # Not in tests: each test's client would freeze what the tests before it left behind.
        lifespan=_frozen_heap if settings.env != "test" else None,
    )
    # The last added runs first: security headers wrap everything, CORS headers reach the 413.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["ETag", "Location", "Retry-After", "Idempotent-Replayed"],
        )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.env == "production")
    install_error_handlers(app)
    app.include_router(health_router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _document_examples(app)
    return app


def _document_examples(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_examples(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
