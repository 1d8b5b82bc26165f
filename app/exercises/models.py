from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, IdMixin, TimestampMixin, VersionMixin
from app.rules.progression import Body, Dosing


class ExerciseCategory(StrEnum):
    strength = "strength"
    mobility = "mobility"
    plyometric = "plyometric"
    balance = "balance"
    conditioning = "conditioning"
    motor_control = "motor_control"


class Exercise(IdMixin, TimestampMixin, VersionMixin, Base):
    """A library entry. Shipped exercises have no clinic (read-only, shared); a clinic's own
    carry its clinic_id."""

    __tablename__ = "exercises"
    __table_args__ = (Index("ix_exercises_clinic_id_name", "clinic_id", "name", unique=True),)

    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinics.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    body_region: Mapped[str] = mapped_column(String(50))
    body: Mapped[Body] = mapped_column(Enum(Body, native_enum=False, length=20))
    category: Mapped[ExerciseCategory] = mapped_column(
        Enum(ExerciseCategory, native_enum=False, length=20)
    )
    dosing: Mapped[Dosing] = mapped_column(Enum(Dosing, native_enum=False, length=20))
    equipment: Mapped[str] = mapped_column(String(100), default="none")
    media_urls: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def read_only(self) -> bool:
        return self.clinic_id is None
