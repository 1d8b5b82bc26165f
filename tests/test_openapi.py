"""/openapi.json describes every endpoint: its auth, its error responses and an example."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PUBLIC = {("get", "/healthz"), ("get", "/readyz"), ("post", "/api/v1/auth/token")}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document(app: Any) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_has_a_summary_and_an_example(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        assert operation.get("summary"), f"{method} {path} has no summary"
        success = [r for code, r in operation["responses"].items() if code.startswith("2")]
        assert success, f"{method} {path} documents no success response"
        for response in success:
            for media in response.get("content", {}).values():
                assert "example" in media or "examples" in media, f"{method} {path}"


def test_every_protected_operation_declares_bearer_auth_and_401(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _operations(document):
        if (method, path) in PUBLIC:
            continue
        assert operation.get("security"), f"{method} {path} declares no auth"
        assert "401" in operation["responses"], f"{method} {path} does not document 401"


def test_every_operation_with_input_documents_its_problems(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in operation["responses"], f"{method} {path} does not document 422"
        if "{" in path and (method, path) not in PUBLIC:
            assert "404" in operation["responses"], f"{method} {path} does not document 404"
        if method in {"patch", "put", "delete"}:
            for code in ("412", "428"):
                assert code in operation["responses"], f"{method} {path} lacks {code}"
        for code, response in operation["responses"].items():
            if code[0] in "45":
                assert "application/problem+json" in response.get("content", {}), (
                    f"{method} {path} {code} is not problem+json"
                )
