"""The plan's response and progress are rendered on write and served from the stored rendering:
after every kind of write they equal what the ORM renders afresh, and a rendering left behind by
the plan is never served."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.auth import Actor
from app.core.types import Role
from app.patients.models import Patient
from app.plans import progress, reading
from app.plans.models import Plan, PlanDocument
from app.users.models import User
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_patient,
    make_user,
)
from tests.conftest import StatementCounter
from tests.plans.plan_builders import if_match, plan_url
from tests.plans.test_lifecycle_router import (
    HOP_SYMMETRY,
    KNEE_ASSESSMENT,
    KNEE_PLAN_STAGES,
    obs,
    post,
    rule,
)


def actor_of(user: User) -> Actor:
    return Actor(
        clinic_id=user.clinic_id, role=user.role, user_id=user.id, patient_id=user.patient_id
    )


def _twice(client: TestClient, statements: StatementCounter, url: str, user: User) -> Any:
    costs, bodies = [], []
    for _ in range(2):
        statements.reset()
        response = client.get(url, headers=auth_headers(user))
        assert response.status_code == 200, response.text
        costs.append(len(statements))
        bodies.append(response.content)
    # Two statements the first time a process serves a rendering (the caller and the plan's
    # state; the stored bytes), one once it has them.
    assert costs[0] in (1, 2), statements.statements
    assert costs[1] == 1, statements.statements
    assert bodies[0] == bodies[1]
    return response


def served_plan(
    client: TestClient,
    session: Session,
    statements: StatementCounter,
    plan_id: str,
    user: User,
) -> dict[str, Any]:
    """GET the plan: served from its stored rendering, equal to the ORM's fresh one."""
    response = _twice(client, statements, plan_url(plan_id), user)
    fresh = reading.read(session, actor_of(user), uuid.UUID(plan_id))
    assert response.json() == json.loads(fresh.model_dump_json())
    assert response.headers["etag"] == f'"{fresh.version}"'
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def served_progress(
    client: TestClient,
    session: Session,
    statements: StatementCounter,
    plan_id: str,
    user: User,
) -> dict[str, Any]:
    """GET the progress of a plan under way: its stored rendering, equal to a fresh evaluation but
    for when it was evaluated."""
    response = _twice(client, statements, plan_url(plan_id, "progress"), user)
    fresh = json.loads(progress.get(session, actor_of(user), uuid.UUID(plan_id)).model_dump_json())
    body: dict[str, Any] = response.json()
    assert {**body, "evaluated_at": None} == {**fresh, "evaluated_at": None}
    evaluated = datetime.fromisoformat(body["evaluated_at"])
    assert evaluated.date() == datetime.now(UTC).date()
    return body


def knee_draft(client: TestClient, clinician: User) -> tuple[str, str, list[str]]:
    """A patient, a finalised knee assessment and a draft plan, through the API."""
    headers = auth_headers(clinician)
    patient = client.post(
        "/api/v1/patients",
        json={"display_name": "Sam Keeper", "date_of_birth": "2001-04-09"},
        headers=headers,
    ).json()
    created = client.post(
        f"/api/v1/patients/{patient['id']}/assessments", json=KNEE_ASSESSMENT, headers=headers
    )
    assessment_id = created.json()["id"]
    final = client.post(
        f"/api/v1/assessments/{assessment_id}/finalize", headers=if_match(headers, 1)
    )
    assert final.status_code == 200, final.text
    draft = client.post(
        "/api/v1/plans",
        json={
            "assessment_id": assessment_id,
            "title": "Left knee: capacity, then back to football",
            "stages": KNEE_PLAN_STAGES,
            "discharge_criteria": [rule("pain_nrs", "lte", 2, "Pain 2/10 or less in training")],
        },
        headers=headers,
    )
    assert draft.status_code == 201, draft.text
    return patient["id"], draft.json()["id"], [s["id"] for s in draft.json()["stages"]]


def test_every_write_leaves_the_plan_and_its_progress_served_from_one_statement(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    patient_id, plan_id, stage_ids = knee_draft(client, clinician)
    served_plan(client, session, statements, plan_id, clinician)

    for url, criterion in [
        (f"/api/v1/stages/{stage_ids[2]}/criteria", HOP_SYMMETRY),
        (f"/api/v1/plans/{plan_id}/discharge-criteria", HOP_SYMMETRY),
        (f"/api/v1/plans/{plan_id}/discharge-criteria", rule("psfs", "gte", 8, "PSFS 8+")),
    ]:
        assert client.post(url, json=criterion, headers=headers).status_code == 201
        served_plan(client, session, statements, plan_id, clinician)

    version = served_plan(client, session, statements, plan_id, clinician)["version"]
    renamed = client.patch(
        plan_url(plan_id), json={"title": "Left knee"}, headers=if_match(headers, version)
    )
    assert renamed.status_code == 200, renamed.text
    assert served_plan(client, session, statements, plan_id, clinician)["title"] == "Left knee"

    assert post(client, plan_id, "activate", headers).status_code == 200
    assert served_plan(client, session, statements, plan_id, clinician)["status"] == "active"
    before = served_progress(client, session, statements, plan_id, clinician)
    assert before["may_advance"] is False

    observations = f"/api/v1/patients/{patient_id}/observations/batch"
    batch = [obs("pain_nrs", 3, 2), obs("single_leg_squat_reps", 16, 2, "left")]
    recorded = client.post(observations, json={"observations": batch}, headers=headers)
    assert recorded.status_code == 201, recorded.text
    assert served_progress(client, session, statements, plan_id, clinician)["may_advance"]

    # An observation entered in error no longer counts.
    squat = next(o for o in recorded.json()["items"] if o["side"] == "left")
    withdrawn = client.post(
        f"/api/v1/observations/{squat['id']}/entered-in-error",
        json={"reason": "Counted the right leg"},
        headers=if_match(headers, squat["version"]),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert not served_progress(client, session, statements, plan_id, clinician)["may_advance"]

    reason = "No dynamometer this week"
    assert post(client, plan_id, "advance", headers, override_reason=reason).status_code == 200
    advanced = served_plan(client, session, statements, plan_id, clinician)
    assert advanced["current_stage_id"] == stage_ids[1]
    assert [o["reason"] for o in advanced["overrides"]] == [reason]

    stage = client.get(f"/api/v1/stages/{stage_ids[1]}", headers=headers).json()
    longer = client.patch(
        f"/api/v1/stages/{stage_ids[1]}",
        json={"expected_weeks": 8},
        headers=if_match(headers, stage["version"]),
    )
    assert longer.status_code == 200, longer.text
    stages = served_plan(client, session, statements, plan_id, clinician)["stages"]
    assert stages[1]["expected_weeks"] == 8
    served_progress(client, session, statements, plan_id, clinician)

    cancelled = post(client, plan_id, "cancel", headers, reason="Moved abroad")
    assert cancelled.status_code == 200, cancelled.text
    assert served_plan(client, session, statements, plan_id, clinician)["status"] == "cancelled"


def test_a_rendering_behind_the_plan_is_not_served(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    clinician = make_user(session)
    _, plan_id, _ = knee_draft(client, clinician)
    served_plan(client, session, statements, plan_id, clinician)

    # A write that did not render (as any future write path might forget to).
    session.execute(
        update(Plan)
        .where(Plan.id == uuid.UUID(plan_id))
        .values(title="Changed behind the rendering", version=Plan.version + 1)
        .execution_options(synchronize_session=False)
    )
    statements.reset()
    response = client.get(plan_url(plan_id), headers=auth_headers(clinician))
    assert response.status_code == 200
    assert response.json()["title"] == "Changed behind the rendering"
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    assert len(statements) > 1  # rendered afresh


def test_progress_evaluated_on_an_earlier_day_is_evaluated_again(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    _, plan_id, stage_ids = knee_draft(client, clinician)
    for url, criterion in [
        (f"/api/v1/stages/{stage_ids[2]}/criteria", HOP_SYMMETRY),
        (f"/api/v1/plans/{plan_id}/discharge-criteria", rule("psfs", "gte", 8, "PSFS 8+")),
    ]:
        assert client.post(url, json=criterion, headers=headers).status_code == 201
    assert post(client, plan_id, "activate", headers).status_code == 200
    served_progress(client, session, statements, plan_id, clinician)

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    session.execute(
        update(PlanDocument)
        .where(PlanDocument.plan_id == uuid.UUID(plan_id))
        .values(progress_on=yesterday)
    )
    started = datetime.now(UTC)
    statements.reset()
    response = client.get(plan_url(plan_id, "progress"), headers=headers)
    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["evaluated_at"]) >= started
    assert len(statements) > 1


def test_a_rendering_projected_with_older_clinic_inputs_is_not_served(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    """A clinic-wide change (its thresholds, a measure) moves the clinic's inputs_version: a
    plan projected before it is stale until projected again, its renderings too."""
    clinician = make_user(session)
    headers = auth_headers(clinician)
    _, plan_id, stage_ids = knee_draft(client, clinician)
    for url, criterion in [
        (f"/api/v1/stages/{stage_ids[2]}/criteria", HOP_SYMMETRY),
        (f"/api/v1/plans/{plan_id}/discharge-criteria", rule("psfs", "gte", 8, "PSFS 8+")),
    ]:
        assert client.post(url, json=criterion, headers=headers).status_code == 201
    assert post(client, plan_id, "activate", headers).status_code == 200
    # Marked, so that serving the stored renderings shows; a new revision, so that no process
    # remembers the real ones.
    session.execute(
        update(PlanDocument)
        .where(PlanDocument.plan_id == uuid.UUID(plan_id))
        .values(body=MARKER, progress_body=MARKER, revision=PlanDocument.revision + 1)
    )

    def answers() -> list[Any]:
        return [
            client.get(plan_url(plan_id, action), headers=headers).json()
            for action in ("", "progress")
        ]

    _set_inputs_versions(session, clinician, plan_id, projected=4, clinic=4)
    assert answers() == [json.loads(MARKER)] * 2  # current: served as stored

    _set_inputs_versions(session, clinician, plan_id, projected=3, clinic=4)
    statements.reset()
    response = client.get(plan_url(plan_id), headers=headers)
    fresh = reading.read(session, actor_of(clinician), uuid.UUID(plan_id))
    assert response.json() == json.loads(fresh.model_dump_json())
    assert response.headers["etag"] == f'"{fresh.version}"'
    assert len(statements) > 1  # rendered afresh
    progress_body = client.get(plan_url(plan_id, "progress"), headers=headers).json()
    evaluated = progress.get(session, actor_of(clinician), uuid.UUID(plan_id))
    assert {**progress_body, "evaluated_at": None} == {
        **json.loads(evaluated.model_dump_json()),
        "evaluated_at": None,
    }


MARKER = b'{"marker": "the stored rendering"}'


def _set_inputs_versions(
    session: Session, clinician: User, plan_id: str, *, projected: int, clinic: int
) -> None:
    session.execute(
        update(Plan)
        .where(Plan.id == uuid.UUID(plan_id))
        .values(projected_inputs_version=projected)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Clinic)
        .where(Clinic.id == clinician.clinic_id)
        .values(inputs_version=clinic)
        .execution_options(synchronize_session=False)
    )


def test_who_may_read_the_rendered_plan(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    _, plan_id, _ = knee_draft(client, clinician)
    clinic = session.get_one(Clinic, clinician.clinic_id)
    plan = session.get_one(Plan, uuid.UUID(plan_id))
    own = make_user(
        session, clinic=clinic, role=Role.patient, patient=session.get_one(Patient, plan.patient_id)
    )
    other_patient = make_user(
        session, clinic=clinic, role=Role.patient, patient=make_patient(session, clinic=clinic)
    )
    stranger = make_user(session)
    _, secret = make_api_key(session, clinic=clinic)
    _, foreign_secret = make_api_key(session)
    retired = make_user(session, clinic=clinic)
    retired.is_active = False
    session.flush()

    for action in ("", "progress"):
        url = plan_url(plan_id, action)
        assert client.get(url, headers=auth_headers(own)).status_code == 200
        assert client.get(url, headers=key_headers(secret)).status_code == 200
        for refused in (other_patient, stranger):
            answer = client.get(url, headers=auth_headers(refused))
            assert answer.status_code == 404, action
            assert answer.headers["content-type"] == "application/problem+json"
        assert client.get(url, headers=key_headers(foreign_secret)).status_code == 404
        assert client.get(url, headers=auth_headers(retired)).status_code == 401
        assert client.get(url).status_code == 401
        assert client.get(url, headers={"Authorization": "Bearer forged"}).status_code == 401
        assert client.get(url, headers=key_headers("rk_unknown")).status_code == 401
    missing = plan_url(str(uuid.uuid4()))
    assert client.get(missing, headers=auth_headers(clinician)).status_code == 404


def test_draft_edits_leave_the_plan_served_from_one_statement(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    _, plan_id, stage_ids = knee_draft(client, clinician)

    added = client.post(
        f"/api/v1/plans/{plan_id}/stages",
        json={"name": "Running", "goal": "Run 5 km", "expected_weeks": 4, "criteria": []},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    plan = served_plan(client, session, statements, plan_id, clinician)
    assert [s["name"] for s in plan["stages"]][-1] == "Running"

    order = [added.json()["id"], *stage_ids]
    reordered = client.post(
        f"/api/v1/plans/{plan_id}/stages/order",
        json={"stage_ids": order},
        headers=if_match(headers, plan["version"]),
    )
    assert reordered.status_code == 200, reordered.text
    plan = served_plan(client, session, statements, plan_id, clinician)
    assert [s["id"] for s in plan["stages"]] == order

    moved = next(s for s in plan["stages"] if s["id"] == added.json()["id"])
    removed = client.delete(
        f"/api/v1/stages/{moved['id']}", headers=if_match(headers, moved["version"])
    )
    assert removed.status_code == 204, removed.text
    plan = served_plan(client, session, statements, plan_id, clinician)
    assert [s["id"] for s in plan["stages"]] == stage_ids

    criterion = plan["stages"][0]["criteria"][0]
    dropped = client.delete(
        f"/api/v1/criteria/{criterion['id']}", headers=if_match(headers, criterion["version"])
    )
    assert dropped.status_code == 204, dropped.text
    plan = served_plan(client, session, statements, plan_id, clinician)
    assert criterion["id"] not in {c["id"] for c in plan["stages"][0]["criteria"]}
