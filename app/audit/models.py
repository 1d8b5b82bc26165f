from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, utcnow


class AuditEvent(IdMixin, ClinicOwnedMixin, Base):
    """Who did what to which record, written in the same transaction as the write."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_clinic_id_at", "clinic_id", "at", "id"),
        Index("ix_audit_events_clinic_id_entity", "clinic_id", "entity_type", "entity_id", "at"),
    )

    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
