from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assessments.models import Driver
from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import Criterion, Plan, PlanStatus, Stage
from app.users.models import User
from tests.builders import auth_headers, make_clinic, make_user
from tests.plans.plan_builders import HOP_LSI, PAIN_SETTLED, PSFS_8, if_match, make_plan

API = "/api/v1"
NEW_STAGE = {"name": "Return to run", "goal": "Run 5 km", "expected_weeks": 3}
NEW_CRITERION = {
    "measure_code": "single_leg_hop",
    "comparator": "gte",
    "target": 90,
    "mode": "limb_symmetry",
    "involved_side": "left",
    "statement": "Hops as far on the left",
}


def _headers(session: Session, plan: Plan, role: Role = Role.clinician) -> dict[str, str]:
    return auth_headers(
        make_user(session, clinic=session.get_one(Clinic, plan.clinic_id), role=role)
    )


def _stages(session: Session, plan: Plan) -> list[Stage]:
    statement = select(Stage).where(Stage.plan_id == plan.id).order_by(Stage.position)
    return list(session.scalars(statement))


def _plan_version(client: TestClient, plan: Plan, headers: dict[str, str]) -> int:
    return int(client.get(f"{API}/plans/{plan.id}", headers=headers).json()["version"])


def _driver_id(session: Session, plan: Plan) -> uuid.UUID:
    return session.scalars(
        select(Driver.id).where(Driver.assessment_id == plan.assessment_id)
    ).one()


def test_add_a_stage_at_the_end_or_at_a_position(client: TestClient, session: Session) -> None:
    plan = make_plan(session)  # three stages
    headers = _headers(session, plan)
    url = f"{API}/plans/{plan.id}/stages"
    appended = client.post(url, json={**NEW_STAGE, "criteria": [NEW_CRITERION]}, headers=headers)
    assert appended.status_code == 201, appended.text
    body = appended.json()
    assert appended.headers["location"] == f"{API}/stages/{body['id']}"
    assert appended.headers["etag"] == '"1"'
    assert body["position"] == 3
    assert [(c["position"], c["kind"]) for c in body["criteria"]] == [(0, "progression")]
    inserted = client.post(
        url, json={**NEW_STAGE, "name": "Warm-up", "position": 0}, headers=headers
    )
    assert inserted.json()["position"] == 0
    far = client.post(url, json={**NEW_STAGE, "name": "Last", "position": 99}, headers=headers)
    assert far.json()["position"] == 5
    listed = client.get(url, headers=headers)
    assert listed.headers["etag"] == f'"{plan.version + 3}"'
    assert [s["name"] for s in listed.json()] == [
        "Warm-up",
        "Stage 1",
        "Stage 2",
        "Stage 3",
        "Return to run",
        "Last",
    ]
    assert [s["position"] for s in listed.json()] == [0, 1, 2, 3, 4, 5]


def test_stages_are_added_only_to_a_draft(client: TestClient, session: Session) -> None:
    plan = make_plan(session, active=True)
    response = client.post(
        f"{API}/plans/{plan.id}/stages", json=NEW_STAGE, headers=_headers(session, plan)
    )
    assert response.status_code == 409
    assert len(_stages(session, plan)) == 3


def test_stage_drivers_must_be_targeted_by_the_plan(client: TestClient, session: Session) -> None:
    plan = make_plan(session)
    headers = _headers(session, plan)
    driver = str(_driver_id(session, plan))
    url = f"{API}/plans/{plan.id}/stages"
    fine = client.post(url, json={**NEW_STAGE, "driver_ids": [driver]}, headers=headers)
    assert fine.status_code == 201
    assert fine.json()["driver_ids"] == [driver]
    wrong = client.post(
        url, json={**NEW_STAGE, "driver_ids": [driver, str(uuid.uuid4())]}, headers=headers
    )
    assert wrong.status_code == 422
    assert [e["pointer"] for e in wrong.json()["errors"]] == ["/driver_ids/1"]
    twice = client.patch(
        f"{API}/stages/{fine.json()['id']}",
        json={"driver_ids": [driver, driver]},
        headers=if_match(headers, 1),
    )
    assert twice.status_code == 422
    assert [e["pointer"] for e in twice.json()["errors"]] == ["/driver_ids/1"]


def test_nested_criterion_problems_name_their_place(client: TestClient, session: Session) -> None:
    plan = make_plan(session)
    criteria = [NEW_CRITERION, {**NEW_CRITERION, "measure_code": "pain_nrs"}]
    response = client.post(
        f"{API}/plans/{plan.id}/stages",
        json={**NEW_STAGE, "criteria": criteria},
        headers=_headers(session, plan),
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/criteria/1/mode"]


def test_read_and_update_a_stage(client: TestClient, session: Session) -> None:
    plan = make_plan(session, active=True)
    stage = _stages(session, plan)[0]
    headers = _headers(session, plan)
    url = f"{API}/stages/{stage.id}"
    read = client.get(url, headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{stage.version}"'
    assert read.json()["criteria"][0]["statement"] == PAIN_SETTLED["statement"]
    assert client.patch(url, json={"name": "x"}, headers=headers).status_code == 428
    plan_version = _plan_version(client, plan, headers)
    changed = client.patch(
        url, json={"name": "Settle", "expected_weeks": 5}, headers=if_match(headers, stage.version)
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["expected_weeks"]) == ("Settle", 5)
    assert changed.headers["etag"] == f'"{stage.version + 1}"'
    assert _plan_version(client, plan, headers) == plan_version + 1
    stale = client.patch(url, json={"name": "Again"}, headers=if_match(headers, stage.version))
    assert stale.status_code == 412
    null = client.patch(url, json={"name": None}, headers=if_match(headers, stage.version + 1))
    assert null.status_code == 422


def test_delete_a_stage_closes_up_positions(client: TestClient, session: Session) -> None:
    plan = make_plan(session)
    first, middle, last = _stages(session, plan)
    headers = _headers(session, plan)
    url = f"{API}/stages/{middle.id}"
    assert client.delete(url, headers=headers).status_code == 428
    assert client.delete(url, headers=if_match(headers, 99)).status_code == 412
    deleted = client.delete(url, headers=if_match(headers, middle.version))
    assert deleted.status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    listed = client.get(f"{API}/plans/{plan.id}/stages", headers=headers).json()
    assert [(s["id"], s["position"]) for s in listed] == [(str(first.id), 0), (str(last.id), 1)]
    assert (
        session.scalar(
            select(func.count()).select_from(Criterion).where(Criterion.stage_id == middle.id)
        )
        == 0
    )


def test_delete_a_stage_only_while_draft(client: TestClient, session: Session) -> None:
    plan = make_plan(session, active=True)
    stage = _stages(session, plan)[1]
    response = client.delete(
        f"{API}/stages/{stage.id}", headers=if_match(_headers(session, plan), stage.version)
    )
    assert response.status_code == 409
    assert len(_stages(session, plan)) == 3


def test_reorder_stages_with_the_plans_etag(client: TestClient, session: Session) -> None:
    plan = make_plan(session)
    first, middle, last = (str(s.id) for s in _stages(session, plan))
    headers = _headers(session, plan)
    url = f"{API}/plans/{plan.id}/stages/order"
    order = {"stage_ids": [last, first, middle]}
    assert client.post(url, json=order, headers=headers).status_code == 428
    assert client.post(url, json=order, headers=if_match(headers, 99)).status_code == 412
    listed = client.get(f"{API}/plans/{plan.id}/stages", headers=headers)
    version = int(listed.headers["etag"].strip('"'))
    done = client.post(url, json=order, headers=if_match(headers, version))
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == f'"{version + 1}"'
    assert [(s["id"], s["position"]) for s in done.json()] == [(last, 0), (first, 1), (middle, 2)]
    plan_body = client.get(f"{API}/plans/{plan.id}", headers=headers).json()
    assert [s["id"] for s in plan_body["stages"]] == [last, first, middle]
    assert plan_body["version"] == version + 1


@pytest.mark.parametrize(
    ("make_ids", "pointers"),
    [
        (lambda ids: ids[:2], ["/stage_ids"]),
        (lambda ids: [*ids[:2], ids[0]], ["/stage_ids/2", "/stage_ids"]),
        (lambda ids: [*ids[:2], str(uuid.uuid4())], ["/stage_ids/2", "/stage_ids"]),
        (lambda ids: [*ids, str(uuid.uuid4())], ["/stage_ids/3"]),
    ],
)
def test_reorder_must_list_exactly_the_plans_stages(
    client: TestClient,
    session: Session,
    make_ids: Callable[[list[str]], list[str]],
    pointers: list[str],
) -> None:
    plan = make_plan(session)
    ids = [str(s.id) for s in _stages(session, plan)]
    response = client.post(
        f"{API}/plans/{plan.id}/stages/order",
        json={"stage_ids": make_ids(ids)},
        headers=if_match(_headers(session, plan), plan.version),
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == pointers


def test_reorder_only_while_draft(client: TestClient, session: Session) -> None:
    plan = make_plan(session, active=True)
    ids = [str(s.id) for s in reversed(_stages(session, plan))]
    response = client.post(
        f"{API}/plans/{plan.id}/stages/order",
        json={"stage_ids": ids},
        headers=if_match(_headers(session, plan), plan.version),
    )
    assert response.status_code == 409


def test_add_progression_and_discharge_criteria(client: TestClient, session: Session) -> None:
    plan = make_plan(session)
    stage = _stages(session, plan)[0]
    headers = _headers(session, plan)
    plan_version = _plan_version(client, plan, headers)
    added = client.post(f"{API}/stages/{stage.id}/criteria", json=NEW_CRITERION, headers=headers)
    assert added.status_code == 201, added.text
    body = added.json()
    assert added.headers["location"] == f"{API}/criteria/{body['id']}"
    assert (body["kind"], body["stage_id"], body["position"]) == ("progression", str(stage.id), 1)
    discharge = {**NEW_CRITERION, "mode": "absolute", "involved_side": None, "target": 150}
    url = f"{API}/plans/{plan.id}/discharge-criteria"
    made = client.post(url, json=discharge, headers=headers)
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["stage_id"], made.json()["position"]) == (
        "discharge",
        None,
        2,
    )
    listed = client.get(url, headers=headers)
    assert [c["statement"] for c in listed.json()] == [
        HOP_LSI["statement"],
        PSFS_8["statement"],
        NEW_CRITERION["statement"],
    ]
    assert listed.headers["etag"] == f'"{plan_version + 2}"'
    assert _plan_version(client, plan, headers) == plan_version + 2


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"measure_code": "no_such_measure"}, "/measure_code"),
        ({"measure_code": None, "measure_id": str(uuid.uuid4())}, "/measure_id"),
        ({"measure_code": "psfs"}, "/mode"),
    ],
)
def test_a_criterion_needs_a_known_and_fitting_measure(
    client: TestClient, session: Session, change: dict[str, Any], pointer: str
) -> None:
    plan = make_plan(session)
    stage = _stages(session, plan)[0]
    headers = _headers(session, plan)
    for url in (f"{API}/stages/{stage.id}/criteria", f"{API}/plans/{plan.id}/discharge-criteria"):
        response = client.post(url, json={**NEW_CRITERION, **change}, headers=headers)
        assert response.status_code == 422
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def test_criteria_are_added_only_to_a_draft(client: TestClient, session: Session) -> None:
    plan = make_plan(session, active=True)
    stage = _stages(session, plan)[0]
    headers = _headers(session, plan)
    for url in (f"{API}/stages/{stage.id}/criteria", f"{API}/plans/{plan.id}/discharge-criteria"):
        assert client.post(url, json=NEW_CRITERION, headers=headers).status_code == 409


def test_read_and_update_a_criterion(client: TestClient, session: Session) -> None:
    plan = make_plan(session, active=True)
    criterion = session.scalars(
        select(Criterion).where(Criterion.plan_id == plan.id, Criterion.stage_id.is_(None))
    ).first()
    assert criterion is not None
    headers = _headers(session, plan)
    url = f"{API}/criteria/{criterion.id}"
    read = client.get(url, headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{criterion.version}"'
    assert client.patch(url, json={"target": 95}, headers=headers).status_code == 428
    plan_version = _plan_version(client, plan, headers)
    change = {"comparator": "gt", "target": 95, "sustained_count": 2, "statement": "Better"}
    changed = client.patch(url, json=change, headers=if_match(headers, criterion.version))
    assert changed.status_code == 200, changed.text
    assert {key: changed.json()[key] for key in change} == change
    assert _plan_version(client, plan, headers) == plan_version + 1
    stale = client.patch(url, json={"target": 1}, headers=if_match(headers, criterion.version))
    assert stale.status_code == 412
    fresh = if_match(headers, criterion.version + 1)
    assert client.patch(url, json={"mode": "absolute"}, headers=fresh).status_code == 422
    assert client.patch(url, json={"target": None}, headers=fresh).status_code == 422


def test_delete_a_criterion_closes_up_positions(client: TestClient, session: Session) -> None:
    plan = make_plan(session, stages=[[PAIN_SETTLED, PSFS_8, HOP_LSI]], discharge=[PSFS_8])
    first, middle, last = session.scalars(
        select(Criterion)
        .where(Criterion.stage_id.is_not(None), Criterion.plan_id == plan.id)
        .order_by(Criterion.position)
    ).all()
    headers = _headers(session, plan)
    url = f"{API}/criteria/{middle.id}"
    assert client.delete(url, headers=headers).status_code == 428
    assert client.delete(url, headers=if_match(headers, middle.version)).status_code == 204
    stage = client.get(f"{API}/stages/{first.stage_id}", headers=headers).json()
    assert [(c["id"], c["position"]) for c in stage["criteria"]] == [
        (str(first.id), 0),
        (str(last.id), 1),
    ]
    discharge = client.get(f"{API}/plans/{plan.id}/discharge-criteria", headers=headers).json()
    assert [c["position"] for c in discharge] == [0]


def test_delete_a_criterion_only_while_draft(client: TestClient, session: Session) -> None:
    plan = make_plan(session, active=True)
    criterion = session.scalars(select(Criterion).where(Criterion.plan_id == plan.id)).first()
    assert criterion is not None
    response = client.delete(
        f"{API}/criteria/{criterion.id}", headers=if_match(_headers(session, plan), 1)
    )
    assert response.status_code == 409


def test_an_ended_plans_stages_and_criteria_cannot_change(
    client: TestClient, session: Session
) -> None:
    plan = make_plan(session, status=PlanStatus.discharged, ended_at=datetime.now(UTC))
    stage = _stages(session, plan)[0]
    criterion = session.scalars(select(Criterion).where(Criterion.plan_id == plan.id)).first()
    assert criterion is not None
    headers = if_match(_headers(session, plan), 1)
    stage_change = client.patch(f"{API}/stages/{stage.id}", json={"name": "x"}, headers=headers)
    assert stage_change.status_code == 409
    criterion_change = client.patch(
        f"{API}/criteria/{criterion.id}", json={"target": 1}, headers=headers
    )
    assert criterion_change.status_code == 409


def _every_route(plan: Plan, stage: Stage, criterion: Criterion) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"{API}/plans/{plan.id}/stages", None),
        ("POST", f"{API}/plans/{plan.id}/stages", NEW_STAGE),
        ("POST", f"{API}/plans/{plan.id}/stages/order", {"stage_ids": [str(stage.id)]}),
        ("GET", f"{API}/stages/{stage.id}", None),
        ("PATCH", f"{API}/stages/{stage.id}", {"name": "x"}),
        ("DELETE", f"{API}/stages/{stage.id}", None),
        ("POST", f"{API}/stages/{stage.id}/criteria", NEW_CRITERION),
        ("GET", f"{API}/plans/{plan.id}/discharge-criteria", None),
        ("POST", f"{API}/plans/{plan.id}/discharge-criteria", NEW_CRITERION),
        ("GET", f"{API}/criteria/{criterion.id}", None),
        ("PATCH", f"{API}/criteria/{criterion.id}", {"target": 1}),
        ("DELETE", f"{API}/criteria/{criterion.id}", None),
    ]


def _first(session: Session, plan: Plan) -> tuple[Stage, Criterion]:
    stage = _stages(session, plan)[0]
    criterion = session.scalars(select(Criterion).where(Criterion.stage_id == stage.id)).one()
    return stage, criterion


def _snapshot(session: Session, plan: Plan) -> tuple[Any, ...]:
    session.expire_all()
    stages = session.scalars(select(Stage.version).where(Stage.plan_id == plan.id)).all()
    criteria = session.scalars(select(Criterion.version).where(Criterion.plan_id == plan.id)).all()
    audits = session.scalar(select(func.count()).select_from(AuditEvent))
    return session.get_one(Plan, plan.id).version, sorted(stages), sorted(criteria), audits


def test_another_clinics_user_gets_404_everywhere_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    plan = make_plan(session)
    stage, criterion = _first(session, plan)
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    headers = if_match(auth_headers(stranger), 1)
    before = _snapshot(session, plan)
    for method, url, body in _every_route(plan, stage, criterion):
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == 404, (method, url, response.text)
    assert _snapshot(session, plan) == before


def test_a_patient_reads_their_own_plan_but_every_write_is_403(
    client: TestClient, session: Session
) -> None:
    plan = make_plan(session)
    stage, criterion = _first(session, plan)
    patient = session.get_one(Patient, plan.patient_id)
    me: User = make_user(
        session, clinic=session.get_one(Clinic, plan.clinic_id), role=Role.patient, patient=patient
    )
    neighbour = _headers(session, plan, Role.patient)
    headers = if_match(auth_headers(me), 1)
    before = _snapshot(session, plan)
    for method, url, body in _every_route(plan, stage, criterion):
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == (200 if method == "GET" else 403), (method, url)
        if method == "GET":
            other = client.request(method, url, headers=neighbour)
            assert other.status_code == 404, (method, url)
    assert _snapshot(session, plan) == before


def test_each_child_write_records_one_audit_event_and_moves_the_plan(
    client: TestClient, session: Session
) -> None:
    plan = make_plan(session, stages=[[PAIN_SETTLED]], discharge=[PSFS_8])
    stage, criterion = _first(session, plan)
    clinician = make_user(session, clinic=session.get_one(Clinic, plan.clinic_id))
    headers = auth_headers(clinician)
    version = plan.version
    added = client.post(f"{API}/plans/{plan.id}/stages", json=NEW_STAGE, headers=headers).json()
    client.patch(f"{API}/stages/{stage.id}", json={"name": "n"}, headers=if_match(headers, 1))
    ids = {"stage_ids": [added["id"], str(stage.id)]}
    client.post(
        f"{API}/plans/{plan.id}/stages/order", json=ids, headers=if_match(headers, version + 2)
    )
    made = client.post(f"{API}/stages/{stage.id}/criteria", json=NEW_CRITERION, headers=headers)
    client.post(f"{API}/plans/{plan.id}/discharge-criteria", json=NEW_CRITERION, headers=headers)
    client.patch(f"{API}/criteria/{criterion.id}", json={"target": 3}, headers=if_match(headers, 1))
    client.delete(f"{API}/criteria/{made.json()['id']}", headers=if_match(headers, 1))
    client.delete(f"{API}/stages/{added['id']}", headers=if_match(headers, 2))
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.clinic_id == plan.clinic_id).order_by(AuditEvent.at)
    ).all()
    assert [(e.action, e.entity_type) for e in events] == [
        ("create", "stage"),
        ("update", "stage"),
        ("reorder_stages", "plan"),
        ("create", "criterion"),
        ("create", "criterion"),
        ("update", "criterion"),
        ("delete", "criterion"),
        ("delete", "stage"),
    ]
    assert {e.actor_id for e in events} == {clinician.id}
    assert _plan_version(client, plan, headers) == version + 8
