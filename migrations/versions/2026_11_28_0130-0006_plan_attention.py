"""plan attention: the audit's outcome stored on the plan, and reassessments linked to plans

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 01:30:00

Columns are only added and dropped, never rebuilt: on SQLite a batch "move and copy" of
`plans` or `assessments` fails once other rows reference them (foreign keys are on), so the
new NOT NULL columns carry server defaults (SQLite's ADD COLUMN needs one; they also fill the
plans that predate the audit) and the assessment's foreign key is declared with its column.
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.orm

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_ATTENTION = "9"  # AttentionRank.none
PLAN_COLUMNS = (
    "attention_codes",
    "reassessment_due",
    "ready_to_advance",
    "ready_to_discharge",
    "attention_rank",
    "audited_at",
    "stage_due_on",
)


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _flag(name: str, false: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), server_default=false, nullable=False)


def upgrade() -> None:
    false = "0" if _is_sqlite() else "false"
    codes = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attention_codes", codes, server_default="[]", nullable=False)
        )
        batch_op.add_column(_flag("reassessment_due", false))
        batch_op.add_column(_flag("ready_to_advance", false))
        batch_op.add_column(_flag("ready_to_discharge", false))
        batch_op.add_column(
            sa.Column("attention_rank", sa.Integer(), server_default=NO_ATTENTION, nullable=False)
        )
        batch_op.add_column(
            sa.Column("audited_at", app.core.orm.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("stage_due_on", sa.Date(), nullable=True))
        batch_op.create_index(
            "ix_plans_clinic_id_status_attention_rank",
            ["clinic_id", "status", "attention_rank", "id"],
            unique=False,
        )
    _backfill_stage_due_on()
    _add_assessment_plan_id()
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessments_clinic_id_plan_id", ["clinic_id", "plan_id"], unique=False
        )


def _add_assessment_plan_id() -> None:
    if _is_sqlite():
        # A column-level REFERENCES: added without rebuilding the table, and dropped the same way.
        op.execute(
            "ALTER TABLE assessments ADD COLUMN plan_id CHAR(32) "
            "CONSTRAINT fk_assessments_plan_id_plans REFERENCES plans (id)"
        )
        return
    op.add_column("assessments", sa.Column("plan_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_assessments_plan_id_plans"), "assessments", "plans", ["plan_id"], ["id"]
    )


def _backfill_stage_due_on() -> None:
    """Plans already under way: their current stage's start plus its expected weeks."""
    plans = sa.table(
        "plans",
        sa.column("id", sa.Uuid()),
        sa.column("current_stage_id", sa.Uuid()),
        sa.column("stage_due_on", sa.Date()),
    )
    stages = sa.table(
        "stages",
        sa.column("id", sa.Uuid()),
        sa.column("started_on", sa.Date()),
        sa.column("expected_weeks", sa.Integer()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(plans.c.id, stages.c.started_on, stages.c.expected_weeks)
        .join(stages, stages.c.id == plans.c.current_stage_id)
        .where(stages.c.started_on.is_not(None))
    ).all()
    for row in rows:
        due = row.started_on + timedelta(weeks=row.expected_weeks)
        connection.execute(sa.update(plans).where(plans.c.id == row.id).values(stage_due_on=due))


def downgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_clinic_id_plan_id")
    if not _is_sqlite():
        op.drop_constraint(op.f("fk_assessments_plan_id_plans"), "assessments", type_="foreignkey")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): no rebuild of a referenced table.
    op.drop_column("assessments", "plan_id")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index("ix_plans_clinic_id_status_attention_rank")
    for column in reversed(PLAN_COLUMNS):
        op.drop_column("plans", column)
