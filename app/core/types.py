"""Enums and bounded types shared across domains."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, EmailStr, Field, StringConstraints


class Role(StrEnum):
    admin = "admin"
    clinician = "clinician"
    patient = "patient"
    integration = "integration"


class Side(StrEnum):
    left = "left"
    right = "right"
    bilateral = "bilateral"
    none = "none"


Pain0to10 = Annotated[int, Field(ge=0, le=10, description="Numeric rating scale, 0 to 10.")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
# Why a clinician overrode or changed something: a sentence or a short paragraph.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
# A measure's code as a client names it (`single_leg_hop`): the length measures.code holds.
MeasureCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# A unit as recorded (UCUM where one exists: `cm`, `{score}`).
UnitText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
# The validator refuses an address over RFC 5321's 254 characters; the schema says so.
EmailAddress = Annotated[EmailStr, Field(max_length=254)]

# Every list a request body carries is bounded: a body is validated on the event loop, and a
# bound is what keeps its validation, its checks and its error body small. Each bound is the
# most a clinician needs, with room to spare; the lists themselves are declared where they live.
MAX_DRIVERS = 20  # drivers of an assessment, so also the drivers a plan or a stage targets
DriverIds = Annotated[list[uuid.UUID], Field(max_length=MAX_DRIVERS)]


def no_nul(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL, and no clinical text needs one: refused as input."""
    if value is not None and "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def to_utc(value: datetime) -> datetime:
    """An aware timestamp in UTC; one whose UTC date is out of range (year 1 at +14:00) is
    a 422 rather than an OverflowError when it is stored or compared."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


def in_utc_range(value: datetime) -> datetime:
    to_utc(value)
    return value


# For a query or form string, after its Query()/Form(): `Annotated[str | None, Query(), NoNul]`.
# Request bodies get the same check from InputSchema.
NoNul = AfterValidator(no_nul)
# An aware timestamp that keeps its offset (a session's local date comes from it), but only
# one that UTC can hold.
AwareTimestamp = Annotated[AwareDatetime, AfterValidator(in_utc_range)]
UtcTimestamp = Annotated[
    AwareDatetime,
    AfterValidator(to_utc),
    Field(description="ISO 8601 with a timezone; stored and returned in UTC."),
]
