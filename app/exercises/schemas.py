from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, HttpUrl, StringConstraints, field_validator

from app.core.schemas import InputSchema, Schema
from app.core.types import Name
from app.exercises.models import ExerciseCategory
from app.rules.progression import Body, Dosing

MAX_MEDIA_URLS = 10

Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]
Region = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50),
    Field(
        description="Lower-case; the shipped library uses knee, hip, ankle_foot, shoulder, "
        "elbow_wrist, spine, neck and whole_body."
    ),
]
# Lower-cased because the progression rules read "barbell" to pick the barbell increment.
Equipment = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=100),
    Field(description='Lower-case, e.g. "barbell", "dumbbell", "band", "machine" or "none".'),
]
MediaUrls = Annotated[
    list[HttpUrl],
    Field(max_length=MAX_MEDIA_URLS, description="Links to videos or images, http(s) only."),
]
BodyField = Annotated[
    Body, Field(description="Which load step the progression rules use for this exercise.")
]


class ExerciseCreate(InputSchema):
    name: Name
    description: Description
    body_region: Region
    body: BodyField
    category: ExerciseCategory
    dosing: Dosing
    equipment: Equipment = "none"
    media_urls: MediaUrls = Field(default_factory=list)


class ExerciseUpdate(InputSchema):
    name: Name | None = None
    description: Description | None = None
    body_region: Region | None = None
    body: BodyField | None = None
    category: ExerciseCategory | None = None
    dosing: Dosing | None = None
    equipment: Equipment | None = None
    media_urls: MediaUrls | None = None

    @field_validator(
        "name",
        "description",
        "body_region",
        "body",
        "category",
        "dosing",
        "equipment",
        "media_urls",
    )
    @classmethod
    def _required_fields_not_null(cls, value: object) -> object:
        # Left out, a field is unchanged; an explicit null would break a NOT NULL column.
        if value is None:
            raise ValueError("may not be null")
        return value


class ExerciseRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID | None = Field(description="null for the shipped, read-only exercises")
    name: str
    description: str
    body_region: str
    body: Body
    category: ExerciseCategory
    dosing: Dosing
    equipment: str
    media_urls: list[str]
    read_only: bool
    version: int
    created_at: datetime
    updated_at: datetime
