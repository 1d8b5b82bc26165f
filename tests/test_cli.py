"""The `rehab` command, run in-process against a database of its own, as an operator would:
settings from the environment, no dependency overrides."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import selectinload

from app import cli, demo
from app.assessments.models import Assessment, AssessmentStatus, Driver, DriverKind
from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core import config, db
from app.core.db import transaction
from app.idempotency.models import IdempotencyKey
from app.main import create_app
from app.patients.models import Patient
from app.plans.models import Plan
from app.users.models import User
from tests import database

PASSWORD = "a long enough password"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Rehab = Callable[..., Result]


def _clear_caches() -> None:
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factories.cache_clear()


def _reinstate(engine: Engine) -> None:
    """Puts the suite's own engine back in get_engine's cache, so the rest of the suite keeps
    its database and no second pool is opened on it."""
    _clear_caches()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "create_db_engine", lambda *_args, **_kwargs: engine)
        assert db.get_engine() is engine


@pytest.fixture(scope="module")
def cli_database() -> Iterator[str]:
    """A throwaway database that settings point at while this module runs, migrated by the CLI."""
    suite_engine = db.get_engine()
    url = database.create("rehab_cli")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DATABASE_URL", url)
            _clear_caches()
            try:
                assert cli.main(["migrate"]) == 0
                yield url
            finally:
                db.get_engine().dispose()
        _reinstate(suite_engine)
    finally:
        database.drop(url)


@pytest.fixture
def rehab(cli_database: str, capsys: pytest.CaptureFixture[str]) -> Rehab:  # noqa: ARG001
    """Runs `rehab ARGV...` in-process; returns the exit code and what it printed."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def api(cli_database: str) -> Iterator[TestClient]:  # noqa: ARG001
    with TestClient(create_app()) as client:
        yield client


def _email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}@example.org"


def _counts() -> dict[str, int]:
    with transaction(write=False) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Clinic, User, Patient, AuditEvent, Assessment)
        }


def _token(api: TestClient, email: str, password: str) -> dict[str, str]:
    response = api.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _new_clinic(rehab: Rehab) -> tuple[uuid.UUID, str]:
    email = _email("admin")
    result = rehab(
        "create-clinic", "--name", "Clinic", "--admin-email", email, "--admin-password", PASSWORD
    )
    assert result.code == 0, result.err
    return uuid.UUID(result.json()["clinic_id"]), email


def test_the_readme_walkthrough(rehab: Rehab, api: TestClient) -> None:
    assert rehab("migrate").code == 0
    email = _email("admin")
    result = rehab(
        "create-clinic", "--name", "Riverside", "--admin-email", email, "--admin-password", PASSWORD
    )
    assert result.code == 0, result.err
    ids = result.json()
    assert set(ids) == {"clinic_id", "admin_id"}

    headers = _token(api, email, PASSWORD)
    patient = {"display_name": "Sam Runner", "date_of_birth": "1990-05-17"}
    response = api.post("/api/v1/patients", json=patient, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["clinic_id"] == ids["clinic_id"]
    me = api.get("/api/v1/me", headers=headers).json()
    assert (me["id"], me["role"]) == (ids["admin_id"], "admin")


def test_create_clinic_records_who_and_how(rehab: Rehab) -> None:
    clinic_id, email = _new_clinic(rehab)
    with transaction(write=False) as session:
        admin = session.scalars(select(User).where(User.email == email)).one()
        events = session.scalars(select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)).all()
    assert admin.clinic_id == clinic_id
    assert admin.password_hash.startswith("$argon2id$")
    assert {(e.entity_type, e.entity_id) for e in events} == {
        ("clinic", clinic_id),
        ("user", admin.id),
    }
    assert {e.actor_id for e in events} == {admin.id}
    assert [(e.details or {}).get("via") for e in events] == ["cli", "cli"]


def _add_patient(clinic_id: uuid.UUID) -> uuid.UUID:
    with transaction(write=True) as session:
        patient = Patient(clinic_id=clinic_id, display_name="P", date_of_birth=date(1980, 1, 1))
        session.add(patient)
        session.flush()
        return patient.id


@pytest.mark.parametrize("role", ["admin", "clinician", "patient", "integration"])
def test_create_user_for_each_role(rehab: Rehab, api: TestClient, role: str) -> None:
    clinic_id, _ = _new_clinic(rehab)
    email = _email(role)
    extra = ["--patient", str(_add_patient(clinic_id))] if role == "patient" else []
    args = ["--clinic", str(clinic_id), "--email", email, "--password", PASSWORD, "--role", role]
    result = rehab("create-user", *args, *extra)
    assert result.code == 0, result.err
    user_id = result.json()["user_id"]

    me = api.get("/api/v1/me", headers=_token(api, email, PASSWORD)).json()
    assert (me["id"], me["clinic_id"], me["role"]) == (user_id, str(clinic_id), role)


def _refusals(clinic_id: uuid.UUID, taken: str, other_patient: uuid.UUID) -> list[list[str]]:
    def user(email: str, password: str, role: str, *extra: str) -> list[str]:
        return [
            *("create-user", "--clinic", str(clinic_id), "--email", email),
            *("--password", password, "--role", role, *extra),
        ]

    clinic = ["create-clinic", "--name", "Again", "--admin-password", PASSWORD]
    return [
        [*clinic, "--admin-email", taken],
        [*clinic, "--admin-email", taken.upper()],
        [
            "create-clinic",
            "--name",
            "Short",
            "--admin-email",
            _email("a"),
            "--admin-password",
            "x" * 11,
        ],
        user(taken, PASSWORD, "clinician"),
        user(_email("c"), "eleven char", "clinician"),
        user(_email("p"), PASSWORD, "patient"),
        user(_email("p"), PASSWORD, "clinician", "--patient", str(other_patient)),
        user(_email("p"), PASSWORD, "patient", "--patient", str(other_patient)),
        user(_email("p"), PASSWORD, "patient", "--patient", str(uuid.uuid4())),
        [
            "create-user",
            "--clinic",
            str(uuid.uuid4()),
            "--email",
            _email("c"),
            "--password",
            PASSWORD,
            "--role",
            "clinician",
        ],
        [
            "create-clinic",
            "--name",
            "Bad",
            "--admin-email",
            "not-an-email",
            "--admin-password",
            PASSWORD,
        ],
    ]


def test_refusals_exit_non_zero_and_write_nothing(rehab: Rehab) -> None:
    clinic_id, taken = _new_clinic(rehab)
    other_clinic, _ = _new_clinic(rehab)
    refusals = _refusals(clinic_id, taken, _add_patient(other_clinic))
    before = _counts()
    for argv in refusals:
        result = rehab(*argv)
        assert result.code != 0, argv
        assert result.out == ""
        assert result.err.startswith(f"rehab {argv[0]}: "), result.err
    assert _counts() == before


def test_refusal_messages_name_the_option(rehab: Rehab) -> None:
    clinic_id, taken = _new_clinic(rehab)
    short = rehab(
        "create-clinic",
        "--name",
        "N",
        "--admin-email",
        _email("a"),
        "--admin-password",
        "too short",
    )
    assert "--admin-password: String should have at least 12 characters" in short.err
    duplicate = rehab(
        "create-user",
        "--clinic",
        str(clinic_id),
        "--email",
        taken,
        "--password",
        PASSWORD,
        "--role",
        "admin",
    )
    assert "A user with that email already exists. (--email: already used)" in duplicate.err
    unlinked = rehab(
        "create-user",
        "--clinic",
        str(clinic_id),
        "--email",
        _email("p"),
        "--password",
        PASSWORD,
        "--role",
        "patient",
    )
    assert "--patient: Value error, required for the patient role" in unlinked.err


def test_seed_demo_twice_makes_one_demo_clinic(rehab: Rehab, api: TestClient) -> None:
    first = rehab("seed-demo")
    assert first.code == 0, first.err
    before = _counts()
    second = rehab("seed-demo")
    assert second.code == 0, second.err
    assert "exists already" in second.err
    assert second.json() == first.json()
    assert _counts() == before

    seeded = first.json()
    logins = {login["role"]: login for login in seeded["logins"]}
    assert set(logins) == {"admin", "clinician", "patient"}
    for login in logins.values():
        _token(api, login["email"], login["password"])
    patient = logins["patient"]
    headers = _token(api, patient["email"], patient["password"])
    me = api.get("/api/v1/me", headers=headers).json()
    assert (me["role"], me["patient_id"]) == ("patient", seeded["patient_id"])
    own = api.get(f"/api/v1/patients/{seeded['patient_id']}/assessments", headers=headers)
    assert own.status_code == 200, own.text
    [assessment] = own.json()["items"]
    assert (assessment["id"], assessment["status"]) == (seeded["assessment_id"], "final")
    kinds = {driver["kind"] for driver in assessment["drivers"]}
    assert kinds == {"capacity_deficit", "load_tolerance_gap"}


def test_seed_demo_makes_a_worked_final_assessment(rehab: Rehab) -> None:
    seeded = rehab("seed-demo").json()
    with transaction(write=False) as session:
        assessment = session.scalars(
            select(Assessment)
            .where(Assessment.id == uuid.UUID(seeded["assessment_id"]))
            .options(
                selectinload(Assessment.findings),
                selectinload(Assessment.goals),
                selectinload(Assessment.drivers).selectinload(Driver.finding_links),
            )
        ).one()
    assert str(assessment.patient_id) == seeded["patient_id"]
    assert assessment.status is AssessmentStatus.final
    assert assessment.finalized_at is not None
    assert any("10 km" in goal.statement for goal in assessment.goals)
    findings = {finding.id: finding for finding in assessment.findings}
    assert any(f.value is not None and f.unit == "kg" for f in findings.values())
    assert any(f.value is None and f.result for f in findings.values())
    kinds = {driver.kind for driver in assessment.drivers}
    assert kinds == {DriverKind.capacity_deficit, DriverKind.load_tolerance_gap}
    for driver in assessment.drivers:
        assert driver.finding_ids
        assert set(driver.finding_ids) <= set(findings)


def test_seed_demo_is_refused_in_production(rehab: Rehab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_ENV", "production")
    monkeypatch.setenv("REHAB_SECRET_KEY", "x" * 40)
    config.get_settings.cache_clear()
    try:
        before = _counts()
        result = rehab("seed-demo")
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()
    assert result.code == 1
    assert "REHAB_ENV=production" in result.err
    assert _counts() == before
    assert demo.ADMIN.email not in result.out


def test_seed_demo_gives_the_patient_an_active_plan_with_progress(
    rehab: Rehab, api: TestClient
) -> None:
    seeded = rehab("seed-demo").json()
    patient = next(login for login in seeded["logins"] if login["role"] == "patient")
    headers = _token(api, patient["email"], patient["password"])
    plan = api.get(f"/api/v1/plans/{seeded['plan_id']}", headers=headers)
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["status"] == "active"
    assert [stage["name"] for stage in body["stages"]] == [
        "Settle and load",
        "Build capacity",
        "Return to running",
    ]
    assert body["current_stage_id"] == body["stages"][1]["id"]
    progress = api.get(f"/api/v1/plans/{seeded['plan_id']}/progress", headers=headers).json()
    first, second, _third = progress["stages"]
    assert first["state"] == "completed"
    assert all(c["status"] == "met" for c in first["criteria"])
    assert second["state"] == "current"
    assert not progress["discharge_ready"]
    history = api.get(f"/api/v1/plans/{seeded['plan_id']}/program/history", headers=headers)
    assert history.status_code == 200, history.text
    rows = {p["exercise"]["name"]: p["weeks"] for p in history.json()["prescriptions"]}
    assert len(rows) == 3
    assert any(any(week["changed"] for week in weeks) for weeks in rows.values())
    sessions = api.get(f"/api/v1/plans/{seeded['plan_id']}/sessions", headers=headers).json()
    assert len(sessions["items"]) == 5
    [prescription] = [
        p for p in history.json()["prescriptions"] if p["exercise"]["name"] == "Goblet squat"
    ]
    logs = api.get(f"/api/v1/prescriptions/{prescription['prescription_id']}/logs", headers=headers)
    assert logs.status_code == 200, logs.text
    assert {log["source"] for log in logs.json()["items"]} == {"home", "clinic"}


def test_housekeeping_re_audits_open_plans_and_deletes_expired_keys(rehab: Rehab) -> None:
    seeded = rehab("seed-demo").json()
    plan_id = uuid.UUID(seeded["plan_id"])
    long_ago = datetime.now(UTC) - timedelta(days=3)
    with transaction(write=True) as session:
        # As a plan from before the audit stands: never audited (a write would project it).
        session.execute(update(Plan).where(Plan.id == plan_id).values(audited_at=None))
        for key, expires in (("old", long_ago), ("new", datetime.now(UTC) + timedelta(hours=1))):
            session.add(
                IdempotencyKey(
                    clinic_id=uuid.UUID(seeded["clinic_id"]),
                    actor_id=uuid.uuid4(),
                    key=key,
                    method="POST",
                    path="/x",
                    request_hash="0" * 64,
                    expires_at=expires,
                )
            )

    report = rehab("housekeeping")

    assert report.code == 0, report.err
    assert report.json() == {
        "plans_audited": 1,
        "idempotency_keys_deleted": 1,
        "login_windows_deleted": 0,
    }
    with transaction(write=False) as session:
        assert session.get_one(Plan, plan_id).audited_at is not None
        assert session.scalars(select(IdempotencyKey.key)).all() == ["new"]
    assert rehab("housekeeping").json()["plans_audited"] == 0
