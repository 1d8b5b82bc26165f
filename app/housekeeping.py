"""The daily job (`rehab housekeeping`, run from cron or a scheduler, on one machine).

- Findings that arrive with time alone (a prescription unchanged for 14 days, a stage past its
  weeks, a draft left for a week) need no write to become true, so every open plan not audited
  since the cut-off is projected again, and so is every plan a clinic-wide change left stale.
- Idempotency keys past their retention and login-failure windows that have ended are deleted.
It is safe to run twice or from two machines: each step is idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth.models import LoginFailure
from app.clinics.models import Clinic
from app.core.config import get_settings
from app.core.db import transaction
from app.idempotency import service as idempotency_service
from app.projections import catch_up


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
        audited += refresh_clinic(clinic_id, now - audit_older_than)
    with transaction(write=True) as session:
        keys, windows = purge(session, now)
    return Report(audited, keys, windows)


def refresh_clinic(clinic_id: uuid.UUID, audited_before: datetime) -> int:
    """The clinic's due projections, a batch per transaction, so no lock is held for long."""
    projected: set[tuple[uuid.UUID, uuid.UUID]] = set()
    while True:
        with transaction(write=True) as session:
            batch = catch_up.due(
                session, clinic_id, audited_before=audited_before, limit=catch_up.BATCH
            )
        # A cut-off ahead of the clock would find the same plans again: never loop on them.
        if projected.issuperset(batch):
            return len(projected)
        projected.update(batch)
        if len(batch) < catch_up.BATCH:
            return len(projected)


def purge(session: Session, now: datetime) -> tuple[int, int]:
    keys = idempotency_service.purge_expired(session, now)
    window = timedelta(seconds=get_settings().login_window_seconds)
    ended = session.execute(delete(LoginFailure).where(LoginFailure.window_start < now - window))
    return keys, int(getattr(ended, "rowcount", 0) or 0)
