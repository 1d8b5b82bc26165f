"""program signature: each plan's active program as a stored, indexed digest; and the worklist's
indexes: a clinician's plans in worklist order, and the plans that ran past their stage's weeks
since their audit (pending_overdue_on)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 04:40:00

Plain ALTER TABLE and CREATE INDEX, no batch rebuild: SQLite cannot rebuild `plans` while other
tables' foreign keys point at it (see 0006 and 0008). Existing plans get a NULL signature, "not
computed yet": their next write, or `rehab housekeeping`'s daily re-audit, stores it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LATER_RANKS = (4, 9)  # AttentionRank.findings, AttentionRank.none: those after overdue (3)


def upgrade() -> None:
    op.add_column("plans", sa.Column("program_signature", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_plans_clinic_id_program_signature",
        "plans",
        ["clinic_id", "program_signature", "status"],
        unique=False,
    )
    op.create_index(
        "ix_plans_clinic_id_status_clinician_id_attention_rank",
        "plans",
        ["clinic_id", "status", "clinician_id", "attention_rank", "id"],
        unique=False,
    )
    op.add_column("plans", sa.Column("pending_overdue_on", sa.Date(), nullable=True))
    # What refresh_attention stores: the due day of the plans whose stored rank comes after
    # overdue (findings, none); the worklist lists them as overdue once it has passed.
    plans = sa.table(
        "plans",
        sa.column("attention_rank", sa.Integer()),
        sa.column("stage_due_on", sa.Date()),
        sa.column("pending_overdue_on", sa.Date()),
    )
    op.execute(
        plans.update()
        .where(plans.c.attention_rank.in_(LATER_RANKS))
        .values(pending_overdue_on=plans.c.stage_due_on)
    )
    op.create_index(
        "ix_plans_clinic_id_status_pending_overdue_on",
        "plans",
        ["clinic_id", "status", "pending_overdue_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_plans_clinic_id_status_pending_overdue_on", table_name="plans")
    op.drop_column("plans", "pending_overdue_on")
    op.drop_index("ix_plans_clinic_id_status_clinician_id_attention_rank", table_name="plans")
    op.drop_index("ix_plans_clinic_id_program_signature", table_name="plans")
    op.drop_column("plans", "program_signature")
