"""The projection's inputs are declared for every table, and the step reports what changed."""

from __future__ import annotations

import uuid
from typing import Any, cast

from fastapi.testclient import TestClient
from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.orm import Base
from app.core.types import Role
from app.prescriptions.models import ExerciseLog
from app.projections import unit_of_work
from app.projections.inputs import FEEDS
from app.projections.step import Change
from tests.accountability.builders import _log, days_ago, well_run_plan
from tests.builders import auth_headers
from tests.plans.plan_builders import PAIN_SETTLED, if_match, plan_url


def test_every_model_says_which_plans_it_feeds() -> None:
    """A new table must be declared (feeding something, or None): none is forgotten."""
    mapped = {mapper.class_ for mapper in Base.registry.mappers}
    assert mapped - set(FEEDS) == set()
    assert set(FEEDS) - mapped == set()


class Reported:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __call__(self, _session: Session, changes: list[Change]) -> None:
        self.changes.extend(changes)

    def __enter__(self) -> Reported:
        unit_of_work.listeners.append(self)
        return self

    def __exit__(self, *_exc: Any) -> None:
        unit_of_work.listeners.remove(self)


def test_the_step_reports_a_stage_becoming_ready(client: TestClient, session: Session) -> None:
    built = well_run_plan(session)  # PSFS 7 by the fourth session: stage 1 (PSFS 8) not met
    plan, headers = built.plan, auth_headers(built.clinician)
    session.commit()
    observation = {"measure_code": "psfs", "value": 9, "observed_at": days_ago(0).isoformat()}

    with Reported() as reported:
        url = f"/api/v1/patients/{plan.patient_id}/observations"
        assert client.post(url, json=observation, headers=headers).status_code == 201

    [change] = [c for c in reported.changes if c.plan_id == plan.id]
    assert change.before is not None
    assert (change.before.ready_to_advance, change.after.ready_to_advance) == (False, True)
    assert change.before.status == change.after.status == "active"


def test_the_step_reports_a_discharge_against_the_status_before_it(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session, discharge=[PAIN_SETTLED])
    plan, headers = built.plan, auth_headers(built.clinician)
    version = client.get(plan_url(plan.id), headers=headers).json()["version"]

    with Reported() as reported:
        discharged = client.post(
            plan_url(plan.id, "discharge"),
            json={"override_reason": "Moved away", "override_category": "moved_away"},
            headers=if_match(headers, version),
        )

    assert discharged.status_code == 200, discharged.text
    [change] = [c for c in reported.changes if c.plan_id == plan.id]
    assert change.before is not None
    assert (change.before.status, change.after.status) == ("active", "discharged")


def test_a_rolled_back_write_leaves_nothing_to_project(session: Session) -> None:
    built = well_run_plan(session)
    session.commit()
    built.plan.title = "Renamed, then rolled back"
    session.flush()
    assert unit_of_work.touched(session)
    session.rollback()
    assert not unit_of_work.touched(session)


def test_a_row_inserted_without_the_orm_feeds_what_its_model_declares(session: Session) -> None:
    """The hot Core inserts (app.audit.service.insert_with_event) go through the declaration:
    a home log feeds nothing stored; a log done in a session feeds its plan."""
    built = well_run_plan(session)
    session.commit()
    plan, visit, prescription = built.plan, built.sessions[-1], built.program[0]
    actor = Actor(clinic_id=plan.clinic_id, role=Role.clinician, user_id=built.clinician.id)
    table = cast(Table, ExerciseLog.__table__)

    def insert(session_id: uuid.UUID | None) -> list[uuid.UUID]:
        row = {c.key: getattr(_log(plan, visit, prescription), c.key, None) for c in table.c}
        row |= {"id": uuid.uuid4(), "session_id": session_id, "version": 1, "skipped": False}
        row |= {"created_at": days_ago(0), "source": "clinic" if session_id else "home"}
        with Reported() as reported:
            audit_service.insert_with_event(session, table, row, actor, "create", "exercise_log")
            session.commit()
        return [change.plan_id for change in reported.changes]

    assert insert(None) == []
    assert insert(visit.id) == [plan.id]
