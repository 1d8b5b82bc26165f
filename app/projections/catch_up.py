"""Projections brought current outside the write that made them stale: by the daily job (some
findings arrive with time alone: a prescription unchanged for 14 days, a stage past its weeks,
a draft left for a week) and after a clinic-wide change (app.projections.clinic)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.plans.models import OPEN, UNDER_WAY, Plan
from app.projections import clinic
from app.projections.inputs import Key
from app.projections.step import project

BATCH = clinic.BATCH


def due(
    session: Session, clinic_id: uuid.UUID, *, audited_before: datetime, limit: int
) -> list[Key]:
    """Projects up to `limit` of the clinic's plans that are stale, or open and not audited
    since `audited_before` (or never); says which, so that a caller can go on in batches."""
    keys: list[Key] = clinic.stale(session, clinic_id, limit=limit)
    if len(keys) < limit:
        rows = session.execute(
            select(Plan.clinic_id, Plan.id)
            .where(
                Plan.clinic_id == clinic_id,
                Plan.status.in_(OPEN),
                or_(Plan.audited_at.is_(None), Plan.audited_at < audited_before),
            )
            .order_by(Plan.id)
            .limit(limit - len(keys))
        )
        keys += [(row.clinic_id, row.id) for row in rows]
    unique = list(dict.fromkeys(keys))
    project(session, unique)
    return unique


def under_way(session: Session, clinic_id: uuid.UUID, *, limit: int) -> bool:
    """Projects up to `limit` of the clinic's stale plans under way; says whether none is left."""
    keys = clinic.stale(session, clinic_id, limit=limit + 1, statuses=UNDER_WAY)
    project(session, keys[:limit])
    return len(keys) <= limit
