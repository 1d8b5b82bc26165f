from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, model_validator

from app.core.schemas import InputSchema, Schema
from app.core.types import AwareTimestamp, Side
from app.observations.models import ObservationSource

MAX_BATCH = 500
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class ObservationCreate(InputSchema):
    measure_id: uuid.UUID | None = Field(default=None, description="The measure, by id ...")
    measure_code: str | None = Field(default=None, max_length=50, description="... or by code.")
    value: FiniteFloat = Field(
        description="In `unit`. Refused outside the measure's range and, whatever the measure, "
        "beyond what a measurement can be (10 km, a tonne, 100,000 reps: docs/input-bounds.md)."
    )
    unit: str | None = Field(
        default=None,
        max_length=30,
        description="Defaults to the measure's unit; kg/lb, cm/m, s/ms convert.",
    )
    side: Side = Side.none
    observed_at: AwareTimestamp
    source: ObservationSource | None = Field(
        default=None, description="Defaults to `patient` for patient users, else `clinician`."
    )
    assessment_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_measure_reference(self) -> Self:
        if (self.measure_id is None) == (self.measure_code is None):
            raise ValueError("give exactly one of measure_id and measure_code")
        return self


class ObservationBatchCreate(InputSchema):
    observations: list[ObservationCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ObservationErrorMark(InputSchema):
    reason: str = Field(min_length=1, max_length=500)


class ObservationRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    measure_id: uuid.UUID
    value: float = Field(description="In the measure's own unit.")
    recorded_value: float
    recorded_unit: str
    side: Side
    observed_at: datetime
    source: ObservationSource
    assessment_id: uuid.UUID | None
    session_id: uuid.UUID | None = Field(description="The treatment session it was taken in.")
    recorded_by_type: str
    recorded_by_id: uuid.UUID
    created_at: datetime
    entered_in_error_at: datetime | None
    entered_in_error_reason: str | None
    version: int


class ObservationBatchRead(Schema):
    items: list[ObservationRead]
