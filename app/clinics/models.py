from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, IdMixin, TimestampMixin


class Clinic(IdMixin, TimestampMixin, Base):
    """The tenant: every clinical record belongs to one."""

    __tablename__ = "clinics"

    name: Mapped[str] = mapped_column(String(200))
