from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import InputSchema, Schema
from app.core.types import Name


class ApiKeyCreate(InputSchema):
    name: Name = Field(description="What the key is for, e.g. the script that uses it.")


class ApiKeyRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    name: str
    prefix: str = Field(description="The secret's first characters, to tell keys apart.")
    created_by_id: uuid.UUID
    revoked_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class ApiKeyCreated(ApiKeyRead):
    secret: str | None = Field(
        description="The key itself (`rk_...`), shown this once: only its hash is stored. "
        "Null when an Idempotency-Key retry replays the answer: revoke that key and issue "
        "another."
    )
