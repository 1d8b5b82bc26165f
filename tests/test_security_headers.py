"""Security headers on every response, the request-body cap (413) and the other size limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import Message

from app.clinics.models import Clinic
from app.core.config import get_settings
from app.core.middleware import API_HTML_CSP, STRICT_CSP
from app.main import create_app
from app.observations.models import Observation
from app.observations.schemas import MAX_BATCH
from app.patients.models import Patient
from tests.builders import auth_headers, make_patient, make_user

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
LIMIT = get_settings().max_body_bytes


def _has_the_always_headers(response: Any) -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, name
    assert "strict-transport-security" not in response.headers


def test_a_json_route_gets_every_header(client: TestClient, session: Session) -> None:
    response = client.get("/api/v1/me", headers=auth_headers(make_user(session)))
    assert response.status_code == 200
    _has_the_always_headers(response)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"] == STRICT_CSP


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/me", 401),
        ("get", "/api/v1/no-such-thing", 404),
        ("delete", "/api/v1/me", 405),
        ("post", "/api/v1/auth/token", 422),
    ],
)
def test_problem_responses_get_them_too(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    _has_the_always_headers(response)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"] == STRICT_CSP


def test_health_gets_them_but_may_be_cached(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    _has_the_always_headers(response)
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert "cache-control" not in response.headers


def test_the_docs_keep_their_scripts(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    _has_the_always_headers(docs)
    assert "content-security-policy" not in docs.headers
    assert "cache-control" not in docs.headers
    schema = client.get("/openapi.json")
    assert schema.headers["content-security-policy"] == STRICT_CSP


@pytest.fixture(scope="module")
def app_with_pages() -> FastAPI:
    """The app plus two routes of the kinds the rules single out."""
    app = create_app()

    @app.get("/api/v1/test-page", response_class=HTMLResponse)
    async def page() -> str:
        return "<style>p{color:red}</style><p>hi</p>"

    @app.get("/api/v1/test-cached")
    async def cached(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "private, max-age=60"
        return {"ok": "yes"}

    return app


def test_api_html_gets_a_csp_for_inline_css_and_svg(app_with_pages: FastAPI) -> None:
    with TestClient(app_with_pages) as client:
        response = client.get("/api/v1/test-page")
    assert response.status_code == 200
    _has_the_always_headers(response)
    assert response.headers["content-security-policy"] == API_HTML_CSP
    assert response.headers["cache-control"] == "no-store"


def test_a_routes_own_cache_control_is_kept(app_with_pages: FastAPI) -> None:
    with TestClient(app_with_pages) as client:
        response = client.get("/api/v1/test-cached")
    assert response.headers["cache-control"] == "private, max-age=60"
    assert response.headers["content-security-policy"] == STRICT_CSP


@pytest.fixture
def production_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setenv("REHAB_ENV", "production")
    get_settings.cache_clear()
    try:
        yield create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_hsts_only_in_production(client: TestClient, production_app: FastAPI) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers
    with TestClient(production_app) as production:
        for path in ("/healthz", "/api/v1/me", "/docs"):
            hsts = production.get(path).headers["strict-transport-security"]
            assert hsts.startswith("max-age=31536000"), path


# The request-body cap.


def _is_413(response: Any) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["instance"]) == (413, "/api/v1/patients")
    assert str(LIMIT) in body["detail"]
    _has_the_always_headers(response)


def test_a_body_over_the_limit_is_413_from_its_content_length(
    client: TestClient, session: Session
) -> None:
    headers = {**auth_headers(make_user(session)), "Content-Type": "application/json"}
    response = client.post("/api/v1/patients", content=b" " * (LIMIT + 1), headers=headers)
    _is_413(response)
    assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, session: Session) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 65536 + 1):
            yield b" " * 65536

    headers = {**auth_headers(make_user(session)), "Content-Type": "application/json"}
    response = client.post("/api/v1/patients", content=chunks(), headers=headers)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    _is_413(response)


def test_a_streamed_body_is_cut_off_as_it_passes_the_limit(app: FastAPI) -> None:
    """Straight through ASGI, with a body that never ends: the app stops reading at the limit."""
    chunk = b" " * 65536
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/patients",
        "raw_path": b"/api/v1/patients",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert read == LIMIT // len(chunk) + 1
    assert json.loads(sent[1]["body"])["status"] == 413


# The other caps: page size and batch size, refused as 422 before any work.


def test_a_page_over_200_is_422(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_user(session))
    assert client.get("/api/v1/patients", params={"limit": 200}, headers=headers).status_code == 200
    response = client.get("/api/v1/patients", params={"limit": 201}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "limit"


def test_a_batch_over_500_observations_is_422_and_records_nothing(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=session.get_one(Clinic, clinician.clinic_id))
    observation = {
        "measure_code": "pain_nrs",
        "value": 3,
        "observed_at": datetime(2026, 11, 1, tzinfo=UTC).isoformat(),
    }
    batch = {"observations": [observation] * (MAX_BATCH + 1)}
    assert len(json.dumps(batch)) < LIMIT, "refused by the batch cap, not by the body cap"
    response = client.post(
        f"/api/v1/patients/{patient.id}/observations/batch",
        json=batch,
        headers=auth_headers(clinician),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/observations"
    assert session.scalar(select(func.count()).select_from(Observation)) == 0
