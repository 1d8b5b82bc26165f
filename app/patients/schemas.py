from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, field_validator

from app.core.schemas import InputSchema, Schema
from app.core.types import EmailAddress, LongText, Name
from app.patients.models import Sex

ExternalId = Annotated[str, Field(min_length=1, max_length=100)]
Phone = Annotated[str, Field(min_length=3, max_length=50)]


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > date.today():
        raise ValueError("date of birth is in the future")
    return value


class PatientCreate(InputSchema):
    display_name: Name
    date_of_birth: date
    sex: Sex | None = None
    external_id: ExternalId | None = Field(
        default=None, description="The clinic's own record number; unique within the clinic."
    )
    email: EmailAddress | None = None
    phone: Phone | None = None
    notes: LongText | None = None

    _dob = field_validator("date_of_birth")(_not_in_future)


class PatientUpdate(InputSchema):
    display_name: Name | None = None
    date_of_birth: date | None = None
    sex: Sex | None = None
    external_id: ExternalId | None = None
    email: EmailAddress | None = None
    phone: Phone | None = None
    notes: LongText | None = None

    _dob = field_validator("date_of_birth")(_not_in_future)

    @field_validator("display_name", "date_of_birth")
    @classmethod
    def _required_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class PatientRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    display_name: str
    date_of_birth: date
    sex: Sex | None
    external_id: str | None
    email: str | None
    phone: str | None
    notes: str | None
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
