"""criteria: an index for loading a stage's criteria

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 04:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_criteria_stage_id", "criteria", ["stage_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_criteria_stage_id", table_name="criteria")
