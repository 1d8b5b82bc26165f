"""measures observations plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:02:35.676493
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.orm

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measures",
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "pain",
                "patient_reported_function",
                "performance",
                "range_of_motion",
                "strength",
                name="measurecategory",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column(
            "better",
            sa.Enum("higher", "lower", name="better", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("mcid", sa.Float(), nullable=True),
        sa.Column("loinc", sa.String(length=20), nullable=True),
        sa.Column("bilateral", sa.Boolean(), nullable=False),
        sa.Column("patient_reportable", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value < max_value",
            name=op.f("ck_measures_range_order"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_measures_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
    )
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.create_index("ix_measures_clinic_id_code", ["clinic_id", "code"], unique=True)

    op.create_table(
        "observations",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("recorded_value", sa.Float(), nullable=False),
        sa.Column("recorded_unit", sa.String(length=30), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "left", "right", "bilateral", "none", name="side", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("observed_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.Enum("clinician", "patient", name="observationsource", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("assessment_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by_type", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_in_error_at", app.core.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("entered_in_error_reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_observations_assessment_id_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_observations_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"], ["measures.id"], name=op.f("fk_observations_measure_id_measures")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_observations_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_observations_clinic_id_patient_id_created_at",
            ["clinic_id", "patient_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_observations_clinic_id_patient_id_measure_id",
            ["clinic_id", "patient_id", "measure_id", "observed_at"],
            unique=False,
        )

    op.create_table(
        "plans",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "on_hold",
                "discharged",
                "cancelled",
                name="planstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("current_stage_id", sa.Uuid(), nullable=True),
        sa.Column("expected_sessions_min", sa.Integer(), nullable=True),
        sa.Column("expected_sessions_max", sa.Integer(), nullable=True),
        sa.Column("expected_end_on", sa.Date(), nullable=True),
        sa.Column("timeline_suggested", sa.Boolean(), nullable=False),
        sa.Column("timeline_basis", sa.String(length=300), nullable=True),
        sa.Column("activated_at", app.core.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", app.core.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("against_criteria", sa.Boolean(), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column(
            "discharge_override_category",
            sa.Enum(
                "patient_choice",
                "moved_away",
                "referred_on",
                "other",
                name="dischargeoverridecategory",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "expected_sessions_min IS NULL OR expected_sessions_max IS NULL OR expected_sessions_min <= expected_sessions_max",
            name=op.f("ck_plans_session_range_order"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_plans_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_plans_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["users.id"], name=op.f("fk_plans_clinician_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["current_stage_id"],
            ["stages.id"],
            name=op.f("fk_plans_current_stage_id_stages"),
            use_alter=True,
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_plans_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plans_clinic_id_created_at", ["clinic_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_plans_clinic_id_patient_id", ["clinic_id", "patient_id"], unique=False
        )
        batch_op.create_index(
            "ix_plans_clinic_id_status", ["clinic_id", "status", "clinician_id"], unique=False
        )

    op.create_table(
        "plan_drivers",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("driver_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_plan_drivers_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_plan_drivers_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_drivers_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "driver_id", name=op.f("pk_plan_drivers")),
    )
    op.create_table(
        "plan_events",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_plan_events_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_events_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_events")),
    )
    with op.batch_alter_table("plan_events", schema=None) as batch_op:
        batch_op.create_index("ix_plan_events_plan_id", ["plan_id", "at"], unique=False)

    op.create_table(
        "stages",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("expected_weeks", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("completed_at", app.core.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("driver_ids", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("expected_weeks > 0", name=op.f("ck_stages_expected_weeks_positive")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_stages_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_stages_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stages")),
    )
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.create_index("ix_stages_plan_id", ["plan_id", "position"], unique=False)

    op.create_table(
        "criteria",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("progression", "discharge", name="criterionkind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column(
            "comparator",
            sa.Enum("gte", "lte", "gt", "lt", name="comparator", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(
                "absolute",
                "limb_symmetry",
                "change_from_baseline",
                name="mode",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "change_unit",
            sa.Enum("points", "percent", name="changeunit", native_enum=False, length=30),
            nullable=True,
        ),
        sa.Column(
            "side",
            sa.Enum(
                "left", "right", "bilateral", "none", name="side", native_enum=False, length=30
            ),
            nullable=True,
        ),
        sa.Column(
            "involved_side",
            sa.Enum(
                "left", "right", "bilateral", "none", name="side", native_enum=False, length=30
            ),
            nullable=True,
        ),
        sa.Column("sustained_count", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'progression') = (stage_id IS NOT NULL)",
            name=op.f("ck_criteria_stage_matches_kind"),
        ),
        sa.CheckConstraint(
            "sustained_count >= 1", name=op.f("ck_criteria_sustained_count_positive")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_criteria_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"], ["measures.id"], name=op.f("fk_criteria_measure_id_measures")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_criteria_plan_id_plans")),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["stages.id"], name=op.f("fk_criteria_stage_id_stages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria")),
    )
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.create_index(
            "ix_criteria_plan_id", ["plan_id", "stage_id", "position"], unique=False
        )

    if op.get_bind().dialect.name != "sqlite":
        # plans <-> stages is a cycle: PostgreSQL gets this key once both tables exist
        # (SQLite created it inline with the table).
        op.create_foreign_key(
            op.f("fk_plans_current_stage_id_stages"),
            "plans",
            "stages",
            ["current_stage_id"],
            ["id"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_plans_current_stage_id_stages"), "plans", type_="foreignkey")
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.drop_index("ix_criteria_plan_id")

    op.drop_table("criteria")
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.drop_index("ix_stages_plan_id")

    op.drop_table("stages")
    with op.batch_alter_table("plan_events", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_events_plan_id")

    op.drop_table("plan_events")
    op.drop_table("plan_drivers")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index("ix_plans_clinic_id_status")
        batch_op.drop_index("ix_plans_clinic_id_patient_id")
        batch_op.drop_index("ix_plans_clinic_id_created_at")

    op.drop_table("plans")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_clinic_id_patient_id_measure_id")
        batch_op.drop_index("ix_observations_clinic_id_patient_id_created_at")

    op.drop_table("observations")
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_index("ix_measures_clinic_id_code")

    op.drop_table("measures")
