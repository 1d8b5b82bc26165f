from __future__ import annotations

import uuid

from app.core.schemas import Schema
from app.core.types import Role


class TokenRead(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeRead(Schema):
    kind: str
    id: uuid.UUID
    clinic_id: uuid.UUID
    role: Role
    email: str | None = None
    display_name: str | None = None
    patient_id: uuid.UUID | None = None
