from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Enum, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, TimestampMixin, VersionMixin


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Patient(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    """A person under care. Never hard-deleted: archived instead."""

    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("clinic_id", "external_id"),
        Index("ix_patients_clinic_id_created_at", "clinic_id", "created_at", "id"),
    )

    display_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date]
    sex: Mapped[Sex | None] = mapped_column(Enum(Sex, native_enum=False, length=20))
    external_id: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
