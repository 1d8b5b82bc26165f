from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, IdMixin, TimestampMixin, VersionMixin


class Clinic(IdMixin, TimestampMixin, VersionMixin, Base):
    """The tenant: every clinical record belongs to one."""

    __tablename__ = "clinics"

    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # The clinic's own audit thresholds, only those it changed; the rest are the defaults.
    audit_thresholds: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=dict, server_default=text("'{}'")
    )
    inputs_version: Mapped[int] = mapped_column(
        Integer,
        default=0,
        server_default=text("0"),
        doc="Moves when an input every plan of the clinic is projected from changes (its audit "
        "thresholds, one of its measures): a plan projected with an older one is stale "
        "(app.projections).",
    )
