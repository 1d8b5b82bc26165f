"""Shared API shapes: the schema bases and the cursor page."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.types import no_nul

T = TypeVar("T")


class Schema(BaseModel):
    """Output shapes: read from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class InputSchema(BaseModel):
    """Input shapes: a misspelt field is a 422, never silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """No string in the payload, however deep, may hold a NUL (a 422 naming the field)."""
        _refuse_nul(value)
        return value


def _refuse_nul(value: Any) -> None:
    # Nested models are InputSchemas too and check their own fields.
    if isinstance(value, str):
        no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _refuse_nul(item)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to read the next page; null on the last page."
    )
