from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from app.core.schemas import InputSchema, Schema
from app.core.types import Name, UnitText
from app.measures.models import MeasureCategory
from app.rules.criteria import Better

Code = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]{1,49}$", max_length=50, description="snake_case code")
]
Unit = Annotated[UnitText, Field(description="UCUM where one exists")]
Description = Annotated[str, Field(max_length=2000)]
# Python's JSON parser reads Infinity and NaN; a bound or MCID must be a real number.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Mcid = Annotated[FiniteFloat, Field(gt=0, description="Minimal clinically important difference")]


class MeasureCreate(InputSchema):
    code: Code
    name: Name
    description: Description | None = None
    category: MeasureCategory
    unit: Unit
    min_value: FiniteFloat | None = None
    max_value: FiniteFloat | None = None
    better: Better
    mcid: Mcid | None = None
    loinc: str | None = Field(default=None, max_length=20)
    bilateral: bool = False
    patient_reportable: bool = False

    @field_validator("max_value")
    @classmethod
    def _range_in_order(cls, value: float | None, info: ValidationInfo) -> float | None:
        # min_value is declared first, so it has been validated (when valid) by now.
        low = info.data.get("min_value")
        if value is not None and low is not None and low >= value:
            raise ValueError("min_value must be below max_value")
        return value


class MeasureUpdate(InputSchema):
    name: Name | None = None
    description: Description | None = None
    mcid: Mcid | None = None
    patient_reportable: bool | None = None

    @field_validator("name", "patient_reportable")
    @classmethod
    def _required_fields_not_null(cls, value: object) -> object:
        # Left out, a field is unchanged; an explicit null would break a NOT NULL column.
        if value is None:
            raise ValueError("may not be null")
        return value


class MeasureRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID | None = Field(description="null for the shipped, read-only measures")
    code: str
    name: str
    description: str | None
    category: MeasureCategory
    unit: str
    min_value: float | None
    max_value: float | None
    better: Better
    mcid: float | None
    loinc: str | None
    bilateral: bool
    patient_reportable: bool
    read_only: bool
    version: int
    created_at: datetime
    updated_at: datetime
