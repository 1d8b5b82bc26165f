"""Every request body the API documents is bounded, read from its own OpenAPI document: each
array has `maxItems`, each string `maxLength`, each open map `maxProperties`, however deep they
sit (`$ref`, `anyOf`/`allOf`/`oneOf`, nested objects and arrays).

A body is validated on the event loop, and what it may hold is what its validation, its checks
and its error answer can cost (docs/decisions/0001-io-model.md). A string is bounded by its
format too, and needs no `maxLength`, when that format admits a bounded text only: `uuid`,
`date` and `date-time` (a timestamp's digits are fixed; pydantic refuses what does not parse),
an `enum` or `const`, or a `pattern` that is one literal word (`^password$`, an enum of one).
Any other format (`email`, `uri`) states its `maxLength` like a plain string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.main import create_app

BOUNDED_FORMATS = {"uuid", "date", "date-time"}
LITERAL_PATTERN = re.compile(r"\^[A-Za-z0-9_]+\$")
Schema = dict[str, Any]


def unbounded(schema: Schema, components: dict[str, Schema], where: str) -> Iterator[str]:
    """Where in the schema an array, a string or a map has no bound."""
    yield from _walk(schema, components, where, frozenset())


def _walk(
    schema: Schema, components: dict[str, Schema], where: str, seen: frozenset[str]
) -> Iterator[str]:
    if "$ref" in schema:
        name = schema["$ref"].rpartition("/")[2]
        if name not in seen:  # a recursive shape is walked once
            yield from _walk(components[name], components, where, seen | {name})
        return
    for key in ("anyOf", "allOf", "oneOf"):
        for branch in schema.get(key, []):
            yield from _walk(branch, components, where, seen)
    kind = schema.get("type")
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: array without maxItems"
        for item in [schema.get("items", {}), *schema.get("prefixItems", [])]:
            yield from _walk(item, components, f"{where}[]", seen)
    if kind == "string" and not _string_bounded(schema):
        yield f"{where}: string without maxLength"
    for name, field in schema.get("properties", {}).items():
        yield from _walk(field, components, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if extra not in (None, False) and "maxProperties" not in schema:
        yield f"{where}: map without maxProperties"
    if isinstance(extra, dict):
        yield from _walk(extra, components, f"{where}.*", seen)


def _string_bounded(schema: Schema) -> bool:
    return (
        "maxLength" in schema
        or "enum" in schema
        or "const" in schema
        or schema.get("format") in BOUNDED_FORMATS
        or bool(LITERAL_PATTERN.fullmatch(schema.get("pattern", "")))
    )


def _request_bodies(document: dict[str, Any]) -> list[tuple[str, Schema]]:
    return [
        (f"{method.upper()} {path} {media_type}", media["schema"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items()
    ]


DOCUMENT = create_app().openapi()
BODIES = _request_bodies(DOCUMENT)


def test_the_api_has_request_bodies_to_check() -> None:
    assert len(BODIES) > 30
    assert any("application/x-www-form-urlencoded" in operation for operation, _ in BODIES)


@pytest.mark.parametrize(("operation", "schema"), BODIES, ids=[op for op, _ in BODIES])
def test_every_array_string_and_map_of_a_request_body_is_bounded(
    operation: str, schema: Schema
) -> None:
    components = DOCUMENT["components"]["schemas"]
    assert list(unbounded(schema, components, operation)) == []


def test_the_walk_finds_what_is_unbounded_however_deep() -> None:
    components: dict[str, Schema] = {
        "Child": {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}},
                "email": {"type": "string", "format": "email"},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "on": {"type": "string", "format": "date"},
                "grant": {"type": "string", "pattern": "^password$"},
                "code": {"type": "string", "pattern": "^[a-z]+$"},
                "child": {"$ref": "#/components/schemas/Child"},
                "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
    }
    schema: Schema = {
        "allOf": [
            {
                "type": "object",
                "properties": {
                    "children": {
                        "anyOf": [
                            {
                                "type": "array",
                                "maxItems": 3,
                                "items": {"$ref": "#/components/schemas/Child"},
                            },
                            {"type": "null"},
                        ]
                    }
                },
            }
        ]
    }
    assert sorted(unbounded(schema, components, "body")) == [
        "body.children[].code: string without maxLength",
        "body.children[].email: string without maxLength",
        "body.children[].extra: map without maxProperties",
        "body.children[].tags: array without maxItems",
        "body.children[].tags[]: string without maxLength",
    ]
