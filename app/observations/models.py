from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, VersionMixin, utcnow
from app.core.types import Side


class ObservationSource(StrEnum):
    clinician = "clinician"
    patient = "patient"


class Observation(IdMixin, ClinicOwnedMixin, VersionMixin, Base):
    """One value of a measure for a patient. Never edited: a wrong one is marked in error."""

    __tablename__ = "observations"
    __table_args__ = (
        Index(
            "ix_observations_clinic_id_patient_id_measure_id",
            "clinic_id",
            "patient_id",
            "measure_id",
            "observed_at",
        ),
        Index(
            "ix_observations_clinic_id_patient_id_created_at",
            "clinic_id",
            "patient_id",
            "created_at",
            "id",
        ),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    measure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("measures.id"))
    value: Mapped[float] = mapped_column(Float, doc="In the measure's own unit.")
    recorded_value: Mapped[float] = mapped_column(Float, doc="As sent.")
    recorded_unit: Mapped[str] = mapped_column(String(30))
    side: Mapped[Side] = mapped_column(Enum(Side, native_enum=False, length=20), default=Side.none)
    observed_at: Mapped[datetime]
    source: Mapped[ObservationSource] = mapped_column(
        Enum(ObservationSource, native_enum=False, length=20)
    )
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assessments.id"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_sessions.id"))
    recorded_by_type: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_in_error_at: Mapped[datetime | None]
    entered_in_error_reason: Mapped[str | None] = mapped_column(String(500))
