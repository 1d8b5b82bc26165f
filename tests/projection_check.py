"""Whether a plan's stored derived state is current: what the database holds for it (its
renderings in plan_documents, its audit outcome and worklist entry on plans) against the same
things computed afresh from the database's records.

Built on the public read and audit functions only, never on how the derived state gets
stored, so it proves any projection step right or wrong. `fresh_attention` is the one place
that knows how the worklist entry is computed: swap it for the projection module's own
compute function when there is one.
"""

from __future__ import annotations

import difflib
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accountability import facts as audit_facts
from app.accountability import service as accountability_service
from app.core.auth import Actor
from app.core.types import Role
from app.plans import progress, reading
from app.plans.models import Plan, PlanDocument, PlanStatus
from app.projections import compute
from app.rules import plan_audit
from app.rules.timeline import stage_schedule

PARTS = ("rendering", "progress", "audit", "attention")
# Progress is stored for the plans under way; the others' is evaluated on every read.
STORED_PROGRESS = frozenset({PlanStatus.active, PlanStatus.on_hold})
AUDIT_FIELDS = ("attention_codes", "reassessment_due")
ATTENTION_FIELDS = (
    "attention_rank",
    "ready_to_advance",
    "ready_to_discharge",
    "stage_due_on",
    "pending_overdue_on",
    "program_signature",
)
_STORED_COLUMNS = tuple(getattr(Plan, name) for name in (*AUDIT_FIELDS, *ATTENTION_FIELDS))


def _forget(session: Session) -> None:
    """Nothing served from the identity map: every value below is read from the database."""
    session.expire_all()
    session.expunge_all()


def _status(session: Session, plan_id: uuid.UUID) -> PlanStatus:
    status = session.scalar(select(Plan.status).where(Plan.id == plan_id))
    assert status is not None, f"no plan {plan_id}"
    return PlanStatus(status)


def admin_of(session: Session, plan_id: uuid.UUID) -> Actor:
    """An admin of the plan's clinic: sees every record the plan's evaluation reads."""
    clinic_id = session.scalar(select(Plan.clinic_id).where(Plan.id == plan_id))
    assert clinic_id is not None, f"no plan {plan_id}"
    return Actor(clinic_id=clinic_id, role=Role.admin)


def _without_time(progress_json: dict[str, Any] | None) -> dict[str, Any] | None:
    if progress_json is None:
        return None
    return {key: value for key, value in progress_json.items() if key != "evaluated_at"}


def _plain(value: Any) -> Any:
    """Dates as ISO text, so a stored and a computed value compare alike."""
    return value.isoformat() if isinstance(value, date) else value


def stored(session: Session, plan_id: uuid.UUID) -> dict[str, Any]:
    """The plan's derived state as stored, by part."""
    _forget(session)
    status = _status(session, plan_id)
    row = session.execute(
        select(PlanDocument.body, PlanDocument.progress_body, *_STORED_COLUMNS)
        .select_from(Plan)
        .outerjoin(PlanDocument, PlanDocument.plan_id == Plan.id)
        .where(Plan.id == plan_id)
    ).one()
    body, progress_body, *columns = row
    values = dict(zip((*AUDIT_FIELDS, *ATTENTION_FIELDS), columns, strict=True))
    progress_json = json.loads(progress_body) if progress_body is not None else None
    return {
        "rendering": json.loads(body) if body is not None else None,
        "progress": _without_time(progress_json) if status in STORED_PROGRESS else None,
        "audit": {name: _plain(values[name]) for name in AUDIT_FIELDS},
        "attention": {name: _plain(values[name]) for name in ATTENTION_FIELDS},
    }


def fresh(session: Session, plan_id: uuid.UUID) -> dict[str, Any]:
    """The same parts, computed now from the records."""
    _forget(session)
    actor = admin_of(session, plan_id)
    status = _status(session, plan_id)
    rendering = json.loads(reading.read(session, actor, plan_id).model_dump_json())
    evaluation = None
    if status in STORED_PROGRESS:
        evaluation = json.loads(progress.get(session, actor, plan_id).model_dump_json())
    findings = accountability_service.audit(session, actor, plan_id)
    audit = {
        "attention_codes": list(dict.fromkeys(f.code for f in findings.findings)),
        "reassessment_due": findings.reassessment_due,
    }
    _forget(session)
    attention = fresh_attention(session, plan_id)
    return {
        "rendering": rendering,
        "progress": _without_time(evaluation),
        "audit": audit,
        "attention": {name: _plain(attention[name]) for name in ATTENTION_FIELDS},
    }


def fresh_attention(session: Session, plan_id: uuid.UUID) -> dict[str, Any]:
    """What the plan should store for the worklist (and its audit outcome), computed as
    `refresh_attention` computes it, from the same public functions."""
    actor = admin_of(session, plan_id)
    now = datetime.now(UTC)
    gathered = audit_facts.gather(session, actor, plan_id, now=now)
    findings = plan_audit.audit(gathered.facts, accountability_service.thresholds(session, actor))
    values = accountability_service.attention(findings, gathered.progress)
    due_on = _stage_due_on(gathered.facts)
    values |= compute.stored_rank(values["attention_rank"], due_on, now.date())
    return values | {"stage_due_on": due_on, "program_signature": gathered.program_signature}


def _stage_due_on(facts: plan_audit.PlanFacts) -> date | None:
    started, weeks = facts.current_stage_started_on, facts.current_stage_expected_weeks
    if started is None or weeks is None:
        return None
    return stage_schedule(started, weeks, facts.today).due_on


def _text(value: Any) -> list[str]:
    return json.dumps(value, indent=1, sort_keys=True, default=str).splitlines()


def differences(session: Session, plan_id: uuid.UUID) -> dict[str, str]:
    """Each part whose stored state is not the fresh one, with a diff (stored, then fresh)."""
    was, now = stored(session, plan_id), fresh(session, plan_id)
    return {
        part: "\n".join(
            difflib.unified_diff(
                _text(was[part]), _text(now[part]), "stored", "fresh", lineterm="", n=2
            )
        )
        for part in PARTS
        if was[part] != now[part]
    }


def describe(plan: object, stale: dict[str, str]) -> str:
    """`differences` as a message: which parts of the plan are stale, and how."""
    parts = "\n".join(f"--- {part} ---\n{diff}" for part, diff in stale.items())
    return f"plan {plan}: stored {', '.join(stale)} not current\n{parts}"


def assert_current(session: Session, plan_id: uuid.UUID) -> None:
    """The plan's stored rendering, progress, audit outcome and worklist entry are exactly
    what a fresh evaluation of the database gives."""
    stale = differences(session, plan_id)
    if stale:
        raise AssertionError(describe(plan_id, stale))
