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
