from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, IdMixin


class LoginKeyKind(StrEnum):
    account = "account"
    address = "address"


class LoginFailure(IdMixin, Base):
    """Failed logins counted per submitted email and per client address, in a fixed window.

    Not clinic-owned: a login attempt names no clinic, and an email that matches no user is
    counted all the same. Kept in the database so every API process sees the same counts.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        UniqueConstraint("key_kind", "key"),
        Index("ix_login_failures_window_start", "window_start"),
    )

    key_kind: Mapped[LoginKeyKind] = mapped_column(Enum(LoginKeyKind, native_enum=False, length=10))
    key: Mapped[str] = mapped_column(String(320))  # lower-cased email, or client address
    window_start: Mapped[datetime]
    count: Mapped[int]
    locked_until: Mapped[datetime | None]
