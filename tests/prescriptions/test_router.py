from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assessments.models import Driver
from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.plans.models import Plan, PlanStatus
from app.prescriptions.models import Prescription, PrescriptionVersion
from app.rules.progression import Dosing
from tests.builders import (
    auth_headers,
    make_clinic,
    make_exercise,
    make_exercise_log,
    make_prescription,
    make_user,
)
from tests.plans.plan_builders import make_plan
from tests.prescriptions import API, if_match, patient_user, prescription_url, setup

TODAY = datetime.now(UTC).date()


def _plan_version(session: Session, plan: Plan) -> int:
    return session.scalars(select(Plan.version).where(Plan.id == plan.id)).one()


def _versions(session: Session, prescription_id: uuid.UUID | str) -> int:
    statement = select(func.count()).where(
        PrescriptionVersion.prescription_id == uuid.UUID(str(prescription_id))
    )
    return session.scalar(statement) or 0


def test_prescribe_read_and_list(client: TestClient, session: Session) -> None:
    s = setup(session)
    plan_version = _plan_version(session, s.plan)
    payload = s.payload(tempo=[3, 1, 1, 0], rest_s=90, target_rir=2, instructions="Slowly down")
    created = client.post(s.prescriptions_url, json=payload, headers=s.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == prescription_url(body["id"])
    assert created.headers["etag"] == '"1"'
    assert (body["plan_id"], body["stage_id"]) == (str(s.plan.id), str(s.stage_id))
    assert body["patient_id"] == str(s.plan.patient_id)
    assert body["exercise"]["dosing"] == "reps"
    assert body["exercise"]["name"] == s.exercise.name
    assert body["current"]["tempo"] == [3, 1, 1, 0]
    assert (body["current"]["load_unit"], body["current"]["load_value"]) == ("kg", 40)
    [first] = body["versions"]
    assert (first["number"], first["reason"], first["rule"]) == (1, "initial prescription", None)
    assert first["effective_on"] == TODAY.isoformat()
    assert first["created_by_id"] == str(s.clinician.id)
    assert first["parameters"] == body["current"]
    assert _plan_version(session, s.plan) == plan_version + 1
    assert client.get(created.headers["location"], headers=s.headers).json() == body
    listed = client.get(s.prescriptions_url, headers=s.headers).json()
    assert listed == {"items": [body], "next_cursor": None}


def test_the_list_pages_through_every_prescription_once(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    made = {str(make_prescription(session, plan=s.plan).id) for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(s.prescriptions_url, params=params, headers=s.headers).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_a_range_band_and_time_dosing_are_accepted(client: TestClient, session: Session) -> None:
    s = setup(session)
    ranged = s.payload(reps=8, reps_min=8, reps_max=12)
    assert client.post(s.prescriptions_url, json=ranged, headers=s.headers).status_code == 201
    band = s.payload(load_unit="band", load_value=None, band="medium", side="left")
    assert client.post(s.prescriptions_url, json=band, headers=s.headers).status_code == 201
    plank = make_exercise(session, dosing=Dosing.time, name="Side plank")
    held = s.payload(exercise_id=str(plank.id), reps=None, duration_s=30, load_unit="bodyweight")
    response = client.post(
        s.prescriptions_url, json={**held, "load_value": None}, headers=s.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["current"]["duration_s"] == 30


def test_a_prescription_needs_a_driver_the_plan_targets(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    other_plan = make_plan(session, clinician=s.clinician)
    untargeted = session.scalars(
        select(Driver.id).where(Driver.assessment_id == other_plan.assessment_id)
    ).one()
    for payload in (s.payload(driver_id=None), s.payload(driver_id=str(untargeted))):
        response = client.post(s.prescriptions_url, json=payload, headers=s.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "/driver_id" in [e["pointer"] for e in response.json()["errors"]]
    assert session.scalar(select(func.count()).select_from(Prescription)) == 0


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"sets": 0}, "/sets"),
        ({"sets": 21}, "/sets"),
        ({"target_rpe": 11}, "/target_rpe"),
        ({"target_rir": 6}, "/target_rir"),
        ({"target_rpe": 8, "target_rir": 2}, "/target_rir"),
        ({"tempo": [3, 1, 1]}, "/tempo"),
        ({"tempo": [3, 1, 1, 11]}, "/tempo/3"),
        ({"rest_s": 601}, "/rest_s"),
        ({"sessions_per_week": 15}, "/sessions_per_week"),
        ({"reps": None}, "/reps"),
        ({"reps": 13, "reps_min": 8, "reps_max": 12}, "/reps"),
        ({"reps_min": 8}, "/reps_max"),
        ({"duration_s": 30}, "/duration_s"),
        ({"load_value": None}, "/load_value"),
        ({"load_value": 0}, "/load_value"),
        ({"load_unit": "bodyweight"}, "/load_value"),
        ({"load_unit": "band", "load_value": None, "band": "purple"}, "/band"),
        ({"load_unit": "stone"}, "/load_unit"),
        ({"side": "up"}, "/side"),
        ({"instructions": "x" * 2001}, "/instructions"),
        ({"colour": "red"}, "/colour"),
        ({"exercise_id": str(uuid.uuid4())}, "/exercise_id"),
    ],
)
def test_out_of_range_parameters_are_refused_naming_the_field(
    client: TestClient, session: Session, fields: dict[str, Any], pointer: str
) -> None:
    s = setup(session)
    payload = {**s.payload(), **fields}
    response = client.post(s.prescriptions_url, json=payload, headers=s.headers)
    assert response.status_code == 422, response.text
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("dosing", "fields", "pointer"),
    [
        (Dosing.time, {"duration_s": 30}, "/reps"),
        (Dosing.time, {"reps": None}, "/duration_s"),
        (Dosing.distance, {"reps": None, "duration_s": 30}, "/distance_m"),
        (Dosing.distance, {"reps": None, "distance_m": 20, "reps_min": 1}, "/reps_min"),
    ],
)
def test_parameters_follow_the_exercise_dosing(
    client: TestClient, session: Session, dosing: Dosing, fields: dict[str, Any], pointer: str
) -> None:
    s = setup(session)
    exercise = make_exercise(session, dosing=dosing)
    payload = {**s.payload(exercise_id=str(exercise.id)), **fields}
    response = client.post(s.prescriptions_url, json=payload, headers=s.headers)
    assert response.status_code == 422, response.text
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_another_clinics_exercise_and_stage_are_not_usable(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    foreign = make_exercise(session, clinic=make_clinic(session))
    payload = s.payload(exercise_id=str(foreign.id))
    response = client.post(s.prescriptions_url, json=payload, headers=s.headers)
    assert response.json()["errors"][0]["pointer"] == "/exercise_id"
    own = make_exercise(session, clinic=session.get_one(Clinic, s.plan.clinic_id))
    payload = s.payload(exercise_id=str(own.id))
    assert client.post(s.prescriptions_url, json=payload, headers=s.headers).status_code == 201
    other_plan = make_plan(session, clinician=s.clinician)
    wrong_stage = f"{API}/plans/{other_plan.id}/stages/{s.stage_id}/prescriptions"
    assert client.post(wrong_stage, json=s.payload(), headers=s.headers).status_code == 404


def test_an_ended_plan_takes_no_prescription(client: TestClient, session: Session) -> None:
    s = setup(session)
    prescription = make_prescription(session, plan=s.plan)
    s.plan.status = PlanStatus.cancelled
    session.flush()
    assert client.post(s.prescriptions_url, json=s.payload(), headers=s.headers).status_code == 409
    change = {"sets": 4, "reason": "more volume"}
    url = prescription_url(prescription.id)
    assert client.patch(url, json=change, headers=if_match(s.headers, 1)).status_code == 409


def test_a_change_is_a_new_version_and_the_old_stays(client: TestClient, session: Session) -> None:
    s = setup(session)
    url = prescription_url(make_prescription(session, plan=s.plan, effective_on=TODAY).id)
    change = {"reps": 10, "tempo": [3, 0, 1, 0], "reason": "Easy at 8 reps"}
    assert client.patch(url, json=change, headers=s.headers).status_code == 428
    changed = client.patch(url, json=change, headers=if_match(s.headers, 1))
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    assert [v["number"] for v in body["versions"]] == [1, 2]
    old, new = body["versions"]
    assert (old["parameters"]["reps"], new["parameters"]["reps"]) == (8, 10)
    assert new["parameters"]["load_value"] == 40  # unchanged ones are copied
    assert (new["reason"], new["rule"], new["created_by_type"]) == ("Easy at 8 reps", None, "user")
    assert body["current"] == new["parameters"]
    stale = client.patch(url, json={**change, "reps": 12}, headers=if_match(s.headers, 1))
    assert stale.status_code == 412
    no_reason = client.patch(url, json={"reps": 12}, headers=if_match(s.headers, 2))
    assert no_reason.json()["errors"][0]["pointer"] == "/reason"
    backdated = {"reps": 12, "reason": "backdated", "effective_on": str(TODAY - timedelta(1))}
    refused = client.patch(url, json=backdated, headers=if_match(s.headers, 2))
    assert refused.json()["errors"][0]["pointer"] == "/effective_on"
    wrong = client.patch(
        url, json={"duration_s": 30, "reason": "x" * 3}, headers=if_match(s.headers, 2)
    )
    assert wrong.json()["errors"][0]["pointer"] == "/duration_s"
    same = client.patch(url, json={"reps": 10, "reason": "same"}, headers=if_match(s.headers, 2))
    assert same.json()["errors"][0]["pointer"] == "/"
    assert _versions(session, body["id"]) == 2


def test_stop_keeps_the_versions_and_refuses_later_changes(
    client: TestClient, session: Session
) -> None:
    s = setup(session)
    url = prescription_url(make_prescription(session, plan=s.plan).id)
    assert (
        client.post(f"{url}/stop", json={"reason": "Pain free"}, headers=s.headers).status_code
        == 428
    )
    stopped = client.post(
        f"{url}/stop", json={"reason": "Pain free"}, headers=if_match(s.headers, 1)
    )
    assert stopped.status_code == 200, stopped.text
    body = stopped.json()
    assert (body["status"], body["stop_reason"], len(body["versions"])) == (
        "stopped",
        "Pain free",
        1,
    )
    assert body["stopped_at"] is not None
    change = {"sets": 4, "reason": "more volume"}
    assert client.patch(url, json=change, headers=if_match(s.headers, 2)).status_code == 409
    again = client.post(f"{url}/stop", json={"reason": "again"}, headers=if_match(s.headers, 2))
    assert again.status_code == 409
    progress = {"parameters": {"sets": 4}, "reason": "more volume"}
    assert (
        client.post(f"{url}/progress", json=progress, headers=if_match(s.headers, 2)).status_code
        == 409
    )


def test_another_clinics_users_get_404_everywhere(client: TestClient, session: Session) -> None:
    s = setup(session)
    prescription = make_prescription(session, plan=s.plan)
    make_exercise_log(session, prescription, 10, 10, 10)
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    headers = if_match(auth_headers(stranger), 1)
    url = prescription_url(prescription.id)
    plan_url = f"{API}/plans/{s.plan.id}"
    calls = [
        client.post(s.prescriptions_url, json=s.payload(), headers=headers),
        client.get(s.prescriptions_url, headers=headers),
        client.get(url, headers=headers),
        client.patch(url, json={"sets": 4, "reason": "more"}, headers=headers),
        client.post(f"{url}/stop", json={"reason": "done"}, headers=headers),
        client.get(f"{url}/suggestion", headers=headers),
        client.post(f"{url}/progress", json={"apply_suggestion": True}, headers=headers),
        client.get(f"{plan_url}/program", headers=headers),
        client.get(f"{plan_url}/program/history", headers=headers),
    ]
    assert [c.status_code for c in calls] == [404] * len(calls)
    assert session.scalar(select(func.count()).select_from(Prescription)) == 1
    assert _versions(session, prescription.id) == 1
    assert session.get_one(Prescription, prescription.id).version == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_patient_reads_their_own_prescriptions_only(client: TestClient, session: Session) -> None:
    s = setup(session)
    mine = make_prescription(session, plan=s.plan)
    neighbour = setup(session)
    theirs = make_prescription(session, plan=neighbour.plan)
    me = patient_user(session, s.plan)
    headers = if_match(auth_headers(me), 1)
    url = prescription_url(mine.id)
    assert client.get(url, headers=headers).status_code == 200
    listed = client.get(s.prescriptions_url, headers=headers).json()["items"]
    assert [p["id"] for p in listed] == [str(mine.id)]
    assert client.get(f"{API}/plans/{s.plan.id}/program", headers=headers).status_code == 200
    assert client.get(prescription_url(theirs.id), headers=headers).status_code == 404
    refused = [
        client.post(s.prescriptions_url, json=s.payload(), headers=headers),
        client.patch(url, json={"sets": 4, "reason": "more"}, headers=headers),
        client.post(f"{url}/stop", json={"reason": "done"}, headers=headers),
        client.get(f"{url}/suggestion", headers=headers),
        client.post(f"{url}/progress", json={"apply_suggestion": True}, headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert refused[0].headers["content-type"] == "application/problem+json"


def test_each_write_records_exactly_one_audit_event(client: TestClient, session: Session) -> None:
    s = setup(session)
    created = client.post(s.prescriptions_url, json=s.payload(), headers=s.headers).json()
    url = prescription_url(created["id"])
    client.patch(url, json={"reps": 9, "reason": "step up"}, headers=if_match(s.headers, 1))
    client.patch(url, json={"reps": 9, "reason": "stale"}, headers=if_match(s.headers, 1))
    own = {"parameters": {"reps": 10}, "reason": "step up again"}
    client.post(f"{url}/progress", json=own, headers=if_match(s.headers, 2))
    client.post(f"{url}/progress", json={"apply_suggestion": True}, headers=if_match(s.headers, 3))
    client.post(f"{url}/stop", json={"reason": "done"}, headers=if_match(s.headers, 3))
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_id == uuid.UUID(created["id"]))
        .order_by(AuditEvent.at)
    ).all()
    assert [e.action for e in events] == ["create", "update", "progress", "stop"]
    assert {e.entity_type for e in events} == {"prescription"}
    assert {e.actor_id for e in events} == {s.clinician.id}
