"""Every write the API offers, sent once on care under way: it answers 2xx, and afterwards every
plan of the clinic stores exactly the derived state a fresh evaluation of the database gives
(its rendering, progress, audit outcome and worklist entry: tests/projection_check.py).

The operations come from the app's own OpenAPI document and each request is generated from it:
path parameters by name from the fixture's records (tests/write_fixture.py), the body from the
request body's JSON schema (its required fields; ids by name; enums' first value; numbers and
strings within their bounds; today's date), If-Match from the ETag of the nearest GET above the
path, an Idempotency-Key where the operation takes one, and an admin's credentials (admins may
call every write). A new write route is picked up without an edit here, and fails only if the
generated request is refused. CASES adds to a generated body only what the business rules
need, or what makes a write change something a plan derives; it can point the path at another
plan (the draft, the plan on hold).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.main import create_app
from app.plans.models import Plan
from tests.projection_check import describe, differences
from tests.write_fixture import World, build_world

WRITES = ("post", "put", "patch", "delete")
# Left out, and why: exchanging a password for a token writes no record a plan derives from
# (only the login-failure counters), and its body is a form, not JSON. Every other credential
# route (users, API keys) is JSON, cheap and sent like the rest.
SKIPPED = {"POST /api/v1/auth/token"}


@dataclass(frozen=True)
class Ref:
    """A fixture record's id (or list of ids), by name, inside a CASES body."""

    name: str


@dataclass(frozen=True)
class Case:
    body: dict[str, Any] = field(default_factory=dict)  # merged over the generated body
    on: str | None = None  # a World.views name: the records the path's ids point at


CASES = {
    "PATCH /api/v1/plans/{plan_id}": Case({"title": "Knee: back to running"}),
    "POST /api/v1/plans/{plan_id}/activate": Case(on="draft"),
    "POST /api/v1/plans/{plan_id}/advance": Case({"override_reason": "Hop test booked; ready"}),
    "POST /api/v1/plans/{plan_id}/discharge": Case(
        {"override_reason": "Moving abroad", "override_category": "moved_away"}
    ),
    "POST /api/v1/plans/{plan_id}/resume": Case(on="on hold"),
    "PUT /api/v1/clinic/audit-thresholds": Case({"not_progressing_days": 1}),
    "POST /api/v1/prescriptions/{prescription_id}/logs": Case({"sets": [{"reps": 10}]}),
    "PATCH /api/v1/logs/{log_id}": Case({"pain_next_morning": 2}),
    "PATCH /api/v1/patients/{patient_id}": Case({"display_name": "Renamed patient"}),
    "PATCH /api/v1/assessments/{assessment_id}": Case(
        {
            "amendment_reason": "The deficit includes the hip abductors",
            "drivers": [
                {
                    "id": Ref("driver_id"),
                    "kind": "capacity_deficit",
                    "description": "Quadriceps and hip abductor strength deficit on the left",
                    "finding_ids": [Ref("finding_id")],
                }
            ],
            "findings": [
                {"id": Ref("finding_id"), "name": "Squats", "value": 8, "unit": "reps"},
                {"name": "PSFS", "measure_code": "psfs", "value": 2, "unit": "{score}"},
            ],
        }
    ),
    "POST /api/v1/assessments/{assessment_id}/finalize": Case(on="draft reassessment"),
    "PATCH /api/v1/users/{user_id}": Case({"display_name": "Renamed clinician"}),
    "PATCH /api/v1/measures/{measure_id}": Case({"mcid": 10}),
    "PATCH /api/v1/exercises/{exercise_id}": Case({"name": "Renamed split squat"}),
    "POST /api/v1/patients/{patient_id}/observations": Case(
        {"measure_id": Ref("measure_id"), "side": "left", "value": 40}
    ),
    "POST /api/v1/patients/{patient_id}/observations/batch": Case(
        {"observations": [{"measure_id": Ref("measure_id"), "side": "left", "value": 40}]}
    ),
    "POST /api/v1/plans/{plan_id}/stages": Case(on="draft"),
    "POST /api/v1/plans/{plan_id}/stages/order": Case(
        {"stage_ids": Ref("draft_stage_ids")}, on="draft"
    ),
    "PATCH /api/v1/stages/{stage_id}": Case({"expected_weeks": 2}),
    "DELETE /api/v1/stages/{stage_id}": Case(on="draft"),
    "POST /api/v1/stages/{stage_id}/criteria": Case({"measure_id": Ref("measure_id")}, on="draft"),
    "POST /api/v1/plans/{plan_id}/discharge-criteria": Case(
        {"measure_id": Ref("measure_id")}, on="draft"
    ),
    "PATCH /api/v1/criteria/{criterion_id}": Case({"target": 6}),
    "DELETE /api/v1/criteria/{criterion_id}": Case(on="draft"),
    "POST /api/v1/plans/{plan_id}/stages/{stage_id}/prescriptions": Case(
        {"reps": 8, "load_value": 20}
    ),
    "PATCH /api/v1/prescriptions/{prescription_id}": Case({"sets": 4}),
    "POST /api/v1/prescriptions/{prescription_id}/progress": Case(
        {"parameters": {"sets": 4}, "reason": "Tolerating the load well"}
    ),
    "PATCH /api/v1/sessions/{session_id}": Case({"pain_after": 2}),
}
# The operations refused on this fixture, with the status and why. None today.
REFUSED: dict[str, tuple[int, str]] = {}


def _operations(document: dict[str, Any]) -> list[str]:
    return sorted(
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in WRITES and f"{method.upper()} {path}" not in SKIPPED
    )


OPERATIONS = _operations(create_app().openapi())


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_the_matrix_covers_the_api() -> None:
    assert len(OPERATIONS) >= 40
    assert set(CASES) | set(REFUSED) <= set(OPERATIONS), "a case names no operation"


def test_the_fixture_starts_current(session: Session, world: World) -> None:
    stale = {name: differences(session, plan_id) for name, plan_id in world.plans.items()}
    if any(stale.values()):
        raise AssertionError("\n".join(describe(n, s) for n, s in stale.items() if s))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_write_leaves_every_plan_current(
    client: TestClient, session: Session, world: World, document: dict[str, Any], operation: str
) -> None:
    method, path = operation.split(" ")
    spec = document["paths"][path][method.lower()]
    case = CASES.get(operation, Case())
    ids = {**world.ids, **(world.views[case.on] if case.on else {})}
    headers = {**world.admin, **_preconditions(client, document, path, spec, ids, world)}
    body = _body(document, spec, case, ids, world)
    response = client.request(method, _url(path, ids), json=body, headers=headers)
    refused = REFUSED.get(operation)
    if refused is not None:
        assert response.status_code == refused[0], f"{operation}: {response.text}"
    else:
        assert 200 <= response.status_code < 300, f"{operation}: {response.text}"
    names = {plan_id: name for name, plan_id in world.plans.items()}
    stale = {}
    for plan_id in session.scalars(select(Plan.id).where(Plan.clinic_id == world.clinic_id)).all():
        found = differences(session, plan_id)
        if found:
            stale[names.get(plan_id, f"created {plan_id}")] = found
    if stale:
        raise AssertionError("\n".join(describe(name, parts) for name, parts in stale.items()))


def _url(path: str, ids: dict[str, uuid.UUID]) -> str:
    for name in re.findall(r"{(\w+)}", path):
        assert name in ids, f"{path}: the fixture has no record for {name}; add one to World"
        path = path.replace("{" + name + "}", str(ids[name]))
    return path


def _preconditions(
    client: TestClient,
    document: dict[str, Any],
    path: str,
    spec: dict[str, Any],
    ids: dict[str, uuid.UUID],
    world: World,
) -> dict[str, str]:
    wanted = {p["name"].lower() for p in spec.get("parameters", []) if p["in"] == "header"}
    headers = {}
    if "if-match" in wanted:
        headers["If-Match"] = _etag(client, document, path, ids, world)
    if "idempotency-key" in wanted:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return headers


def _etag(
    client: TestClient,
    document: dict[str, Any],
    path: str,
    ids: dict[str, uuid.UUID],
    world: World,
) -> str:
    """The ETag of the resource the write changes: from the nearest GET at or above its path
    (a plan's transitions and stage order carry the plan's, a stop its prescription's)."""
    parts = path.split("/")
    while len(parts) > 3:
        above = "/".join(parts)
        if "get" in document["paths"].get(above, {}):
            read = client.get(_url(above, ids), headers=world.admin)
            if read.status_code == 200 and "etag" in read.headers:
                return read.headers["etag"]
        parts.pop()
    raise AssertionError(f"{path}: no GET at or above it gives an ETag for If-Match")


def _body(
    document: dict[str, Any],
    spec: dict[str, Any],
    case: Case,
    ids: dict[str, uuid.UUID],
    world: World,
) -> Any:
    content = spec.get("requestBody", {}).get("content")
    if content is None:
        assert not case.body, "a case gives a body to an operation that takes none"
        return None
    assert "application/json" in content, f"a {list(content)} body: generate it here"
    generated = Generator(document, ids).value(content["application/json"]["schema"])
    return _merge(generated, _resolved(case.body, ids, world))


def _resolved(value: Any, ids: dict[str, uuid.UUID], world: World) -> Any:
    if isinstance(value, Ref):
        if value.name in world.lists:
            return [str(item) for item in world.lists[value.name]]
        return str(ids[value.name])
    if isinstance(value, dict):
        return {key: _resolved(item, ids, world) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, ids, world) for item in value]
    return value


def _merge(generated: Any, extra: Any) -> Any:
    """`extra` over `generated`: objects key by key, lists item by item."""
    if isinstance(generated, dict) and isinstance(extra, dict):
        return {**generated, **{k: _merge(generated.get(k), v) for k, v in extra.items()}}
    if isinstance(generated, list) and isinstance(extra, list):
        padded = generated + [None] * (len(extra) - len(generated))
        return [_merge(padded[i], item) for i, item in enumerate(extra)]
    return extra


class Generator:
    """A well-formed value for a JSON schema: required fields only, the first alternative
    that is not null, the first enum value, the lowest number allowed, a unique string of an
    allowed length, the fixture's record for an id (by the field's name)."""

    def __init__(self, document: dict[str, Any], ids: dict[str, uuid.UUID]) -> None:
        self._schemas = document["components"]["schemas"]
        self._ids = ids

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        if "$ref" in schema:
            return self.value(self._schemas[schema["$ref"].rpartition("/")[2]], name)
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"]
            return self.value(options[0], name)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object":
            properties, required = schema.get("properties", {}), schema.get("required", [])
            return {key: self.value(properties[key], key) for key in required}
        if kind == "array":
            item = name.removesuffix("s")  # driver_ids: each a driver_id
            return [self.value(schema["items"], item) for _ in range(schema.get("minItems", 0))]
        if kind == "string":
            return self._string(schema, name)
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return bool(schema.get("default", False))
        raise AssertionError(f"{name}: no value for the schema {schema}")

    def _string(self, schema: dict[str, Any], name: str) -> str:
        unique = uuid.uuid4().hex
        formats = {
            "date": lambda: datetime.now(UTC).date().isoformat(),
            "date-time": lambda: datetime.now(UTC).isoformat(),
            "email": lambda: f"write-{unique[:12]}@example.org",
            "uri": lambda: f"https://example.org/{unique[:12]}",
        }
        form = schema.get("format")
        if form == "uuid":
            assert name in self._ids, f"{name}: the fixture has no such record; add it to World"
            return str(self._ids[name])
        if form in formats:
            return formats[form]()
        low, high = schema.get("minLength", 0), schema.get("maxLength", 200)
        text = f"w{unique}" if "pattern" in schema else f"{name} {unique}"
        text = text.ljust(low, "x")[:high]
        pattern = schema.get("pattern")
        assert pattern is None or re.fullmatch(pattern, text), f"{name}: write one for {pattern}"
        return text


def _number(schema: dict[str, Any], *, integer: bool) -> float | int:
    """The minimum; past an exclusive minimum, halfway to the maximum (or one more)."""
    if "minimum" in schema:
        return int(schema["minimum"]) if integer else float(schema["minimum"])
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"]
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 2))
        return int(low) + 1 if integer else (low + high) / 2
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value = 1 if high is None or high > 1 else high - 1
    return int(value) if integer else float(value)
