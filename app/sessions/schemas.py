from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field, field_validator

from app.core.schemas import InputSchema, Schema
from app.core.types import AwareTimestamp, LongText, Pain0to10
from app.observations.schemas import ObservationCreate, ObservationRead
from app.prescriptions.logs_schemas import MAX_SETS, ExerciseLogRead, SetDone
from app.sessions.models import AdjunctKind

MAX_WORK = 50
MAX_ADJUNCTS = 20
MAX_OBSERVATIONS = 100
# Clocks drift; a visit a few minutes "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=5)

Region = Annotated[str, Field(min_length=1, max_length=100, examples=["left knee"])]
Minutes = Annotated[int, Field(ge=1, le=240)]


class WorkDone(InputSchema):
    """Active work in the session: one prescription, the sets done, the pain during them."""

    prescription_id: uuid.UUID = Field(description="An active prescription of this plan.")
    sets: list[SetDone] = Field(min_length=1, max_length=MAX_SETS)
    pain_during: Pain0to10 | None = None


class AdjunctCreate(InputSchema):
    """A passive modality applied: recorded beside active work, never instead of it."""

    kind: AdjunctKind
    region: Region | None = None
    minutes: Minutes | None = None
    notes: LongText | None = None


class SessionCreate(InputSchema):
    occurred_at: AwareTimestamp
    clinician_id: uuid.UUID | None = Field(
        default=None,
        description="A clinician or admin of the clinic; defaults to the calling user "
        "(an integration key must send it).",
    )
    work: list[WorkDone] = Field(default_factory=list, max_length=MAX_WORK)
    adjuncts: list[AdjunctCreate] = Field(default_factory=list, max_length=MAX_ADJUNCTS)
    pain_before: Pain0to10 | None = None
    pain_after: Pain0to10 | None = None
    observations: list[ObservationCreate] = Field(default_factory=list, max_length=MAX_OBSERVATIONS)
    notes: LongText | None = None

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("is in the future")
        return value


class SessionUpdate(InputSchema):
    """Only what is known after the visit: pain after, notes."""

    pain_after: Pain0to10 | None = None
    notes: LongText | None = None


class AdjunctRead(Schema):
    id: uuid.UUID
    kind: AdjunctKind
    region: str | None
    minutes: int | None
    notes: str | None


class SessionSummary(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    clinician_id: uuid.UUID
    number: int = Field(description="1 for the plan's first session, then 2, 3 ...")
    occurred_at: datetime
    pain_before: int | None
    pain_after: int | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class SessionRead(SessionSummary):
    work: list[ExerciseLogRead] = Field(description="Active work, as clinic exercise logs.")
    adjuncts: list[AdjunctRead]
    observations: list[ObservationRead] = Field(description="Observations taken in the session.")
