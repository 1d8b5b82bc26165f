from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.core.schemas import InputSchema, Schema
from app.core.types import EmailAddress, Name, Role

MIN_PASSWORD_LENGTH = 12


# What tops public breach lists, at the length this policy asks for: digit runs and repeats,
# keyboard walks, "password" padded to twelve. Compared lower-cased. Deliberately short: the
# length minimum does most of the work, and this only stops the first guesses of any list.
COMMON_PASSWORDS = frozenset(
    {
        "000000000000",
        "111111111111",
        "123123123123",
        "123456123456",
        "123456789012",
        "1234567890123",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abc123456789",
        "iloveyou1234",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "q1w2e3r4t5y6",
        "qwerty123456",
        "qwertyqwerty",
        "qwertyuiop12",
        "qwertyuiopas",
        "qwertyuiopasdfghjkl",
        "zaq12wsxcde3",
    }
)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("may not be only whitespace")
    return value


def _not_common(value: str) -> str:
    if value.strip().lower() in COMMON_PASSWORDS:
        raise ValueError("is one of the most common passwords; choose another")
    return value


# Logins compare emails case-insensitively, so they are stored lower-case.
Email = Annotated[EmailAddress, AfterValidator(str.lower)]
# Not stripped: the login form does not strip either, so the password typed is the one kept.
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=MIN_PASSWORD_LENGTH, max_length=1024),
    AfterValidator(_not_blank),
    AfterValidator(_not_common),
    Field(description=f"At least {MIN_PASSWORD_LENGTH} characters, not a common one."),
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

    @field_validator("password")
    @classmethod
    def _not_the_email(cls, value: str, info: ValidationInfo) -> str:
        email = info.data.get("email")
        if email and value.strip().lower() in {email, email.partition("@")[0]}:
            raise ValueError("may not be the email or its name part")
        return value

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
