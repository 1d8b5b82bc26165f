"""clinic audit thresholds

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 03:06:11.857389
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, no batch rebuild: SQLite cannot rebuild `clinics` while every other
    # table's foreign key points at it.
    op.add_column(
        "clinics", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.add_column(
        "clinics",
        sa.Column("audit_thresholds", JSON_TYPE, server_default=sa.text("'{}'"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("clinics", "audit_thresholds")
    op.drop_column("clinics", "version")
