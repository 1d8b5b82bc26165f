from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.observations.models import Observation
from app.patients.models import Patient
from app.users.models import User
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_assessment,
    make_clinic,
    make_patient,
    make_user,
)
from tests.conftest import StatementCounter

# Relative to the clock, so the observations never drift into the future.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
PAIN_NAME = "Pain, numeric rating scale"


def _url(patient_id: uuid.UUID | str) -> str:
    return f"/api/v1/patients/{patient_id}/observations"


def _obs(code: str = "pain_nrs", value: float = 4, at: datetime = T0, **extra: Any) -> Any:
    return {"measure_code": code, "value": value, "observed_at": at.isoformat(), **extra}


def _clinic(session: Session, user: User) -> Clinic:
    return session.get_one(Clinic, user.clinic_id)


def _setup(session: Session) -> tuple[User, Patient, dict[str, str]]:
    clinician = make_user(session)
    patient = make_patient(session, clinic=_clinic(session, clinician))
    return clinician, patient, auth_headers(clinician)


def _measure_id(client: TestClient, headers: dict[str, str], code: str) -> str:
    (measure,) = client.get("/api/v1/measures", params={"code": code}, headers=headers).json()[
        "items"
    ]
    return str(measure["id"])


def _count(session: Session, model: type[Observation] | type[AuditEvent]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _ids(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["items"]]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_create_one_with_defaults_and_read_it_back(client: TestClient, session: Session) -> None:
    clinician, patient, headers = _setup(session)
    created = client.post(_url(patient.id), json=_obs(value=4), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/observations/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["measure_id"] == _measure_id(client, headers, "pain_nrs")
    assert (body["value"], body["recorded_value"], body["recorded_unit"]) == (4, 4, "{score}")
    assert (body["side"], body["source"], body["assessment_id"]) == ("none", "clinician", None)
    assert (body["recorded_by_type"], body["recorded_by_id"]) == ("user", str(clinician.id))
    assert (body["patient_id"], body["clinic_id"]) == (str(patient.id), str(patient.clinic_id))
    assert _at(body["observed_at"]) == T0
    assert body["entered_in_error_at"] is None
    read = client.get(created.headers["location"], headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body


@pytest.mark.parametrize(("unit", "value", "expected"), [("lb", 100, 45.359237), ("g", 500, 0.5)])
def test_a_value_in_a_convertible_unit_is_stored_in_the_measures_unit(
    client: TestClient, session: Session, unit: str, value: float, expected: float
) -> None:
    _, patient, headers = _setup(session)
    payload = {
        "measure_id": _measure_id(client, headers, "isometric_strength_kg"),
        "value": value,
        "unit": unit,
        "side": "left",
        "observed_at": T0.isoformat(),
        "source": "patient",
    }
    created = client.post(_url(patient.id), json=payload, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["value"] == pytest.approx(expected)
    assert (body["recorded_value"], body["recorded_unit"]) == (value, unit)
    assert (body["side"], body["source"]) == ("left", "patient")


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        (_obs("isometric_strength_kg", 20, unit="cm"), "/unit"),
        (_obs("isometric_strength_n", 200, unit="kg"), "/unit"),
        (_obs("pain_nrs", 4, unit="furlong"), "/unit"),
        (_obs("pain_nrs", 11), "/value"),
        (_obs("pain_nrs", -1), "/value"),
        (_obs("isometric_strength_kg", 1200, unit="lb"), "/value"),
        (_obs(at=datetime.now(UTC) + timedelta(days=1)), "/observed_at"),
        ({**_obs(), "observed_at": "2026-10-01T09:00:00"}, "/observed_at"),
        (_obs("no_such_measure"), "/measure_code"),
        ({**_obs(), "measure_code": None, "measure_id": str(uuid.uuid4())}, "/measure_id"),
        (_obs(side="up"), "/side"),
        (_obs(source="family"), "/source"),
        (_obs(colour="blue"), "/colour"),
        ({"measure_code": "pain_nrs", "observed_at": T0.isoformat()}, "/value"),
    ],
)
def test_bad_observation_is_422_naming_the_field_and_records_nothing(
    client: TestClient, session: Session, payload: dict[str, Any], pointer: str
) -> None:
    _, patient, headers = _setup(session)
    response = client.post(_url(patient.id), json=payload, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    assert _count(session, Observation) == 0
    assert _count(session, AuditEvent) == 0


def test_a_value_outside_the_range_names_the_measure(client: TestClient, session: Session) -> None:
    _, patient, headers = _setup(session)
    response = client.post(_url(patient.id), json=_obs(value=11), headers=headers)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["pointer"] == "/value"
    assert PAIN_NAME in error["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        {"value": 4, "observed_at": T0.isoformat()},
        {**_obs(), "measure_id": str(uuid.uuid4())},
    ],
)
def test_exactly_one_measure_reference_is_required(
    client: TestClient, session: Session, payload: dict[str, Any]
) -> None:
    _, patient, headers = _setup(session)
    response = client.post(_url(patient.id), json=payload, headers=headers)
    assert response.status_code == 422
    assert "measure_id" in response.text


def test_a_batch_lands_whole_in_one_transaction(client: TestClient, session: Session) -> None:
    _, patient, headers = _setup(session)
    batch = {
        "observations": [
            _obs("pain_nrs", 3),
            _obs("single_leg_hop", 142, side="left"),
            _obs("single_leg_hop", 1.6, unit="m", side="right"),
        ]
    }
    created = client.post(f"{_url(patient.id)}/batch", json=batch, headers=headers)
    assert created.status_code == 201, created.text
    items = created.json()["items"]
    assert [(o["value"], o["side"]) for o in items] == [
        (3, "none"),
        (142, "left"),
        (pytest.approx(160), "right"),
    ]
    assert sorted(_ids(client, _url(patient.id), headers)) == sorted(o["id"] for o in items)
    assert _count(session, Observation) == 3


def test_a_batch_with_one_bad_item_records_nothing(client: TestClient, session: Session) -> None:
    _, patient, headers = _setup(session)
    batch = {
        "observations": [
            _obs("pain_nrs", 3),
            _obs("single_leg_hop", 142, side="left"),
            _obs("pain_nrs", 12),
        ]
    }
    response = client.post(f"{_url(patient.id)}/batch", json=batch, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == ["/observations/2/value"]
    assert PAIN_NAME in response.json()["errors"][0]["detail"]
    assert _count(session, Observation) == 0
    assert _count(session, AuditEvent) == 0
    empty = client.post(f"{_url(patient.id)}/batch", json={"observations": []}, headers=headers)
    assert empty.status_code == 422
    assert "/observations" in [e["pointer"] for e in empty.json()["errors"]]


def test_a_batch_costs_the_same_statements_however_big(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    _, patient, headers = _setup(session)
    costs = []
    for size in (2, 20):
        batch = [_obs("pain_nrs", i % 10, T0 + timedelta(minutes=i)) for i in range(size)]
        statements.reset()
        response = client.post(
            f"{_url(patient.id)}/batch", json={"observations": batch}, headers=headers
        )
        assert response.status_code == 201, response.text
        costs.append(len(statements))
    assert costs[0] == costs[1]


def test_list_filters_by_measure_side_and_time_range(client: TestClient, session: Session) -> None:
    _, patient, headers = _setup(session)
    other = make_patient(session, clinic=session.get_one(Clinic, patient.clinic_id))
    url = _url(patient.id)
    batch = [
        _obs("pain_nrs", 5, T0),
        _obs("single_leg_hop", 120, T0 + timedelta(days=1), side="left"),
        _obs("single_leg_hop", 150, T0 + timedelta(days=2), side="right"),
        _obs("pain_nrs", 3, T0 + timedelta(days=3)),
    ]
    items = client.post(f"{url}/batch", json={"observations": batch}, headers=headers).json()
    ids = [o["id"] for o in items["items"]]
    client.post(_url(other.id), json=_obs("pain_nrs", 9, T0), headers=headers)
    assert _ids(client, url, headers) == ids  # oldest first, only this patient's
    pain = _measure_id(client, headers, "pain_nrs")
    assert _ids(client, url, headers, measure_id=pain) == [ids[0], ids[3]]
    assert _ids(client, url, headers, side="left") == [ids[1]]
    assert _ids(client, url, headers, side="none") == [ids[0], ids[3]]
    since = (T0 + timedelta(days=1)).isoformat()
    until = (T0 + timedelta(days=3)).isoformat()
    assert _ids(client, url, headers, since=since) == ids[1:]
    assert _ids(client, url, headers, until=until) == ids[:3]
    assert _ids(client, url, headers, since=since, until=until) == ids[1:3]
    hop = _measure_id(client, headers, "single_leg_hop")
    assert _ids(client, url, headers, measure_id=hop, side="right", since=since) == [ids[2]]


def test_list_pages_through_every_observation_once(client: TestClient, session: Session) -> None:
    _, patient, headers = _setup(session)
    batch = [_obs("pain_nrs", i % 10, T0 + timedelta(hours=i // 2)) for i in range(7)]
    client.post(f"{_url(patient.id)}/batch", json={"observations": batch}, headers=headers)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(_url(patient.id), params=params, headers=headers).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"since": "2026-10-01T00:00:00"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"side": "up"}, "side"),
        ({"measure_id": "pain_nrs"}, "measure_id"),
        ({"cursor": "@@@"}, "cursor"),
    ],
)
def test_bad_list_filters_are_422(
    client: TestClient, session: Session, params: dict[str, str], parameter: str
) -> None:
    _, patient, headers = _setup(session)
    response = client.get(_url(patient.id), params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == parameter


def test_entered_in_error_needs_if_match_and_hides_it_from_the_default_list(
    client: TestClient, session: Session
) -> None:
    clinician, patient, headers = _setup(session)
    created = client.post(_url(patient.id), json=_obs(), headers=headers)
    url = f"{created.headers['location']}/entered-in-error"
    reason = {"reason": "recorded on the wrong patient"}
    missing = client.post(url, json=reason, headers=headers)
    assert missing.status_code == 428
    stale = client.post(url, json=reason, headers={**headers, "If-Match": '"7"'})
    assert stale.status_code == 412
    no_reason = client.post(url, json={}, headers={**headers, "If-Match": '"1"'})
    assert no_reason.status_code == 422
    marked = client.post(url, json=reason, headers={**headers, "If-Match": '"1"'})
    assert marked.status_code == 200, marked.text
    assert marked.headers["etag"] == '"2"'
    assert marked.json()["entered_in_error_at"] is not None
    assert marked.json()["entered_in_error_reason"] == reason["reason"]
    assert _ids(client, _url(patient.id), headers) == []
    shown = _ids(client, _url(patient.id), headers, include_entered_in_error=True)
    assert shown == [created.json()["id"]]
    again = client.post(url, json=reason, headers={**headers, "If-Match": '"2"'})
    assert again.status_code == 409
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == uuid.UUID(created.json()["id"]))
    ).all()
    assert sorted(e.action for e in events) == ["create", "entered_in_error"]
    assert {e.actor_id for e in events} == {clinician.id}


def test_a_patient_user_records_patient_reported_measures_for_themself(
    client: TestClient, session: Session
) -> None:
    me = make_user(session, role=Role.patient)
    assert me.patient_id is not None
    headers = auth_headers(me)
    url = _url(me.patient_id)
    pain = client.post(url, json=_obs("pain_nrs", 6, source="clinician"), headers=headers)
    assert pain.status_code == 201, pain.text
    assert (pain.json()["source"], pain.json()["recorded_by_id"]) == ("patient", str(me.id))
    psfs = client.post(url, json=_obs("psfs", 4.5), headers=headers)
    assert psfs.status_code == 201, psfs.text
    assert psfs.json()["source"] == "patient"
    hop = client.post(url, json=_obs("single_leg_hop", 120, side="left"), headers=headers)
    assert hop.status_code == 403
    assert hop.headers["content-type"] == "application/problem+json"
    batch = {"observations": [_obs("pain_nrs", 2), _obs("timed_hop_6m", 2.5, side="left")]}
    assert client.post(f"{url}/batch", json=batch, headers=headers).status_code == 403
    assert sorted(_ids(client, url, headers)) == sorted([pain.json()["id"], psfs.json()["id"]])
    assert _count(session, Observation) == 2


def test_a_patient_user_cannot_reach_another_patients_observations(
    client: TestClient, session: Session
) -> None:
    me = make_user(session, role=Role.patient)
    clinician = make_user(session, clinic=_clinic(session, me))
    neighbour = make_patient(session, clinic=_clinic(session, me))
    theirs = client.post(_url(neighbour.id), json=_obs(), headers=auth_headers(clinician))
    headers = {**auth_headers(me), "If-Match": '"1"'}
    assert client.get(_url(neighbour.id), headers=headers).status_code == 404
    assert client.post(_url(neighbour.id), json=_obs(), headers=headers).status_code == 404
    batch = {"observations": [_obs()]}
    assert client.post(f"{_url(neighbour.id)}/batch", json=batch, headers=headers).status_code == (
        404
    )
    assert client.get(theirs.headers["location"], headers=headers).status_code == 404
    assert _count(session, Observation) == 1


def test_a_patient_user_cannot_mark_entered_in_error(client: TestClient, session: Session) -> None:
    me = make_user(session, role=Role.patient)
    assert me.patient_id is not None
    headers = {**auth_headers(me), "If-Match": '"1"'}
    created = client.post(_url(me.patient_id), json=_obs(), headers=headers)
    marked = client.post(
        f"{created.headers['location']}/entered-in-error", json={"reason": "oops"}, headers=headers
    )
    assert marked.status_code == 403
    assert client.get(created.headers["location"], headers=headers).json()["version"] == 1


def test_assessment_link_must_be_this_patients_assessment(
    client: TestClient, session: Session
) -> None:
    clinician, patient, headers = _setup(session)
    own = make_assessment(session, patient=patient, clinician=clinician)
    neighbour = make_patient(session, clinic=_clinic(session, clinician))
    theirs = make_assessment(session, patient=neighbour, clinician=clinician)
    stranger_assessment = make_assessment(session)
    linked = client.post(_url(patient.id), json=_obs(assessment_id=str(own.id)), headers=headers)
    assert linked.status_code == 201, linked.text
    assert linked.json()["assessment_id"] == str(own.id)
    for wrong in (theirs.id, stranger_assessment.id, uuid.uuid4()):
        refused = client.post(
            _url(patient.id), json=_obs(assessment_id=str(wrong)), headers=headers
        )
        assert refused.status_code == 422
        assert [e["pointer"] for e in refused.json()["errors"]] == ["/assessment_id"]
    assert _count(session, Observation) == 1


def test_another_clinics_user_gets_404_everywhere_with_no_side_effect(
    client: TestClient, session: Session
) -> None:
    _, patient, headers = _setup(session)
    created = client.post(_url(patient.id), json=_obs(), headers=headers)
    location = created.headers["location"]
    before = (_count(session, Observation), _count(session, AuditEvent))
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    theirs = {**auth_headers(stranger), "If-Match": '"1"'}
    responses = [
        client.get(_url(patient.id), headers=theirs),
        client.post(_url(patient.id), json=_obs(), headers=theirs),
        client.post(f"{_url(patient.id)}/batch", json={"observations": [_obs()]}, headers=theirs),
        client.get(location, headers=theirs),
        client.post(f"{location}/entered-in-error", json={"reason": "x"}, headers=theirs),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert {r.headers["content-type"] for r in responses} == {"application/problem+json"}
    assert (_count(session, Observation), _count(session, AuditEvent)) == before
    read = client.get(location, headers=headers).json()
    assert (read["version"], read["entered_in_error_at"]) == (1, None)


def test_another_clinics_own_measure_cannot_be_recorded(
    client: TestClient, session: Session
) -> None:
    ours = make_user(session)
    measure = client.post(
        "/api/v1/measures",
        json={
            "code": "grip_dynamometer",
            "name": "Grip",
            "category": "strength",
            "unit": "kg",
            "better": "higher",
        },
        headers=auth_headers(ours),
    ).json()
    theirs, patient, headers = _setup(session)
    assert theirs.clinic_id != ours.clinic_id
    by_id = {"measure_id": measure["id"], "value": 30, "observed_at": T0.isoformat()}
    refused = client.post(_url(patient.id), json=by_id, headers=headers)
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/measure_id"]
    by_code = client.post(_url(patient.id), json=_obs("grip_dynamometer", 30), headers=headers)
    assert [e["pointer"] for e in by_code.json()["errors"]] == ["/measure_code"]


def test_exactly_one_audit_event_per_created_observation(
    client: TestClient, session: Session
) -> None:
    key, secret = make_api_key(session)
    patient = make_patient(session, clinic=session.get_one(Clinic, key.clinic_id))
    headers = key_headers(secret)
    one = client.post(_url(patient.id), json=_obs(), headers=headers)
    assert one.status_code == 201, one.text
    assert one.json()["recorded_by_type"] == "api_key"
    batch = {"observations": [_obs("pain_nrs", 2), _obs("psfs", 6), _obs("lefs", 50)]}
    many = client.post(f"{_url(patient.id)}/batch", json=batch, headers=headers)
    client.post(_url(patient.id), json=_obs(value=99), headers=headers)  # refused
    created = [one.json()["id"], *(o["id"] for o in many.json()["items"])]
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "observation"))
    rows = [(str(e.entity_id), e.action, e.actor_type, e.actor_id) for e in events]
    assert sorted(rows) == sorted((i, "create", "api_key", key.id) for i in created)


def test_unauthenticated_calls_are_401(client: TestClient, session: Session) -> None:
    patient = make_patient(session)
    assert client.get(_url(patient.id)).status_code == 401
    assert client.post(_url(patient.id), json=_obs()).status_code == 401
