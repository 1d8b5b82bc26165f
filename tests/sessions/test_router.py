from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.types import Role
from app.observations.models import Observation
from app.plans.models import PlanStatus
from app.prescriptions.models import ExerciseLog, PrescriptionStatus
from app.sessions.models import Adjunct, TreatmentSession
from tests.builders import auth_headers, key_headers, make_api_key, make_patient, make_user
from tests.conftest import StatementCounter
from tests.sessions.builders import make_active_plan, make_care, prescribe

NOW = datetime.now(UTC).replace(microsecond=0)
VISIT_AT = NOW - timedelta(hours=2)


def _url(plan_id: uuid.UUID | str) -> str:
    return f"/api/v1/plans/{plan_id}/sessions"


def _body(prescription_id: uuid.UUID | None = None, **extra: Any) -> dict[str, Any]:
    work = [
        {
            "prescription_id": str(prescription_id),
            "sets": [{"reps": 10, "load_value": 20, "rpe": 7}, {"reps": 9, "load_value": 20}],
            "pain_during": 3,
        }
    ]
    return {
        "occurred_at": VISIT_AT.isoformat(),
        "work": work if prescription_id else [],
        "adjuncts": [
            {"kind": "soft_tissue", "region": "left quadriceps", "minutes": 10},
            {"kind": "ice", "minutes": 5},
        ],
        "pain_before": 4,
        "pain_after": 2,
        "observations": [
            {"measure_code": "pain_nrs", "value": 4, "observed_at": VISIT_AT.isoformat()}
        ],
        "notes": "Tolerated loading well.",
        **extra,
    }


def _count(session: Session, model: type[Any], **where: Any) -> int:
    statement = select(func.count()).select_from(model).filter_by(**where)
    return session.scalar(statement) or 0


def test_create_read_and_list_a_session(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = auth_headers(care.clinician)
    created = client.post(_url(care.plan.id), json=_body(prescription.id), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/sessions/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["number"] == 1
    assert body["clinician_id"] == str(care.clinician.id)
    assert body["patient_id"] == str(care.patient.id)
    (work,) = body["work"]
    assert work["source"] == "clinic"
    assert work["session_id"] == body["id"]
    assert work["version_number"] == 1
    assert work["performed_on"] == VISIT_AT.date().isoformat()
    assert work["pain_during"] == 3
    assert work["pain_before"] == 4
    assert work["sets"][0] == {
        "reps": 10,
        "duration_s": None,
        "distance_m": None,
        "load_value": 20.0,
        "rpe": 7.0,
        "rir": None,
    }
    assert sorted(a["kind"] for a in body["adjuncts"]) == ["ice", "soft_tissue"]
    (observation,) = body["observations"]
    assert observation["source"] == "clinician"
    assert session.get_one(Observation, uuid.UUID(observation["id"])).session_id == uuid.UUID(
        body["id"]
    )
    read = client.get(created.headers["location"], headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body
    listed = client.get(_url(care.plan.id), headers=headers).json()
    assert listed == {"items": [body], "next_cursor": None}


def test_sessions_are_numbered_1_2_3_within_their_plan(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    other_plan = make_active_plan(session, clinician=care.clinician, patient=care.patient)
    headers = auth_headers(care.clinician)
    numbers = [
        client.post(_url(care.plan.id), json=_body(), headers=headers).json()["number"]
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]
    assert client.post(_url(other_plan.id), json=_body(), headers=headers).json()["number"] == 1
    first = client.get(_url(care.plan.id), params={"limit": 2}, headers=headers).json()
    assert [s["number"] for s in first["items"]] == [1, 2]
    rest = client.get(
        _url(care.plan.id), params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [s["number"] for s in rest["items"]] == [3]
    assert rest["next_cursor"] is None


def test_a_bad_observation_rolls_back_the_whole_session(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    bad = _body(prescription.id)
    bad["observations"].append(
        {"measure_code": "pain_nrs", "value": 14, "observed_at": VISIT_AT.isoformat()}
    )
    response = client.post(_url(care.plan.id), json=bad, headers=auth_headers(care.clinician))
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/observations/1/value"]
    assert _count(session, TreatmentSession) == 0
    assert _count(session, ExerciseLog) == 0
    assert _count(session, Adjunct) == 0
    assert _count(session, Observation) == 0
    assert _count(session, AuditEvent) == 0


def test_work_names_active_prescriptions_of_this_plan(client: TestClient, session: Session) -> None:
    care = make_care(session)
    mine = prescribe(session, care.plan)
    stopped = prescribe(session, care.plan, status=PrescriptionStatus.stopped)
    elsewhere = prescribe(
        session, make_active_plan(session, clinician=care.clinician, patient=care.patient)
    )
    body = _body(mine.id)
    body["work"] += [
        {**body["work"][0], "prescription_id": str(stopped.id)},
        {**body["work"][0], "prescription_id": str(elsewhere.id)},
        {**body["work"][0], "prescription_id": str(uuid.uuid4())},
    ]
    response = client.post(_url(care.plan.id), json=body, headers=auth_headers(care.clinician))
    assert response.status_code == 422
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert pointers == [f"/work/{i}/prescription_id" for i in (1, 2, 3)]
    assert _count(session, TreatmentSession) == 0
    assert _count(session, ExerciseLog) == 0


def test_the_clinician_defaults_to_the_caller_and_must_be_clinical_staff(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    url, headers = _url(care.plan.id), auth_headers(care.clinician)
    colleague = make_user(session, clinic=care.clinic, role=Role.admin)
    outsider = make_user(session)
    by_colleague = client.post(url, json=_body(clinician_id=str(colleague.id)), headers=headers)
    assert by_colleague.json()["clinician_id"] == str(colleague.id)
    for wrong in (care.patient_user.id, outsider.id, uuid.uuid4()):
        refused = client.post(url, json=_body(clinician_id=str(wrong)), headers=headers)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/clinician_id"
    _, secret = make_api_key(session, clinic=care.clinic)
    anonymous = client.post(url, json=_body(), headers=key_headers(secret))
    assert anonymous.status_code == 422
    assert anonymous.json()["errors"][0]["pointer"] == "/clinician_id"
    named = client.post(
        url, json=_body(clinician_id=str(care.clinician.id)), headers=key_headers(secret)
    )
    assert named.status_code == 201
    assert _count(session, TreatmentSession) == 2


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (PlanStatus.active, 201),
        (PlanStatus.on_hold, 201),
        (PlanStatus.draft, 409),
        (PlanStatus.discharged, 409),
        (PlanStatus.cancelled, 409),
    ],
)
def test_sessions_need_an_active_or_on_hold_plan(
    client: TestClient, session: Session, status: PlanStatus, expected: int
) -> None:
    care = make_care(session, status=status)
    response = client.post(_url(care.plan.id), json=_body(), headers=auth_headers(care.clinician))
    assert response.status_code == expected, response.text
    assert _count(session, TreatmentSession) == (1 if expected == 201 else 0)


def _set(**fields: Any) -> dict[str, Any]:
    return {"reps": 8, **fields}


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"pain_before": 11}, "/pain_before"),
        ({"pain_after": -1}, "/pain_after"),
        ({"occurred_at": "2026-11-02T09:00:00"}, "/occurred_at"),
        ({"occurred_at": (NOW + timedelta(days=1)).isoformat()}, "/occurred_at"),
        ({"adjuncts": [{"kind": "reiki"}]}, "/adjuncts/0/kind"),
        ({"adjuncts": [{"kind": "heat", "minutes": 0}]}, "/adjuncts/0/minutes"),
        ({"work": [{"prescription_id": "x", "sets": [_set()]}]}, "/work/0/prescription_id"),
        ({"work": [{"sets": [_set(rpe=11)]}]}, "/work/0/sets/0/rpe"),
        ({"work": [{"sets": [_set(rir=6)]}]}, "/work/0/sets/0/rir"),
        ({"work": [{"sets": [_set(reps=501)]}]}, "/work/0/sets/0/reps"),
        ({"work": [{"sets": [{"load_value": 20}]}]}, "/work/0/sets/0"),
        ({"work": [{"sets": [_set(rpe=8, rir=2)]}]}, "/work/0/sets/0"),
        ({"work": [{"sets": []}]}, "/work/0/sets"),
        ({"work": [{"sets": [_set()], "pain_during": 12}]}, "/work/0/pain_during"),
        ({"observations": [{"value": 3}]}, "/observations/0/observed_at"),
        ({"colour": "blue"}, "/colour"),
    ],
)
def test_out_of_range_values_are_422_naming_the_field(
    client: TestClient, session: Session, change: dict[str, Any], pointer: str
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    body = {**_body(), **change}
    for item in body["work"]:
        item.setdefault("prescription_id", str(prescription.id))
    response = client.post(_url(care.plan.id), json=body, headers=auth_headers(care.clinician))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    assert _count(session, TreatmentSession) == 0


def test_patch_needs_if_match_and_changes_only_notes_and_pain_after(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    headers = auth_headers(care.clinician)
    url = client.post(_url(care.plan.id), json=_body(), headers=headers).headers["location"]
    assert client.patch(url, json={"notes": "x"}, headers=headers).status_code == 428
    changed = client.patch(
        url,
        json={"notes": "Sore next day", "pain_after": 3},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert (changed.json()["notes"], changed.json()["pain_after"]) == ("Sore next day", 3)
    assert len(changed.json()["observations"]) == 1
    stale = client.patch(url, json={"notes": "again"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    for field in ({"pain_before": 1}, {"occurred_at": NOW.isoformat()}, {"pain_after": 11}):
        refused = client.patch(url, json=field, headers={**headers, "If-Match": '"2"'})
        assert refused.status_code == 422
    assert client.get(url, headers=headers).json()["notes"] == "Sore next day"


def test_a_patient_reads_their_own_plans_sessions_and_cannot_write(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    url = client.post(
        _url(care.plan.id), json=_body(), headers=auth_headers(care.clinician)
    ).headers["location"]
    mine = {**auth_headers(care.patient_user), "If-Match": '"1"'}
    assert client.get(url, headers=mine).status_code == 200
    assert len(client.get(_url(care.plan.id), headers=mine).json()["items"]) == 1
    assert client.post(_url(care.plan.id), json=_body(), headers=mine).status_code == 403
    assert client.patch(url, json={"notes": "x"}, headers=mine).status_code == 403
    neighbour = make_user(
        session,
        clinic=care.clinic,
        role=Role.patient,
        patient=make_patient(session, clinic=care.clinic),
    )
    theirs = auth_headers(neighbour)
    assert client.get(url, headers=theirs).status_code == 404
    assert client.get(_url(care.plan.id), headers=theirs).status_code == 404
    assert _count(session, TreatmentSession) == 1


def test_another_clinics_users_get_404_everywhere_with_no_side_effect(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    url = client.post(
        _url(care.plan.id), json=_body(prescription.id), headers=auth_headers(care.clinician)
    ).headers["location"]
    stranger = make_user(session, role=Role.admin)
    headers = {**auth_headers(stranger), "If-Match": '"1"'}
    assert client.post(_url(care.plan.id), json=_body(), headers=headers).status_code == 404
    assert client.get(_url(care.plan.id), headers=headers).status_code == 404
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"notes": "x"}, headers=headers).status_code == 404
    assert _count(session, TreatmentSession) == 1
    assert _count(session, AuditEvent, actor_id=stranger.id) == 0
    visit = session.scalars(select(TreatmentSession)).one()
    assert (visit.notes, visit.version) == ("Tolerated loading well.", 1)


def test_each_write_records_exactly_one_audit_event(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = auth_headers(care.clinician)
    created = client.post(_url(care.plan.id), json=_body(prescription.id), headers=headers)
    assert created.status_code == 201
    client.patch(
        created.headers["location"], json={"notes": "n"}, headers={**headers, "If-Match": '"1"'}
    )
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.at)).all()
    assert [(e.action, e.entity_type) for e in events] == [
        ("create", "session"),
        ("update", "session"),
    ]
    assert {str(e.entity_id) for e in events} == {created.json()["id"]}
    assert events[0].details == {"work": 1, "adjuncts": 2, "observations": 1}


def test_listing_costs_the_same_statements_however_many_sessions(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = auth_headers(care.clinician)
    costs = []
    for _ in range(2):
        for _ in range(3):
            client.post(_url(care.plan.id), json=_body(prescription.id), headers=headers)
        statements.reset()
        listed = client.get(_url(care.plan.id), headers=headers)
        assert listed.status_code == 200
        costs.append(len(statements))
    assert len(listed.json()["items"]) == 6
    assert costs[0] == costs[1]
