"""EXPLAIN for the hot queries, exactly as the app sends them.

Each read is run once in-process through the app's own service code, with the statements it
sends captured at the cursor (SQL and bound parameters); each SELECT is then explained with the
same parameters, `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL and `EXPLAIN QUERY PLAN` on SQLite,
and timed on its own (median of 5).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from app.accountability import worklist
from app.core import caller
from app.core.auth import Actor
from app.core.db import create_db_engine
from app.core.pagination import PageParams
from app.core.types import Role
from app.observations import service as observations_service
from app.patients import service as patients_service
from app.patients.models import Patient
from app.plans import reading
from app.projections import step
from bench.seed import Seeded

PAGE = PageParams(limit=50, cursor=None)


@dataclass
class Explained:
    query: str
    statement: str
    ms: float  # the statement alone, median of 5 runs
    plan: str


def _queries(seeded: Seeded) -> dict[str, Callable[[Session], Any]]:
    clinician = Actor(clinic_id=seeded.clinic_id, role=Role.clinician, user_id=seeded.clinician_id)
    admin = Actor(clinic_id=seeded.clinic_id, role=Role.admin, user_id=seeded.admin_id)

    def observations(session: Session) -> Any:
        patient = session.get_one(Patient, seeded.patient_id)
        session.expunge_all()
        return observations_service.search(session, clinician, patient, PAGE)

    return {
        # The caller's statement as get_actor sends it, with what the token says (the token is
        # signed with the servers' key, not this process's).
        "plan read (token check + app.plans.reading)": lambda s: (
            s.execute(
                caller.USER, {"caller_id": seeded.clinician_id, "caller_clinic": seeded.clinic_id}
            ),
            reading.read(s, clinician, seeded.plan_id),
        ),
        "worklist page (clinician)": lambda s: worklist.search(s.connection(), clinician, PAGE),
        "worklist page (admin: the whole clinic)": lambda s: worklist.search(
            s.connection(), admin, PAGE
        ),
        "patients list page": lambda s: patients_service.search(s, clinician, PAGE),
        "observations list page": observations,
        "the projection step (every observation write)": lambda s: step.project(
            s, [(clinician.clinic_id, seeded.plan_id)]
        ),
    }


def explain(url: str, seeded: Seeded) -> list[Explained]:
    engine = create_db_engine(url)
    captured: list[tuple[str, Any]] = []
    capturing = [False]

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if capturing[0]:
            captured.append((statement, parameters))

    found: list[Explained] = []
    try:
        with engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            for name, run in _queries(seeded).items():
                captured.clear()
                capturing[0] = True
                with Session(bind=connection) as session:
                    try:
                        run(session)
                    finally:
                        capturing[0] = False
                        session.rollback()
                for statement, parameters in list(captured):
                    if not statement.lstrip().upper().startswith("SELECT"):
                        continue
                    found.append(_explain(connection, name, statement, parameters, postgres))
                connection.rollback()
    finally:
        engine.dispose()
    return found


def _explain(
    connection: Connection, name: str, statement: str, parameters: Any, postgres: bool
) -> Explained:
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    if postgres:
        plan = "\n".join(row[0] for row in rows)
    else:  # (id, parent, notused, detail): indent by depth
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + str(detail))
        plan = "\n".join(lines)
    times = []
    for _ in range(5):
        began = time.perf_counter()
        connection.exec_driver_sql(statement, parameters).all()
        times.append((time.perf_counter() - began) * 1000)
    return Explained(name, " ".join(statement.split()), statistics.median(times), plan)


def report(explained: list[Explained], *, slowest_only: tuple[str, ...] = ("refresh",)) -> str:
    """Each query's statements with their plans; for the names in `slowest_only`, only the
    slowest statement (a write path sends many)."""
    out = []
    for name in dict.fromkeys(e.query for e in explained):
        items = [e for e in explained if e.query == name]
        total = sum(e.ms for e in items)
        out.append(f"### {name}: {len(items)} SELECT(s), {total:.2f} ms in all, alone")
        if any(name.startswith(prefix) for prefix in slowest_only):
            items = [max(items, key=lambda e: e.ms)]
            out.append("(the slowest only)")
        for e in items:
            text = e.statement if len(e.statement) <= 600 else e.statement[:600] + " ..."
            out.append(f"\n{e.ms:.2f} ms: {text}\n```\n{e.plan}\n```")
        out.append("")
    return "\n".join(out)
