"""The daily job (`rehab housekeeping`, run from cron or a scheduler, on one machine).

- Findings that arrive with time alone (a prescription unchanged for 14 days, a stage past its
  weeks, a draft left for a week) need no write to become true, so every open plan not audited
  since the cut-off is audited again and its stored attention refreshed.
- Idempotency keys past their retention and login-failure windows that have ended are deleted.
It is safe to run twice or from two machines: each step is idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.accountability import service as accountability_service
from app.auth.models import LoginFailure
from app.clinics.models import Clinic
from app.core.auth import Actor
from app.core.config import get_settings
from app.core.db import transaction
from app.core.types import Role
from app.idempotency import service as idempotency_service


@dataclass(frozen=True)
class Report:
    plans_audited: int
    idempotency_keys_deleted: int
    login_windows_deleted: int


def run(now: datetime, *, audit_older_than: timedelta = timedelta(hours=20)) -> Report:
    """Each clinic in its own transaction, so one clinic's work never holds another's."""
    with transaction(write=False) as session:
        clinic_ids = list(session.scalars(select(Clinic.id)))
    audited = 0
    for clinic_id in clinic_ids:
        with transaction(write=True) as session:
            audited += refresh_clinic(session, clinic_id, now - audit_older_than)
    with transaction(write=True) as session:
        keys, windows = purge(session, now)
    return Report(audited, keys, windows)


def refresh_clinic(session: Session, clinic_id: uuid.UUID, audited_before: datetime) -> int:
    # The job acts for the clinic itself: it reads and refreshes, and writes no clinical record.
    actor = Actor(clinic_id=clinic_id, role=Role.admin)
    return accountability_service.refresh_clinic(session, actor, audited_before=audited_before)


def purge(session: Session, now: datetime) -> tuple[int, int]:
    keys = idempotency_service.purge_expired(session, now)
    window = timedelta(seconds=get_settings().login_window_seconds)
    ended = session.execute(delete(LoginFailure).where(LoginFailure.window_start < now - window))
    return keys, int(getattr(ended, "rowcount", 0) or 0)
