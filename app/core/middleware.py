"""Pure ASGI middleware: security headers on every response, and a cap on request bodies.

Pure ASGI rather than BaseHTTPMiddleware: they only rewrite the response's first message or
count the request's bytes, and add no task or buffering to a request.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_BASE, PROBLEM_JSON, AppError

API_PREFIX = "/api/v1"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# Nothing in a JSON answer may load or frame anything.
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
# The API's own HTML pages (a plan summary) carry inline CSS and inline SVG, nothing else.
API_HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, keeping any a route set itself.

    `Cache-Control: no-store` goes on /api/v1 only (clinical data must not sit in a cache);
    health checks and the docs keep theirs. HTML outside /api/v1 (the Swagger UI at /docs,
    which needs its scripts) gets no Content-Security-Policy; every other response does.

    The headers are encoded once, and each response's own are read in one pass: this runs on
    every request.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        always = dict(ALWAYS, **({"Strict-Transport-Security": HSTS} if hsts else {}))
        self._outside = _encoded(always)
        self._inside = _encoded({**always, "Cache-Control": "no-store"})
        self._csp = {
            (False, False): STRICT_CSP.encode(),
            (True, False): STRICT_CSP.encode(),
            (True, True): API_HTML_CSP.encode(),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        in_api = scope["path"] == API_PREFIX or scope["path"].startswith(API_PREFIX + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add(message, in_api=in_api)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add(self, message: Message, *, in_api: bool) -> None:
        headers: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
        if not isinstance(headers, list):
            headers = message["headers"] = list(headers)
        present: set[bytes] = set()
        content_type: bytes | None = None
        for name, value in headers:
            lowered = name.lower()
            present.add(lowered)
            if lowered == b"content-type" and content_type is None:
                content_type = value
        is_html = content_type is not None and content_type.startswith(b"text/html")
        for name, value in self._inside if in_api else self._outside:
            if name not in present:
                headers.append((name, value))
        csp = self._csp.get((in_api, is_html))
        if csp is not None and b"content-security-policy" not in present:
            headers.append((b"content-security-policy", csp))


def _encoded(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    )


class ContentTooLarge(AppError):
    status, title, type = 413, "Content too large", PROBLEM_BASE + "content-too-large"


class _BodyTooLarge(Exception):
    """Raised from `receive` to stop the app reading; the middleware answers 413 instead."""


class BodySizeLimitMiddleware:
    """413 problem+json for a request body over `max_bytes`: at once from Content-Length, and
    for a body without one (chunked) as soon as the bytes received pass the limit, so a large
    body is never read whole."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked = _body_headers(scope)
        if length is None and not chunked:
            # HTTP/1.1: a request with neither header has no body (RFC 9112, 6.3).
            await self.app(scope, receive, send)
            return
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        refused = started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise _BodyTooLarge
            return message

        async def send_unless_refused(message: Message) -> None:
            # Once the body is refused, whatever the app answers (FastAPI turns the error
            # into a 400 "error parsing the body") is dropped for the 413.
            nonlocal started
            if not refused:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counting_receive, send_unless_refused)
        except _BodyTooLarge:
            pass
        if refused and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = ContentTooLarge(f"The request body may not exceed {self.max_bytes} bytes.")
        response = JSONResponse(
            error.body(instance=scope["path"]), status_code=error.status, media_type=PROBLEM_JSON
        )
        await response(scope, receive, send)


def _body_headers(scope: Scope) -> tuple[str | None, bool]:
    """The request's Content-Length (None without one), and whether it has a
    Transfer-Encoding: read from the raw headers, without building a Headers."""
    length: str | None = None
    chunked = False
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered == b"content-length":
            length = value.decode("latin-1")
        elif lowered == b"transfer-encoding":
            chunked = True
    return length, chunked
