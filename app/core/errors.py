"""One error family, rendered as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://rehab-plans.dev/problems/"
logger = logging.getLogger("app.errors")


class AppError(Exception):
    status: int = 500
    title: str = "Internal server error"
    type: str = "about:blank"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status, title, type = 400, "Bad request", PROBLEM_BASE + "bad-request"


class Unauthorized(AppError):
    status, title, type = 401, "Not authenticated", PROBLEM_BASE + "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status, title, type = 403, "Forbidden", PROBLEM_BASE + "forbidden"


class NotFound(AppError):
    status, title, type = 404, "Not found", PROBLEM_BASE + "not-found"


class Conflict(AppError):
    status, title, type = 409, "Conflict", PROBLEM_BASE + "conflict"


class PreconditionFailed(AppError):
    status, title, type = 412, "Precondition failed", PROBLEM_BASE + "precondition-failed"


class InvalidInput(AppError):
    """422: the payload is well-formed but a field is wrong; `errors` names each one."""

    status, title, type = 422, "Invalid input", PROBLEM_BASE + "invalid-input"


class PreconditionRequired(AppError):
    status, title, type = 428, "Precondition required", PROBLEM_BASE + "precondition-required"


class ServiceUnavailable(AppError):
    status, title, type = 503, "Service unavailable", PROBLEM_BASE + "service-unavailable"


def field_error(pointer: str, detail: str) -> dict[str, str]:
    """One entry of a problem's `errors`: a JSON pointer into the body and what is wrong."""
    return {"pointer": pointer, "detail": detail}


def problem_response(error: AppError, request: Request) -> JSONResponse:
    return JSONResponse(
        error.body(instance=request.url.path),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


# A 422 names the first MAX_ERRORS problems and counts the rest (`errors_omitted`, 0 when every
# one is listed): enough to fix a form, and no body can make the answer large.
MAX_ERRORS = 20
# A segment of a pointer is a field name or an index, unless a client sent an unknown key of
# any length; a longer one is cut, so one entry stays small too.
MAX_SEGMENT = 100


def _segment(part: object) -> str:
    text = str(part)
    return text if len(text) <= MAX_SEGMENT else text[:MAX_SEGMENT] + "..."


def _validation_entry(error: Any) -> dict[str, Any]:
    loc = [_segment(part) for part in error.get("loc", ())]
    where, path = (loc[0], loc[1:]) if loc else ("body", [])
    entry: dict[str, Any] = {"detail": error.get("msg", "invalid"), "type": error.get("type")}
    if where == "body":
        entry["pointer"] = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
    else:
        entry["parameter"] = ".".join(path)
        entry["in"] = where
    return entry


async def _on_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(exc, request)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(BadRequest("The request body is not valid JSON."), request)
    entries = [_validation_entry(e) for e in raw[:MAX_ERRORS]]
    names = ", ".join(e.get("pointer") or e.get("parameter") or "?" for e in entries)
    omitted = len(raw) - len(entries)
    names += f" and {omitted} more" if omitted else ""
    error = InvalidInput(f"Invalid input: {names}", errors=entries, errors_omitted=omitted)
    return problem_response(error, request)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error = AppError(str(exc.detail), headers=dict(exc.headers or {}))
    error.status, error.title = exc.status_code, _reason(exc.status_code)
    return problem_response(error, request)


async def _on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    logger.info("integrity error: %s", exc)
    return problem_response(Conflict("The change conflicts with an existing record."), request)


async def _on_stale_data(request: Request, _exc: Exception) -> JSONResponse:
    error = PreconditionFailed("The record was changed by someone else; read it again.")
    return problem_response(error, request)


async def _on_operational_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", exc)
    error = ServiceUnavailable("The database is busy or unavailable; retry shortly.")
    error.headers = {"Retry-After": "1"}
    return problem_response(error, request)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _on_app_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(StaleDataError, _on_stale_data)
    app.add_exception_handler(OperationalError, _on_operational_error)
