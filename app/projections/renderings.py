"""The plan's two renderings (its response and its progress), stored by the projection step so
that a read is one indexed lookup (app.plans.documents)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.plans import reading
from app.plans.models import Plan, PlanDocument
from app.plans.progress_schemas import PlanProgress


def store(session: Session, plan: Plan, progress: PlanProgress) -> None:
    """Renders the plan (loaded with its tree) and stores it with its progress: three
    statements (the plan's targeted drivers, its overrides, the upsert)."""
    values: dict[str, Any] = {
        "plan_id": plan.id,
        "clinic_id": plan.clinic_id,
        "plan_version": plan.version,
        "reassessment_due": plan.reassessment_due,
        "body": reading.plan_read(session, plan).model_dump_json().encode(),
        "progress_body": progress.model_dump_json().encode(),
        "progress_on": progress.evaluated_at.astimezone(UTC).date(),
    }
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PlanDocument)
    statement = insert.values(**values, revision=1)
    changes = {key: statement.excluded[key] for key in values if key != "plan_id"}
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[PlanDocument.plan_id],
            set_={**changes, "revision": PlanDocument.revision + 1},
        )
    )
