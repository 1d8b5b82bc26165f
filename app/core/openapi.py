"""Documented error responses, so /openapi.json lists every problem an endpoint can answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing, invalid or expired credentials",
    403: "The caller's role may not do this",
    404: "No such record in the caller's clinic",
    409: "The record's state does not allow this",
    412: "If-Match does not match the record's current version",
    413: "Request body too large",
    422: "A field is invalid; `errors` names each one",
    428: "If-Match is required for this write",
    429: "Too many requests",
}


class FieldProblem(BaseModel):
    detail: str
    pointer: str | None = Field(default=None, description="JSON pointer into the body")
    parameter: str | None = Field(default=None, description="Query, path or header parameter")
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["https://rehab-plans.dev/problems/not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No patient with that id in your clinic."])
    instance: str | None = None
    errors: list[FieldProblem] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for status in statuses
    }


AUTH_RESPONSES = problem_responses(401)
READ_RESPONSES = problem_responses(401, 403, 404, 422)
WRITE_RESPONSES = problem_responses(400, 401, 403, 404, 409, 412, 422, 428)
CREATE_RESPONSES = problem_responses(400, 401, 403, 404, 409, 422)
# Every create honours Idempotency-Key (app/idempotency): its two refusals, documented.
CREATE_RESPONSES[409] = {
    **CREATE_RESPONSES[409],
    "description": f"{_DESCRIPTIONS[409]}; or a request with the same Idempotency-Key is still "
    "in progress: retry after Retry-After seconds",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before retrying (Idempotency-Key in progress).",
            "schema": {"type": "integer"},
        }
    },
}
CREATE_RESPONSES[422] = {
    **CREATE_RESPONSES[422],
    "description": f"{_DESCRIPTIONS[422]}; or the Idempotency-Key was used for another request",
}


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for a JSON schema, for operations whose models give no example."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example(components.get(name, {}), components, depth + 1)
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if options:
            return _example(options[0], components, depth + 1)
    return _by_type(schema, components, depth)


_FORMATS = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date-time": "2026-11-02T09:30:00Z",
    "date": "2026-11-02",
    "email": "clinician@example.org",
}


def _by_type(schema: dict[str, Any], components: dict[str, Any], depth: int) -> Any:
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        props = schema.get("properties", {})
        return {name: _example(sub, components, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [] if depth > 6 else [_example(schema.get("items", {}), components, depth + 1)]
    if kind == "string":
        return _FORMATS.get(schema.get("format", ""), "string")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    return None


def add_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Gives every JSON request and success response an example, derived from its schema
    where the model declares none, so /openapi.json shows one for every endpoint."""
    components = document.get("components", {}).get("schemas", {})
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            _summarise(operation)
            bodies = [operation.get("requestBody", {})]
            bodies += [r for code, r in operation.get("responses", {}).items() if code < "300"]
            for body in bodies:
                for media in body.get("content", {}).values():
                    if "example" not in media and "examples" not in media and "schema" in media:
                        media["example"] = _example(media["schema"], components)
    return document


def _summarise(operation: dict[str, Any]) -> None:
    """A route's docstring, first line, is its summary (FastAPI would use the function name)."""
    description = operation.get("description") or ""
    if description.strip():
        operation["summary"] = description.strip().splitlines()[0]
