"""projection inputs: the clinic-wide inputs' version on the clinic, and on each plan the version
its stored projection (attention, worklist entry, renderings) was computed with

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:00:00

Plain ALTER TABLE and CREATE INDEX (see 0011 for why no batch rebuild). Existing plans and
clinics both start at 0, so what is stored stays current until a clinic-wide input changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "clinics",
        sa.Column("inputs_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "plans",
        sa.Column(
            "projected_inputs_version", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
    )
    op.create_index(
        "ix_plans_clinic_id_projected_inputs_version",
        "plans",
        ["clinic_id", "projected_inputs_version"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_plans_clinic_id_projected_inputs_version", table_name="plans")
    op.drop_column("plans", "projected_inputs_version")
    op.drop_column("clinics", "inputs_version")
