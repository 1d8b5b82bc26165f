"""Clinic-wide inputs: the clinic's audit thresholds and its own measures feed every plan of
the clinic, which can be 100,000 patients' plans: too many to project in the transaction that
changed them.

So that transaction moves the clinic's `inputs_version` on, in one statement, which makes every
plan projected before it stale at once, and then projects a bounded batch of them (those under
way first). A read never serves a stale one: the plan and progress reads compare the plan's
`projected_inputs_version` with the clinic's in their one statement and render afresh when it
is behind, and the worklist brings the clinic's stale plans under way current before it pages
(app.accountability.worklist). What remains is projected by `rehab housekeeping`, a batch per
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.plans.models import UNDER_WAY, Plan, PlanStatus
from app.projections.inputs import Key

# Plans projected in the transaction of a clinic-wide change, and in each catch-up transaction:
# a clinic of a few hundred plans under way is current when the change commits.
BATCH = 500


def move_on(session: Session, clinic_ids: Collection[uuid.UUID]) -> None:
    """Every plan of these clinics is stale from now on."""
    session.execute(
        update(Clinic)
        .where(Clinic.id.in_(clinic_ids))
        .values(inputs_version=Clinic.inputs_version + 1),
        execution_options={"synchronize_session": False},
    )


def stale(
    session: Session,
    clinic_id: uuid.UUID,
    *,
    limit: int,
    statuses: Collection[PlanStatus] | None = None,
) -> list[Key]:
    """Up to `limit` of the clinic's plans projected before its latest clinic-wide change."""
    current = select(Clinic.inputs_version).where(Clinic.id == clinic_id).scalar_subquery()
    statement = select(Plan.clinic_id, Plan.id).where(
        Plan.clinic_id == clinic_id, Plan.projected_inputs_version < current
    )
    if statuses is not None:
        statement = statement.where(Plan.status.in_(statuses))
    rows = session.execute(statement.order_by(Plan.id).limit(limit))
    return [(row.clinic_id, row.id) for row in rows]


def first_batch(session: Session, clinic_id: uuid.UUID) -> list[Key]:
    """The plans to project with the change itself: those under way first."""
    batch = stale(session, clinic_id, limit=BATCH, statuses=UNDER_WAY)
    if len(batch) < BATCH:
        batch += stale(session, clinic_id, limit=BATCH - len(batch))
    return list(dict.fromkeys(batch))
