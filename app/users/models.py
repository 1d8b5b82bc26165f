from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, TimestampMixin, VersionMixin
from app.core.types import Role


class User(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_clinic_id_created_at", "clinic_id", "created_at", "id"),
        CheckConstraint(
            "(role = 'patient') = (patient_id IS NOT NULL)", name="patient_link_matches_role"
        ),
    )

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    is_active: Mapped[bool] = mapped_column(default=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"), unique=True)
