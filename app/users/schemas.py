from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.core.schemas import InputSchema, Schema
from app.core.types import Name, Role

MIN_PASSWORD_LENGTH = 12


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("may not be only whitespace")
    return value


# Logins compare emails case-insensitively, so they are stored lower-case.
Email = Annotated[EmailStr, AfterValidator(str.lower)]
# Not stripped: the login form does not strip either, so the password typed is the one kept.
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=MIN_PASSWORD_LENGTH, max_length=1024),
    AfterValidator(_not_blank),
    Field(description=f"At least {MIN_PASSWORD_LENGTH} characters."),
]


class UserCreate(InputSchema):
    email: Email
    password: Password
    role: Role
    display_name: Name | None = None
    patient_id: uuid.UUID | None = Field(
        default=None,
        validate_default=True,
        description="Required for the patient role: the patient this login belongs to.",
    )

    @field_validator("patient_id")
    @classmethod
    def _patient_link_matches_role(
        cls, value: uuid.UUID | None, info: ValidationInfo
    ) -> uuid.UUID | None:
        role = info.data.get("role")
        if role is Role.patient and value is None:
            raise ValueError("required for the patient role")
        if role is not None and role is not Role.patient and value is not None:
            raise ValueError("only the patient role links to a patient")
        return value


class UserUpdate(InputSchema):
    role: Role | None = None
    is_active: bool | None = None
    display_name: Name | None = None

    @field_validator("role", "is_active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class UserRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    email: str
    role: Role
    is_active: bool
    display_name: str | None
    patient_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
