from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, model_validator

from app.core.schemas import InputSchema, Schema
from app.core.types import Name
from app.measures.models import MeasureCategory
from app.rules.criteria import Better

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,49}$", description="snake_case code")]
Unit = Annotated[str, Field(min_length=1, max_length=30, description="UCUM where one exists")]


class MeasureCreate(InputSchema):
    code: Code
    name: Name
    description: str | None = Field(default=None, max_length=2000)
    category: MeasureCategory
    unit: Unit
    min_value: float | None = None
    max_value: float | None = None
    better: Better
    mcid: float | None = Field(
        default=None, gt=0, description="Minimal clinically important difference"
    )
    loinc: str | None = Field(default=None, max_length=20)
    bilateral: bool = False
    patient_reportable: bool = False

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.min_value is not None and self.max_value is not None:
            if self.min_value >= self.max_value:
                raise ValueError("min_value must be below max_value")
        return self


class MeasureUpdate(InputSchema):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    mcid: float | None = Field(default=None, gt=0)
    patient_reportable: bool | None = None


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
