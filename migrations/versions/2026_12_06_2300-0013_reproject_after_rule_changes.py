"""re-project every plan: the criteria rules changed (a value, baseline, limb symmetry index or
change that is not a finite number now makes its criterion no_data), so every stored evaluation
is stale

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:00:00

A release that changes what a rule computes ships a migration like this one: moving every
clinic's inputs_version on makes every stored projection stale at once (reads render afresh,
the worklist and `rehab housekeeping` project them again). Downgrading moves it on as well:
marking projections stale is always safe, and the older rules must not trust the newer ones'.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

clinics = sa.table("clinics", sa.column("inputs_version", sa.Integer()))


def upgrade() -> None:
    op.execute(clinics.update().values(inputs_version=clinics.c.inputs_version + 1))


def downgrade() -> None:
    op.execute(clinics.update().values(inputs_version=clinics.c.inputs_version + 1))
