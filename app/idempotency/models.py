from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, utcnow


class IdempotencyKey(IdMixin, ClinicOwnedMixin, Base):
    """A client's Idempotency-Key and the answer it got, so a retry replays that answer.

    Written in the same transaction as the write it guards: the key exists exactly when the
    write does. Kept in the database, so a retry that reaches another API process is known.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("clinic_id", "actor_id", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    actor_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
