"""The benchmark's throwaway database: made, migrated and seeded through the app, then dropped."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.orm import Session

from app.auth.security import issue_token
from app.core import migrations
from app.core.config import Settings
from app.core.db import create_db_engine
from app.core.types import Role
from app.patients.schemas import PatientRead
from tests.builders import make_clinic, make_patient, make_user

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Seeded:
    patient_id: uuid.UUID
    token: str
    body: bytes  # the PatientRead JSON every variant must answer


def create(kind: str, server_url: str = DEFAULT_POSTGRES_URL) -> str:
    """Makes an empty database and returns its URL."""
    if kind == "postgres":
        name = f"rehab_bench_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"{server_url.rpartition('/')[0]}/{name}"
    folder = Path(tempfile.mkdtemp(prefix="rehab_bench_"))
    return f"sqlite:///{folder / 'bench.db'}"


def drop(url: str, server_url: str = DEFAULT_POSTGRES_URL) -> None:
    if url.startswith("sqlite"):
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
        return
    name = url.rpartition("/")[2]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def migrate_and_seed(url: str, settings: Settings, *, patients: int = 1_000) -> Seeded:
    """Migrates to head; seeds a clinic, a clinician and patients, plus a second clinic so
    the clinic filter has rows to exclude. Returns the clinician's token and one patient."""
    migrations.upgrade(url)
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            other = make_clinic(session)
            for _ in range(patients // 10):
                make_patient(session, clinic=other)
            clinic = make_clinic(session)
            clinician = make_user(session, clinic=clinic, role=Role.clinician)
            seeded = [make_patient(session, clinic=clinic) for _ in range(patients)]
            session.commit()
            target = seeded[len(seeded) // 2]
            body = PatientRead.model_validate(target).model_dump_json().encode()
    finally:
        engine.dispose()
    token, _ = issue_token(settings, clinician.id, clinic.id)
    return Seeded(patient_id=target.id, token=token, body=body)
