"""Keyset (cursor) pagination: a deep page costs what the first does."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.core.errors import InvalidInput

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


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date) else str(v) for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError("wrong shape")
        return [_parse(value, column) for value, column in zip(raw, columns, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not one this API issued.",
            errors=[{"parameter": "cursor", "in": "query", "detail": "malformed cursor"}],
        ) from exc


def _parse(value: Any, column: InstrumentedAttribute[Any]) -> Any:
    python_type = getattr(column.type, "impl", column.type).python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    return python_type(value)


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
            for value, column in zip(_decode(params.cursor, order), order, strict=True)
        ]
        statement = statement.where(tuple_(*order) > tuple_(*after))
    rows = list(session.scalars(statement.order_by(*order).limit(params.limit + 1)))
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, _encode([getattr(last, column.key) for column in order])
