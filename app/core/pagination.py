"""Keyset (cursor) pagination: a deep page costs what the first does."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.core.errors import InvalidInput
from app.core.types import no_nul, to_utc

MAX_LIMIT = 200
T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="From the previous page's `next_cursor`.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


# A cursor is the last row's sort key: its values as text in a JSON list, base64url without
# padding. Opaque to clients, and checked on the way back in like any other input.


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date) else str(v) for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    """The sort key `encode_cursor` wrote, one value of each type; a 422 naming the `cursor`
    query parameter for anything else, never an error from the database."""
    parsers = [_PARSERS[kind] for kind in types]
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(parsers):
            raise ValueError("wrong shape")
        if not all(isinstance(value, str) for value in raw):
            raise TypeError("a cursor holds text")
        return [parse(value) for value, parse in zip(raw, parsers, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:  # base64's and JSON's errors included
        raise InvalidCursor from exc


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "The cursor is not one this API issued.",
            errors=[{"parameter": "cursor", "in": "query", "detail": "malformed cursor"}],
        )


def _timestamp(value: str) -> datetime:
    # A naive one would fail as it is bound (UTCDateTime), a 500 rather than a 422.
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a timestamp without a timezone")
    return to_utc(parsed)


def _integer(value: str) -> int:
    # What the drivers can bind: SQLite's integers are 64-bit.
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of range")
    return number


def _text(value: str) -> str:
    no_nul(value)  # PostgreSQL's text cannot hold one
    return value


_PARSERS: dict[type, Callable[[str], Any]] = {
    datetime: _timestamp,
    date: date.fromisoformat,
    uuid.UUID: uuid.UUID,
    int: _integer,
    str: _text,
}


def _python_type(column: InstrumentedAttribute[Any]) -> type:
    python_type: type = getattr(column.type, "impl", column.type).python_type
    return python_type


def paginate(
    session: Session,
    statement: Select[T],
    order: Sequence[InstrumentedAttribute[Any]],
    params: PageParams,
) -> tuple[list[T], str | None]:
    """Rows after the cursor in ascending `order` (which must end with a unique column)."""
    if params.cursor:
        after = [
            literal(value, column.type)
            for value, column in zip(
                decode_cursor(params.cursor, [_python_type(c) for c in order]),
                order,
                strict=True,
            )
        ]
        statement = statement.where(tuple_(*order) > tuple_(*after))
    rows = list(session.scalars(statement.order_by(*order).limit(params.limit + 1)))
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, column.key) for column in order])
