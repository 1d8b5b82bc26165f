"""login failures: counts of failed logins per account and per client address

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 01:40:00

A new table only, referenced by nothing: no batch rebuild of an existing table on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.orm

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column(
            "key_kind",
            sa.Enum("account", "address", name="loginkeykind", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("window_start", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("locked_until", app.core.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
        sa.UniqueConstraint("key_kind", "key", name=op.f("uq_login_failures_key_kind_key")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_window_start", ["window_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_window_start")
    op.drop_table("login_failures")
