from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, TimestampMixin, VersionMixin


class ApiKey(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    """An integration script's credential; only a hash of the secret is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_clinic_id_created_at", "clinic_id", "created_at", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
