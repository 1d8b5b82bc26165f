from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.core.schemas import Schema


class AuditEventRead(Schema):
    id: uuid.UUID
    at: datetime
    actor_type: str
    actor_id: uuid.UUID
    action: str
    entity_type: str
    entity_id: uuid.UUID
    details: dict[str, Any] | None
