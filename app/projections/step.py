"""The projection step: each affected plan locked, computed from its inputs and stored, and
what changed between before and after reported.

Locking: on PostgreSQL each plan's row is locked (`FOR UPDATE`, in id order, so two steps never
wait on each other in a circle) before any of its inputs is read. Under READ COMMITTED every
later statement then sees what the writers before it committed, so the last writer to a plan
computes from everything: two observation writes for one patient cannot leave a projection that
misses one. SQLite's write transaction holds the database's lock from its first statement, so
writers are already serial there.

The clinic's inputs_version is read in that first statement, before every other input: a
projection stamped with a version was computed from inputs at least as new as it, so a read
that finds the stamp equal to the clinic's can trust it (app.projections.clinic).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.plans.models import Plan, PlanStatus
from app.projections import renderings
from app.projections.compute import Computed, compute
from app.projections.inputs import Key


@dataclass(frozen=True)
class Snapshot:
    """The facts about a plan that integrations react to."""

    status: str
    current_stage_id: uuid.UUID | None
    ready_to_advance: bool
    ready_to_discharge: bool
    reassessment_due: bool
    attention_codes: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """A plan projected by the step: its facts before (None: a new plan) and after."""

    clinic_id: uuid.UUID
    plan_id: uuid.UUID
    before: Snapshot | None
    after: Snapshot


def project(
    session: Session, plans: Iterable[Key], before: dict[uuid.UUID, dict[str, Any]] | None = None
) -> list[Change]:
    """Projects the plans (deleted ones are skipped) and reports each one's before and after;
    `before` holds what the transaction's writes changed of a plan's status and stage.

    One plan's audit reads others': NOT_INDIVIDUALISED asks whether another active plan of the
    clinic runs the same program. So when a projected plan's program as others see it (its
    signature while it is active) moves, the plans running the old or the new program are
    projected after it, in a second round, which moves no program of its own."""
    now = datetime.now(UTC)
    changes: dict[uuid.UUID, Change] = {}
    queue = set(plans)
    while queue:
        moved: set[tuple[uuid.UUID, str]] = set()
        for row in _lock(session, sorted(queue, key=lambda key: key[1])):
            # What the transaction's writes replaced counts only the first time round.
            replaced = {} if row.id in changes else (before or {}).get(row.id, {})
            earlier = {**row._mapping, **replaced}
            computed = compute(session, row.clinic_id, row.id, now=now)
            _store(session, computed, row.inputs_version)
            shown = _shown_program(earlier), _shown_program(_after_state(computed))
            if shown[0] != shown[1]:
                moved |= {(row.clinic_id, digest) for digest in shown if digest is not None}
            snapshot = None if row.audited_at is None else _snapshot(earlier)
            first = changes.get(row.id)
            changes[row.id] = Change(
                row.clinic_id, row.id, first.before if first else snapshot, _after(computed)
            )
        queue = set(_running(session, moved)) if moved else set()
    return list(changes.values())


def _shown_program(state: dict[str, Any]) -> str | None:
    """The program other plans' audits see this plan run: its signature, while it is active."""
    if state["status"] != PlanStatus.active:
        return None
    signature: str | None = state["program_signature"]
    return signature


def _after_state(computed: Computed) -> dict[str, Any]:
    return {"status": computed.plan.status, **computed.columns}


def _running(session: Session, programs: set[tuple[uuid.UUID, str]]) -> list[Key]:
    """The active plans of those clinics running one of those programs (an indexed lookup)."""
    clinics = {clinic for clinic, _ in programs}
    statement = select(Plan.clinic_id, Plan.id).where(
        Plan.clinic_id.in_(clinics),
        Plan.program_signature.in_({digest for _, digest in programs}),
        Plan.status == PlanStatus.active,
    )
    return [(row.clinic_id, row.id) for row in session.execute(statement)]


_STATE = (
    Plan.clinic_id,
    Plan.id,
    Plan.status,
    Plan.current_stage_id,
    Plan.ready_to_advance,
    Plan.ready_to_discharge,
    Plan.reassessment_due,
    Plan.attention_codes,
    Plan.audited_at,
    Plan.program_signature,
)


def _lock(session: Session, keys: list[Key]) -> list[Any]:
    """The plans' stored state and their clinic's inputs_version, the plans locked."""
    clinics = {clinic for clinic, _ in keys}
    statement = (
        select(*_STATE, Clinic.inputs_version)
        .join(Clinic, Clinic.id == Plan.clinic_id)
        .where(Plan.clinic_id.in_(clinics), Plan.id.in_([plan for _, plan in keys]))
        .order_by(Plan.id)
        .with_for_update(of=Plan)
    )
    return list(session.execute(statement))


def _store(session: Session, computed: Computed, inputs_version: int) -> None:
    """A bulk UPDATE, so the plan's version (its ETag) does not move: nothing a clinician
    wrote on the plan changed, and their next If-Match must still match."""
    plan = computed.plan
    session.execute(
        update(Plan)
        .where(Plan.clinic_id == plan.clinic_id, Plan.id == plan.id)
        .values(
            **computed.columns,
            projected_inputs_version=inputs_version,
            updated_at=Plan.updated_at,
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    renderings.store(session, plan, computed.progress)


def _snapshot(stored: dict[str, Any]) -> Snapshot:
    return Snapshot(
        status=str(stored["status"]),
        current_stage_id=stored["current_stage_id"],
        ready_to_advance=bool(stored["ready_to_advance"]),
        ready_to_discharge=bool(stored["ready_to_discharge"]),
        reassessment_due=bool(stored["reassessment_due"]),
        attention_codes=tuple(stored["attention_codes"]),
    )


def _after(computed: Computed) -> Snapshot:
    plan, columns = computed.plan, computed.columns
    return Snapshot(
        status=str(plan.status),
        current_stage_id=plan.current_stage_id,
        ready_to_advance=columns["ready_to_advance"],
        ready_to_discharge=columns["ready_to_discharge"],
        reassessment_due=columns["reassessment_due"],
        attention_codes=tuple(columns["attention_codes"]),
    )
