"""A realistic data set for bench/run.py, made through the app's own code.

    python -m bench.seed --db sqlite|postgres --scale 1000

Two clinics (90 % of the patients in the one the benchmark reads, 10 % in another so that
every clinic filter has rows to exclude), one clinician per 50 patients, and per patient: a
login, a finalised initial assessment (7 findings, 3 goals, 2 drivers), an active plan of
3 stages x 4 criteria with 4 discharge criteria and 4 prescriptions per stage, 10 observations
and 2 home logs. That is about 75 rows a patient: 100,000 patients make 1,000,000
observations and 200,000 home logs.

How, so that 100,000 patients take minutes, not hours:

1. Three *template* patients, one per archetype (on track, ready to advance, stalled past its
   stage's weeks), are made entirely by the app's services, as the API would make them:
   `clinics.service`, `patients.service`, the demo's initial assessment, `plans.service.create`,
   `prescriptions.service.create`, `plans.lifecycle.activate`, `observations.service
   .create_many` and `prescriptions.logs.create` (which also store the derived state: the plan's
   attention, its stage due date, audit events).
2. Every other patient is a copy of one template's rows, read back with Core and written with
   Core bulk inserts in transactions of `--batch` patients: every id is new, every reference
   is remapped (JSON ones too), the clinician and clinic are the patient's own, and one
   prescription's dose differs per patient so that no two programs are copies of each other
   (the plan audit flags copied programs). Audit events are not copied.
3. The derived state the app computes on write is projected by the projection step
   (`app.projections.step.project`), in transactions of `--batch` plans: for every
   active plan up to `--refresh-all-up-to` plans, beyond that for a random sample whose stored
   attention must come out unchanged (the copies carry their template's, computed by the app).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    LargeBinary,
    Table,
    Uuid,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session, selectinload

import app.models  # noqa: F401  (every table mapped)
from app import demo
from app.assessments.models import Assessment, Driver, DriverFinding, Finding, FunctionalGoal
from app.auth.security import hash_password
from app.clinics import service as clinics_service
from app.clinics.schemas import ClinicCreate
from app.core import migrations
from app.core.auth import Actor
from app.core.db import WRITE_OPTION, create_db_engine
from app.core.orm import Base
from app.core.types import Role, Side
from app.exercises.models import Exercise
from app.observations import service as observations_service
from app.observations.models import Observation
from app.observations.schemas import ObservationCreate
from app.patients import service as patients_service
from app.patients.models import Patient, Sex
from app.patients.schemas import PatientCreate
from app.plans import lifecycle, queries
from app.plans import service as plans_service
from app.plans.models import (
    Criterion,
    Plan,
    PlanDocument,
    PlanDriver,
    PlanEvent,
    PlanStatus,
    Stage,
)
from app.plans.schemas import CriterionCreate, PlanCreate, StageCreate, Timeline
from app.prescriptions import logs as logs_service
from app.prescriptions import service as prescriptions_service
from app.prescriptions.logs_schemas import LogCreate, SetDone
from app.prescriptions.models import ExerciseLog, Prescription, PrescriptionVersion
from app.prescriptions.schemas import PrescriptionCreate
from app.projections import step
from app.rules.criteria import Comparator, Mode
from app.rules.progression import Dosing, LoadUnit
from app.users.models import User
from app.users.schemas import UserCreate

PATIENTS_PER_CLINICIAN = 50
OTHER_CLINIC_SHARE = 0.10
PASSWORD = "bench-password-not-for-production"
EMAIL_DOMAIN = "bench.example.org"


# The plan every patient has: what a knee rehabilitation looks like in this app.


def _absolute(code: str, comparator: Comparator, target: float, text: str) -> CriterionCreate:
    return CriterionCreate(measure_code=code, comparator=comparator, target=target, statement=text)


def _lsi(code: str, target: float, text: str) -> CriterionCreate:
    return CriterionCreate(
        measure_code=code,
        comparator=Comparator.gte,
        target=target,
        mode=Mode.limb_symmetry,
        involved_side=Side.right,
        statement=text,
    )


def _stages() -> list[StageCreate]:
    gte, lte = Comparator.gte, Comparator.lte
    return [
        StageCreate(
            name="Settle and load",
            goal="Load the knee daily without flare-ups; pain settles by next morning.",
            expected_weeks=3,
            criteria=[
                _absolute("pain_nrs", lte, 3, "Pain at most 3/10 during loading"),
                _absolute("psfs", gte, 5, "Nominated activities rated at least 5/10"),
                _lsi("single_leg_squat_reps", 70, "Right single-leg squats at least 70 % of left"),
                _lsi("quadriceps_strength_kg", 75, "Right knee extension at least 75 % of left"),
            ],
        ),
        StageCreate(
            name="Build capacity",
            goal="Close the right quadriceps strength gap.",
            expected_weeks=6,
            criteria=[
                _lsi("quadriceps_strength_kg", 85, "Right knee extension at least 85 % of left"),
                _lsi("single_leg_squat_reps", 90, "Right single-leg squats at least 90 % of left"),
                _absolute("pain_nrs", lte, 2, "Pain at most 2/10 on stairs"),
                _absolute("psfs", gte, 6.5, "Nominated activities rated at least 6.5/10"),
            ],
        ),
        StageCreate(
            name="Return to running",
            goal="Build running volume back to 10 km.",
            expected_weeks=6,
            criteria=[
                _lsi("single_leg_hop", 90, "Single-leg hop on the right at least 90 % of left"),
                _absolute("psfs", gte, 8, "Running and stairs rated at least 8/10"),
                _absolute("pain_nrs", lte, 2, "Pain at most 2/10 when running"),
                _lsi("quadriceps_strength_kg", 90, "Right knee extension at least 90 % of left"),
            ],
        ),
    ]


def _discharge() -> list[CriterionCreate]:
    return [
        _lsi("single_leg_hop", 90, "Three single-leg hops on the right, LSI at least 90 %"),
        _lsi("quadriceps_strength_kg", 90, "Knee extension strength, LSI at least 90 %"),
        _absolute("psfs", Comparator.gte, 8, "Running 10 km and stairs rated at least 8/10"),
        _absolute("pain_nrs", Comparator.lte, 2, "Pain at most 2/10 when running"),
    ]


@dataclass(frozen=True)
class Archetype:
    """A patient's course so far: how long ago the plan began, and the latest measurements."""

    name: str
    weeks_active: int
    latest: dict[tuple[str, Side], float]


BASELINE: dict[tuple[str, Side], float] = {
    ("pain_nrs", Side.none): 5,
    ("psfs", Side.none): 4,
    ("single_leg_squat_reps", Side.left): 15,
    ("single_leg_squat_reps", Side.right): 8,
    ("quadriceps_strength_kg", Side.left): 32,
    ("quadriceps_strength_kg", Side.right): 24,
}
LATEST_KEYS = [
    ("pain_nrs", Side.none),
    ("psfs", Side.none),
    ("single_leg_squat_reps", Side.right),
    ("quadriceps_strength_kg", Side.right),
]
ARCHETYPES = (
    # Two weeks in, improving, the first stage not yet met: no attention needed.
    Archetype("on_track", 2, dict(zip(LATEST_KEYS, (4, 5, 10, 25), strict=True))),
    # Three weeks in, every criterion of the first stage met: ready to advance.
    Archetype("ready", 3, dict(zip(LATEST_KEYS, (2, 6, 12, 26), strict=True))),
    # Six weeks into a three-week stage, no better than at baseline: overdue, not progressing.
    Archetype("stalled", 6, dict(zip(LATEST_KEYS, (5, 4, 8, 24), strict=True))),
)


@dataclass
class Seeded:
    """What bench/run.py needs to know about the data set."""

    url: str
    scale: int
    clinic_id: uuid.UUID
    other_clinic_id: uuid.UUID
    clinician_id: uuid.UUID  # the benchmarked clinician: template patients are theirs
    admin_id: uuid.UUID
    patient_id: uuid.UUID  # the benchmarked patient and plan (archetype "on_track")
    plan_id: uuid.UUID
    log_targets: list[tuple[uuid.UUID, uuid.UUID]]  # (prescription id, patient user id)
    observation_patients: list[uuid.UUID]  # other patients of the main clinic
    rows: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    refreshed: int = 0
    refresh_mode: str = ""


# 1. Templates, through the services.


@dataclass(frozen=True)
class Template:
    archetype: Archetype
    patient_id: uuid.UUID
    plan_id: uuid.UUID


def _knee_exercises(session: Session) -> list[uuid.UUID]:
    """Twelve shipped reps-dosed lower-body exercises: four for each stage."""
    found = session.scalars(
        select(Exercise.id)
        .where(Exercise.clinic_id.is_(None), Exercise.dosing == Dosing.reps)
        .where(Exercise.body_region.in_(["knee", "hip", "ankle_foot"]))
        .order_by(Exercise.name)
        .limit(12)
    ).all()
    if len(found) < 12:
        raise RuntimeError(f"the shipped library has {len(found)} reps-dosed exercises, not 12")
    return list(found)


def _make_template(
    session: Session,
    clinician: Actor,
    archetype: Archetype,
    number: int,
    password_hash: str,
    exercises: list[uuid.UUID],
    now: datetime,
) -> Template:
    start = now - timedelta(weeks=archetype.weeks_active)
    patient = patients_service.create(
        session,
        clinician,
        PatientCreate(
            display_name=f"Patient {number:06d}",
            date_of_birth=date(1985, 1, 1) + timedelta(days=number % 9000),
            sex=Sex.female if number % 2 else Sex.male,
            external_id=f"MRN-{number:07d}",
            email=f"patient-{number}@{EMAIL_DOMAIN}",
        ),
    )
    user = clinics_service.add_user(
        session,
        clinician.clinic_id,
        UserCreate(
            email=f"patient-{number}@{EMAIL_DOMAIN}",
            password=PASSWORD,
            role=Role.patient,
            display_name=patient.display_name,
            patient_id=patient.id,
        ),
        password_hash,
    )
    assessment = demo._add_initial_assessment(
        session, clinician, patient.id, start - timedelta(days=1)
    )
    created = plans_service.create(
        session,
        clinician,
        PlanCreate(
            assessment_id=assessment.id,
            title="Right knee: patellofemoral pain, back to 10 km",
            timeline=Timeline(
                expected_sessions_min=12,
                expected_sessions_max=16,
                expected_end_on=(start + timedelta(weeks=15)).date(),
            ),
            stages=_stages(),
            discharge_criteria=_discharge(),
        ),
    )
    plan = queries.get_plan(session, clinician, created.id, tree=True)
    driver_id = plan.driver_ids[0]
    for stage_index, stage in enumerate(plan.stages):
        for slot in range(4):
            prescriptions_service.create(
                session,
                clinician,
                plan,
                stage,
                PrescriptionCreate(
                    exercise_id=exercises[stage_index * 4 + slot],
                    driver_id=driver_id,
                    effective_on=start.date(),
                    sets=3,
                    reps=10,
                    load_unit=LoadUnit.kg,
                    # a dose of the patient's own: no two programs are copies
                    load_value=20.0 + (number if stage_index == slot == 0 else 0),
                    sessions_per_week=3,
                ),
            )
    plan = queries.get_plan(session, clinician, created.id, tree=True)
    lifecycle.activate(session, clinician, plan.id, plan.version)
    plan = queries.get_plan(session, clinician, created.id, tree=True)
    plan.activated_at = start  # begun weeks ago, as the demo's plan is
    plan.stages[0].started_on = start.date()
    session.flush()
    _measure(session, clinician, patient, archetype, start, now)
    _log_at_home(session, user, patient, plan, now)
    return Template(archetype, patient.id, plan.id)


def _measure(
    session: Session,
    actor: Actor,
    patient: Patient,
    archetype: Archetype,
    start: datetime,
    now: datetime,
) -> None:
    """Ten observations: six at the start, four of the latest week."""
    items = [
        ObservationCreate(measure_code=code, side=side, value=value, observed_at=start)
        for (code, side), value in BASELINE.items()
    ]
    latest = now - timedelta(days=2)
    items += [
        ObservationCreate(measure_code=code, side=side, value=value, observed_at=latest)
        for (code, side), value in archetype.latest.items()
    ]
    observations_service.create_many(session, actor, patient, items)


def _log_at_home(session: Session, user: User, patient: Patient, plan: Plan, now: datetime):
    """Two home logs, posted by the patient, on the current stage's first two exercises."""
    actor = Actor(
        clinic_id=patient.clinic_id, role=Role.patient, user_id=user.id, patient_id=patient.id
    )
    current = session.scalars(
        select(Prescription)
        .where(Prescription.plan_id == plan.id, Prescription.stage_id == plan.current_stage_id)
        .order_by(Prescription.created_at, Prescription.id)
        .options(selectinload(Prescription.versions))
    ).all()
    for days_ago, prescription in zip((3, 1), current[:2], strict=True):
        logs_service.create(
            session,
            actor,
            prescription,
            LogCreate(
                performed_on=(now - timedelta(days=days_ago)).date(),
                sets=[SetDone(reps=10, load_value=20, rpe=6) for _ in range(3)],
                pain_before=2,
                pain_during=3,
                pain_next_morning=2,
            ),
        )


# 2. Copies, with Core.

COPIED = (
    Patient,
    User,
    Assessment,
    Finding,
    FunctionalGoal,
    Driver,
    DriverFinding,
    Plan,
    PlanDriver,
    Stage,
    Criterion,
    PlanEvent,
    Prescription,
    PrescriptionVersion,
    Observation,
    ExerciseLog,
    PlanDocument,
)
# Ids inside the stored renderings (plan_documents), remapped like every other id.
UUID_TEXT = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _tables() -> list[Table]:
    wanted = {model.__table__ for model in COPIED}
    return [t for t in Base.metadata.sorted_tables if t in wanted]  # parents first


def _template_rows(connection: Connection, template: Template) -> dict[str, list[dict[str, Any]]]:
    """The template patient's rows, table by table, as the app wrote them."""
    t = {model.__tablename__: model.__table__ for model in COPIED}
    rows: dict[str, list[dict[str, Any]]] = {}

    def read(name: str, where: Any) -> list[dict[str, Any]]:
        found = [dict(r) for r in connection.execute(select(t[name]).where(where)).mappings()]
        rows[name] = found
        return found

    read("patients", t["patients"].c.id == template.patient_id)
    read("users", t["users"].c.patient_id == template.patient_id)
    assessments = _ids_of(read("assessments", t["assessments"].c.patient_id == template.patient_id))
    read("findings", t["findings"].c.assessment_id.in_(assessments))
    read("functional_goals", t["functional_goals"].c.assessment_id.in_(assessments))
    drivers = _ids_of(read("drivers", t["drivers"].c.assessment_id.in_(assessments)))
    read("driver_findings", t["driver_findings"].c.driver_id.in_(drivers))
    read("plans", t["plans"].c.id == template.plan_id)
    for name in ("plan_drivers", "stages", "criteria", "plan_events", "prescriptions"):
        read(name, t[name].c.plan_id == template.plan_id)
    prescriptions = _ids_of(rows["prescriptions"])
    read("prescription_versions", t["prescription_versions"].c.prescription_id.in_(prescriptions))
    read("observations", t["observations"].c.patient_id == template.patient_id)
    read("exercise_logs", t["exercise_logs"].c.patient_id == template.patient_id)
    read("plan_documents", t["plan_documents"].c.plan_id == template.plan_id)
    return rows


def _ids_of(rows: list[dict[str, Any]]) -> list[uuid.UUID]:
    return [row["id"] for row in rows]


@dataclass(frozen=True)
class Layout:
    """Which columns of each copied table hold ids (to remap) or JSON (to remap inside)."""

    uuid_columns: dict[str, list[str]]
    json_columns: dict[str, list[str]]
    binary_columns: dict[str, list[str]]

    @classmethod
    def of(cls, tables: list[Table]) -> Layout:
        def named(kind: type[Any]) -> dict[str, list[str]]:
            return {t.name: [c.name for c in t.columns if isinstance(c.type, kind)] for t in tables}

        return cls(named(Uuid), named(JSON), named(LargeBinary))


def _remap_json(value: Any, strings: dict[str, str]) -> Any:
    if isinstance(value, str):
        return strings.get(value, value)
    if isinstance(value, list):
        return [_remap_json(v, strings) for v in value]
    if isinstance(value, dict):
        return {k: _remap_json(v, strings) for k, v in value.items()}
    return value


@dataclass
class Copier:
    """Makes the rows of patient number `n` from a template's rows."""

    layout: Layout
    template_rows: dict[str, list[dict[str, Any]]]
    template_clinic: uuid.UUID
    template_clinician: uuid.UUID
    own_ids: list[uuid.UUID] = field(init=False)

    def __post_init__(self) -> None:
        self.own_ids = [
            row["id"] for rows in self.template_rows.values() for row in rows if "id" in row
        ]

    def rows(
        self, n: int, clinic_id: uuid.UUID, clinician_id: uuid.UUID
    ) -> tuple[dict[str, list[dict[str, Any]]], tuple[uuid.UUID, uuid.UUID]]:
        mapping = {old: uuid.uuid4() for old in self.own_ids}
        mapping[self.template_clinic] = clinic_id
        mapping[self.template_clinician] = clinician_id
        strings = {str(old): str(new) for old, new in mapping.items()}
        encoded = {old.encode(): new.encode() for old, new in strings.items()}

        def remap_bytes(found: re.Match[bytes]) -> bytes:
            return encoded.get(found.group(0), found.group(0))

        out: dict[str, list[dict[str, Any]]] = {}
        for name, rows in self.template_rows.items():
            uuid_columns = self.layout.uuid_columns[name]
            json_columns = self.layout.json_columns[name]
            copied = []
            for row in rows:
                new = dict(row)
                for column in uuid_columns:
                    value = new[column]
                    if value is not None:
                        new[column] = mapping.get(value, value)
                for column in json_columns:
                    if new[column] is not None:
                        new[column] = _remap_json(new[column], strings)
                for column in self.layout.binary_columns[name]:
                    new[column] = UUID_TEXT.sub(remap_bytes, new[column])
                copied.append(new)
            out[name] = copied
        _individualise(out, n)
        plan = out["plans"][0]
        current = (plan["id"], plan["current_stage_id"])
        plan["current_stage_id"] = None  # set once the stages exist (the keys go both ways)
        return out, current


def _individualise(rows: dict[str, list[dict[str, Any]]], n: int) -> None:
    """What makes patient n someone: their name and numbers, and a dose of their own."""
    patient, user = rows["patients"][0], rows["users"][0]
    patient["display_name"] = user["display_name"] = f"Patient {n:06d}"
    patient["external_id"] = f"MRN-{n:07d}"
    patient["email"] = user["email"] = f"patient-{n}@{EMAIL_DOMAIN}"
    patient["date_of_birth"] = date(1950, 1, 1) + timedelta(days=(n * 7919) % 20000)
    version = rows["prescription_versions"][0]
    version["load_value"] = 10 + (n % 400) * 0.25
    version["rest_s"] = 30 + (n // 400) % 571
    # The template's stored program signature is no longer this program's: not computed yet,
    # as for a plan that predates it (its refresh computes it).
    rows["plans"][0]["program_signature"] = None


def _insert(connection: Connection, tables: list[Table], batch: dict[str, list[Any]]) -> None:
    for table in tables:
        rows = batch.get(table.name)
        if rows:
            connection.execute(table.insert(), rows)


def _set_current_stages(connection: Connection, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    plans = Plan.__table__
    statement = (
        update(plans)
        .where(plans.c.id == bindparam("plan_id"))
        .values(current_stage_id=bindparam("stage_id"))
    )
    connection.execute(statement, [{"plan_id": p, "stage_id": s} for p, s in pairs])


@dataclass(frozen=True)
class Assignment:
    number: int
    clinic_id: uuid.UUID
    clinician_id: uuid.UUID
    template: int


def _assignments(
    clinics: list[tuple[uuid.UUID, int, list[uuid.UUID]]],
    templates: int,
) -> Iterator[Assignment]:
    """Patients from number `templates` on: each clinic's share, PATIENTS_PER_CLINICIAN per
    clinician in turn, archetypes in rotation. The templates are the main clinic's first."""
    number = templates
    for index, (clinic_id, patients, clinicians) in enumerate(clinics):
        first = templates if index == 0 else 0
        for k in range(first, patients):
            clinician = clinicians[k // PATIENTS_PER_CLINICIAN]
            yield Assignment(number, clinic_id, clinician, number % templates)
            number += 1


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _settle(engine: Engine) -> None:
    """Leaves the database as a running one would be, not as a bulk load leaves it.

    PostgreSQL: VACUUM ANALYZE, what autovacuum soon does after bulk inserts (without it the
    planner plans for empty tables), then CHECKPOINT, so that writing the loaded pages back
    does not happen during the measurements. SQLite: the WAL folded into the database file;
    ANALYZE is not run, since the app never runs it there."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("VACUUM (ANALYZE)")
            connection.exec_driver_sql("CHECKPOINT")
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# 3. Derived state, through the app.


def _refresh(
    engine: Engine, clinic_ids: list[uuid.UUID], args: argparse.Namespace
) -> tuple[int, str]:
    """The projection step for every active plan, or (past --refresh-all-up-to plans) for a
    random sample, as many as --refresh-budget seconds allow, checked to come out unchanged."""
    with Session(engine) as session:
        plans = session.execute(
            select(Plan.id, Plan.clinic_id, Plan.clinician_id).where(
                Plan.clinic_id.in_(clinic_ids), Plan.status == PlanStatus.active
            )
        ).all()
    everything = len(plans) <= args.refresh_all_up_to
    if not everything:
        plans = random.Random(7).sample(plans, len(plans))
    columns = (Plan.attention_codes, Plan.attention_rank, Plan.stage_due_on)
    write = engine.execution_options(**{WRITE_OPTION: True})
    deadline = time.monotonic() + args.refresh_budget
    done = 0
    for chunk in _chunks(plans, args.batch):
        with Session(write) as session, session.begin():
            for plan in chunk:
                if not everything and done and time.monotonic() > deadline:
                    break
                before = session.execute(select(*columns).where(Plan.id == plan.id)).one()
                step.project(session, [(plan.clinic_id, plan.id)])
                after = session.execute(select(*columns).where(Plan.id == plan.id)).one()
                if not everything and tuple(before) != tuple(after):
                    raise RuntimeError(f"a copied plan changed on refresh: {before} -> {after}")
                done += 1
        if not everything and time.monotonic() > deadline:
            break
    if everything:
        return done, "all"
    return done, f"a random sample ({done} of {len(plans)}), each unchanged"


# The whole seed.


def seed(url: str, args: argparse.Namespace) -> Seeded:
    timings: dict[str, float] = {}
    began = time.perf_counter()
    migrations.upgrade(url)
    timings["migrate_s"] = time.perf_counter() - began
    engine = create_db_engine(url)
    try:
        return _seed(engine, url, args, timings)
    finally:
        engine.dispose()


def _seed(engine: Engine, url: str, args: argparse.Namespace, timings: dict[str, float]) -> Seeded:
    scale = args.scale
    if scale < len(ARCHETYPES) * 2:
        raise ValueError(f"--scale must be at least {len(ARCHETYPES) * 2}")
    now = datetime.now(UTC)
    began = time.perf_counter()
    password_hash = hash_password(PASSWORD)  # slow on purpose: once, outside the transaction
    other_patients = max(1, int(scale * OTHER_CLINIC_SHARE))
    main_patients = scale - other_patients
    write = engine.execution_options(**{WRITE_OPTION: True})
    with Session(write, expire_on_commit=False) as session, session.begin():
        clinics = []
        admins = []
        for name, patients in (("Main", main_patients), ("Other", other_patients)):
            clinic, admin = clinics_service.create(
                session,
                ClinicCreate(
                    name=f"{name} Physiotherapy",
                    admin_email=f"admin-{name.lower()}@{EMAIL_DOMAIN}",
                    admin_password=PASSWORD,
                ),
                password_hash,
            )
            count = math.ceil(patients / PATIENTS_PER_CLINICIAN)
            clinicians = [
                clinics_service.add_user(
                    session,
                    clinic.id,
                    UserCreate(
                        email=f"clinician-{name.lower()}-{i}@{EMAIL_DOMAIN}",
                        password=PASSWORD,
                        role=Role.clinician,
                        display_name=f"Clinician {name} {i}",
                    ),
                    password_hash,
                ).id
                for i in range(count)
            ]
            clinics.append((clinic.id, patients, clinicians))
            admins.append(admin.id)
        main_clinic, _, main_clinicians = clinics[0]
        clinician = Actor(clinic_id=main_clinic, role=Role.clinician, user_id=main_clinicians[0])
        exercises = _knee_exercises(session)
        templates = [
            _make_template(session, clinician, archetype, n, password_hash, exercises, now)
            for n, archetype in enumerate(ARCHETYPES)
        ]
    timings["templates_s"] = time.perf_counter() - began

    began = time.perf_counter()
    tables = _tables()
    layout = Layout.of(tables)
    with engine.connect() as connection:
        copiers = [
            Copier(layout, _template_rows(connection, t), main_clinic, main_clinicians[0])
            for t in templates
        ]
    for chunk in _chunks(_assignments(clinics, len(templates)), args.batch):
        batch: dict[str, list[Any]] = defaultdict(list)
        stages = []
        for a in chunk:
            rows, current = copiers[a.template].rows(a.number, a.clinic_id, a.clinician_id)
            for name, table_rows in rows.items():
                batch[name].extend(table_rows)
            stages.append(current)
        with write.begin() as connection:
            _insert(connection, tables, batch)
            _set_current_stages(connection, stages)
    timings["copies_s"] = time.perf_counter() - began

    began = time.perf_counter()
    _settle(engine)
    refreshed, mode = _refresh(engine, [c[0] for c in clinics], args)
    _settle(engine)
    timings["refresh_and_settle_s"] = time.perf_counter() - began
    seeded = Seeded(
        url=url,
        scale=scale,
        clinic_id=main_clinic,
        other_clinic_id=clinics[1][0],
        clinician_id=main_clinicians[0],
        admin_id=admins[0],
        patient_id=templates[0].patient_id,
        plan_id=templates[0].plan_id,
        log_targets=[],
        observation_patients=[],
        timings=timings,
        refreshed=refreshed,
        refresh_mode=mode,
    )
    _targets(engine, seeded, args.targets)
    seeded.rows = _counts(engine)
    return seeded


def _targets(engine: Engine, seeded: Seeded, limit: int) -> None:
    """Whom the write benchmarks post for: patients of the main clinic other than the
    benchmarked one (whose plan response must not change), one current prescription each."""
    with Session(engine) as session:
        rows = session.execute(
            select(Prescription.id, User.id.label("user_id"), Prescription.patient_id)
            .join(Plan, Plan.id == Prescription.plan_id)
            .join(User, User.patient_id == Prescription.patient_id)
            .where(
                Plan.clinic_id == seeded.clinic_id,
                Plan.status == PlanStatus.active,
                Prescription.stage_id == Plan.current_stage_id,
                Prescription.patient_id != seeded.patient_id,
            )
            .order_by(Prescription.patient_id, Prescription.id)
        ).all()
    chosen: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
    for row in rows:
        chosen.setdefault(row.patient_id, (row.id, row.user_id))
        if len(chosen) >= limit:
            break
    seeded.log_targets = list(chosen.values())
    seeded.observation_patients = list(chosen)


def _counts(engine: Engine) -> dict[str, int]:
    names = ["clinics", "users", *(m.__tablename__ for m in COPIED[2:]), "audit_events"]
    tables = Base.metadata.tables
    with engine.connect() as connection:
        return {
            name: int(connection.scalar(select(func.count()).select_from(tables[name])) or 0)
            for name in ["patients", *names]
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=int, default=1_000, help="patients (default 1,000)")
    parser.add_argument(
        "--batch", type=int, default=1_000, help="patients (or plans) per seeding transaction"
    )
    parser.add_argument(
        "--refresh-all-up-to",
        type=int,
        default=300,
        help="refresh every active plan's attention up to this many plans; beyond, a sample",
    )
    parser.add_argument(
        "--refresh-budget",
        type=float,
        default=20,
        help="seconds for refreshing the sample (at least one plan is refreshed)",
    )
    parser.add_argument(
        "--targets", type=int, default=1_000, help="patients the write benchmarks rotate over"
    )


def main(argv: list[str] | None = None) -> int:
    from bench import database

    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=database.DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    add_arguments(parser)
    args = parser.parse_args(argv)
    url = database.create(args.db, args.postgres_url)
    try:
        seeded = seed(url, args)
        print(f"{args.db}: {seeded.scale:,} patients; {seeded.refreshed} plans refreshed")
        print({k: round(v, 1) for k, v in seeded.timings.items()})
        print(seeded.rows)
    finally:
        if args.keep:
            print(url)
        else:
            database.drop(url, args.postgres_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
