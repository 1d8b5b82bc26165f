from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, IdMixin, TimestampMixin, VersionMixin
from app.rules.criteria import Better


class MeasureCategory(StrEnum):
    pain = "pain"
    patient_reported_function = "patient_reported_function"
    performance = "performance"
    range_of_motion = "range_of_motion"
    strength = "strength"


class Measure(IdMixin, TimestampMixin, VersionMixin, Base):
    """A catalog entry. Shipped measures have no clinic (read-only, shared by every clinic);
    a clinic's own measures carry its clinic_id."""

    __tablename__ = "measures"
    __table_args__ = (
        Index("ix_measures_clinic_id_code", "clinic_id", "code", unique=True),
        CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value < max_value", name="range_order"
        ),
    )

    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinics.id"))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[MeasureCategory] = mapped_column(
        Enum(MeasureCategory, native_enum=False, length=40)
    )
    unit: Mapped[str] = mapped_column(String(30))
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    better: Mapped[Better] = mapped_column(Enum(Better, native_enum=False, length=10))
    mcid: Mapped[float | None] = mapped_column(Float)
    loinc: Mapped[str | None] = mapped_column(String(20))
    bilateral: Mapped[bool] = mapped_column(default=False)
    patient_reportable: Mapped[bool] = mapped_column(default=False)

    @property
    def read_only(self) -> bool:
        return self.clinic_id is None
