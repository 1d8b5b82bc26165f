"""Enums and bounded types shared across domains."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints


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
