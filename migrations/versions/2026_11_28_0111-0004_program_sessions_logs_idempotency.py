"""program sessions logs idempotency

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 01:11:26.612668
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.orm

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exercises",
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("body_region", sa.String(length=50), nullable=False),
        sa.Column(
            "body",
            sa.Enum("lower_body", "upper_body", name="body", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "strength",
                "mobility",
                "plyometric",
                "balance",
                "conditioning",
                "motor_control",
                name="exercisecategory",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "dosing",
            sa.Enum("reps", "time", "distance", name="dosing", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("equipment", sa.String(length=100), nullable=False),
        sa.Column("media_urls", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_exercises_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercises")),
    )
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.create_index("ix_exercises_clinic_id_name", ["clinic_id", "name"], unique=True)

    op.create_table(
        "idempotency_keys",
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_idempotency_keys_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "clinic_id", "actor_id", "key", name=op.f("uq_idempotency_keys_clinic_id_actor_id_key")
        ),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "treatment_sessions",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("occurred_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pain_before", sa.Integer(), nullable=True),
        sa.Column("pain_after", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "pain_after BETWEEN 0 AND 10", name=op.f("ck_treatment_sessions_pain_after_range")
        ),
        sa.CheckConstraint(
            "pain_before BETWEEN 0 AND 10", name=op.f("ck_treatment_sessions_pain_before_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_treatment_sessions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["users.id"], name=op.f("fk_treatment_sessions_clinician_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_treatment_sessions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_treatment_sessions_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_sessions")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_treatment_sessions_plan_id_number")),
    )
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_treatment_sessions_clinic_id_patient_id",
            ["clinic_id", "patient_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_treatment_sessions_clinic_id_plan_id",
            ["clinic_id", "plan_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "prescriptions",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("exercise_id", sa.Uuid(), nullable=False),
        sa.Column("driver_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "stopped", name="prescriptionstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("stopped_at", app.core.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_prescriptions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_prescriptions_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(
            ["exercise_id"], ["exercises.id"], name=op.f("fk_prescriptions_exercise_id_exercises")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescriptions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_prescriptions_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["stages.id"], name=op.f("fk_prescriptions_stage_id_stages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
    )
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_prescriptions_clinic_id_patient_id",
            ["clinic_id", "patient_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_prescriptions_clinic_id_plan_id", ["clinic_id", "plan_id", "stage_id"], unique=False
        )

    op.create_table(
        "session_adjuncts",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "manual_therapy",
                "soft_tissue",
                "joint_mobilisation",
                "manipulation",
                "dry_needling",
                "ultrasound",
                "heat",
                "ice",
                "taping",
                "electrotherapy",
                "other",
                name="adjunctkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_session_adjuncts_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_session_adjuncts_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_adjuncts")),
    )
    with op.batch_alter_table("session_adjuncts", schema=None) as batch_op:
        batch_op.create_index("ix_session_adjuncts_session_id", ["session_id"], unique=False)

    op.create_table(
        "exercise_logs",
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("home", "clinic", name="logsource", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("sets", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("pain_before", sa.Integer(), nullable=True),
        sa.Column("pain_during", sa.Integer(), nullable=True),
        sa.Column("pain_next_morning", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_type", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "pain_during BETWEEN 0 AND 10", name=op.f("ck_exercise_logs_pain_during_range")
        ),
        sa.CheckConstraint(
            "pain_next_morning BETWEEN 0 AND 10",
            name=op.f("ck_exercise_logs_pain_next_morning_range"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_exercise_logs_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_exercise_logs_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_exercise_logs_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_exercise_logs_prescription_id_prescriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_exercise_logs_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_logs")),
    )
    with op.batch_alter_table("exercise_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exercise_logs_clinic_id_plan_id",
            ["clinic_id", "plan_id", "performed_on"],
            unique=False,
        )
        batch_op.create_index(
            "ix_exercise_logs_clinic_id_prescription_id",
            ["clinic_id", "prescription_id", "performed_on"],
            unique=False,
        )

    op.create_table(
        "prescription_versions",
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("created_at", app.core.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_type", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("sets", sa.Integer(), nullable=False),
        sa.Column("reps", sa.Integer(), nullable=True),
        sa.Column("reps_min", sa.Integer(), nullable=True),
        sa.Column("reps_max", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column(
            "load_unit",
            sa.Enum(
                "kg",
                "lb",
                "percent_body_weight",
                "bodyweight",
                "band",
                name="loadunit",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("load_value", sa.Float(), nullable=True),
        sa.Column("band", sa.String(length=30), nullable=True),
        sa.Column("tempo", sa.JSON(), nullable=True),
        sa.Column("rest_s", sa.Integer(), nullable=True),
        sa.Column("sessions_per_week", sa.Integer(), nullable=False),
        sa.Column("target_rpe", sa.Float(), nullable=True),
        sa.Column("target_rir", sa.Integer(), nullable=True),
        sa.Column(
            "side",
            sa.Enum(
                "left", "right", "bilateral", "none", name="side", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "sessions_per_week BETWEEN 1 AND 14",
            name=op.f("ck_prescription_versions_sessions_per_week_range"),
        ),
        sa.CheckConstraint(
            "sets BETWEEN 1 AND 20", name=op.f("ck_prescription_versions_sets_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_prescription_versions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_prescription_versions_prescription_id_prescriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_versions")),
        sa.UniqueConstraint(
            "prescription_id",
            "number",
            name=op.f("uq_prescription_versions_prescription_id_number"),
        ),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_observations_session_id_treatment_sessions"),
            "treatment_sessions",
            ["session_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_observations_session_id_treatment_sessions"), type_="foreignkey"
        )
        batch_op.drop_column("session_id")

    op.drop_table("prescription_versions")
    with op.batch_alter_table("exercise_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_exercise_logs_clinic_id_prescription_id")
        batch_op.drop_index("ix_exercise_logs_clinic_id_plan_id")

    op.drop_table("exercise_logs")
    with op.batch_alter_table("session_adjuncts", schema=None) as batch_op:
        batch_op.drop_index("ix_session_adjuncts_session_id")

    op.drop_table("session_adjuncts")
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_prescriptions_clinic_id_plan_id")
        batch_op.drop_index("ix_prescriptions_clinic_id_patient_id")

    op.drop_table("prescriptions")
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_treatment_sessions_clinic_id_plan_id")
        batch_op.drop_index("ix_treatment_sessions_clinic_id_patient_id")

    op.drop_table("treatment_sessions")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_expires_at")

    op.drop_table("idempotency_keys")
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.drop_index("ix_exercises_clinic_id_name")

    op.drop_table("exercises")
