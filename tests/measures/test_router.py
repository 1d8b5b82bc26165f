from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.measures.models import Measure
from app.users.models import User
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_clinic,
    make_user,
)

URL = "/api/v1/measures"
NEW_MEASURE: dict[str, Any] = {
    "code": "y_balance_anterior",
    "name": "Y-balance test, anterior reach",
    "category": "performance",
    "unit": "cm",
    "min_value": 0,
    "max_value": 150,
    "better": "higher",
    "mcid": 4,
    "bilateral": True,
}

# code: (unit, better, category) for every measure the requirement names.
SHIPPED: dict[str, tuple[str, str, str]] = {
    "pain_nrs": ("{score}", "lower", "pain"),
    "psfs": ("{score}", "higher", "patient_reported_function"),
    "lefs": ("{score}", "higher", "patient_reported_function"),
    "odi": ("%", "lower", "patient_reported_function"),
    "koos_pain": ("{score}", "higher", "patient_reported_function"),
    "koos_symptoms": ("{score}", "higher", "patient_reported_function"),
    "koos_adl": ("{score}", "higher", "patient_reported_function"),
    "koos_sport": ("{score}", "higher", "patient_reported_function"),
    "koos_qol": ("{score}", "higher", "patient_reported_function"),
    "rom": ("deg", "higher", "range_of_motion"),
    "isometric_strength_n": ("N", "higher", "strength"),
    "isometric_strength_kg": ("kg", "higher", "strength"),
    "single_leg_hop": ("cm", "higher", "performance"),
    "triple_hop": ("cm", "higher", "performance"),
    "crossover_hop": ("cm", "higher", "performance"),
    "timed_hop_6m": ("s", "lower", "performance"),
    "single_leg_squat_reps": ("{reps}", "higher", "performance"),
    "heel_raise_reps": ("{reps}", "higher", "performance"),
    "timed_hold": ("s", "higher", "performance"),
}


def _all(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every measure the caller can see, following the cursor to the end."""
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 200, **params, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, params=query, headers=headers)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


def _shipped_id(client: TestClient, headers: dict[str, str], code: str) -> str:
    (measure,) = client.get(URL, params={"code": code}, headers=headers).json()["items"]
    return str(measure["id"])


def _create(client: TestClient, user: User, **overrides: Any) -> Any:
    return client.post(URL, json={**NEW_MEASURE, **overrides}, headers=auth_headers(user))


def _events(session: Session, entity_id: str) -> list[AuditEvent]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.entity_id == uuid.UUID(entity_id))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.scalars(statement))


def test_every_shipped_measure_is_listed_read_only_with_its_unit_direction_and_category(
    client: TestClient, session: Session
) -> None:
    listed = {m["code"]: m for m in _all(client, auth_headers(make_user(session)))}
    for code, (unit, better, category) in SHIPPED.items():
        assert code in listed, code
        measure = listed[code]
        assert (measure["unit"], measure["better"], measure["category"]) == (unit, better, category)
        assert measure["read_only"] is True
        assert measure["clinic_id"] is None
    pain = listed["pain_nrs"]
    assert (pain["loinc"], pain["mcid"], pain["min_value"], pain["max_value"]) == (
        "72514-3",
        2,
        0,
        10,
    )
    assert pain["patient_reportable"] is True
    assert listed["psfs"]["mcid"] == 2
    assert listed["lefs"]["mcid"] == 9
    assert (listed["lefs"]["min_value"], listed["lefs"]["max_value"]) == (0, 80)
    assert listed["single_leg_hop"]["patient_reportable"] is False


def test_cursor_pages_through_the_catalog_once_in_code_order(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_user(session))
    everything = [m["id"] for m in _all(client, headers)]
    seen: list[str] = []
    codes: list[str] = []
    cursor = None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, params=params, headers=headers).json()
        assert len(page["items"]) <= 5
        seen += [m["id"] for m in page["items"]]
        codes += [m["code"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert len(seen) == len(set(seen)) >= len(SHIPPED)
    assert codes == sorted(codes)


def test_filters_by_category_and_code(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_user(session))
    pain = _all(client, headers, category="pain")
    assert pain
    assert {m["category"] for m in pain} == {"pain"}
    assert "pain_nrs" in {m["code"] for m in pain}
    strength = {m["code"] for m in _all(client, headers, category="strength")}
    assert {"isometric_strength_n", "isometric_strength_kg"} <= strength
    assert "pain_nrs" not in strength
    assert [m["code"] for m in _all(client, headers, code="lefs")] == ["lefs"]
    assert _all(client, headers, code="no_such_code") == []
    bad = client.get(URL, params={"category": "mood"}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["parameter"] == "category"


def test_a_clinic_adds_its_own_measure_which_it_alone_sees(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    stranger = make_user(session, clinic=make_clinic(session))
    created = _create(client, clinician)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"{URL}/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["clinic_id"] == str(clinician.clinic_id)
    assert body["read_only"] is False
    assert (body["code"], body["unit"], body["mcid"], body["version"]) == (
        "y_balance_anterior",
        "cm",
        4,
        1,
    )
    read = client.get(created.headers["location"], headers=auth_headers(clinician))
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body
    own = _all(client, auth_headers(clinician), code="y_balance_anterior")
    assert [m["id"] for m in own] == [body["id"]]
    theirs = {m["code"] for m in _all(client, auth_headers(stranger))}
    assert "y_balance_anterior" not in theirs
    assert "pain_nrs" in theirs
    assert client.get(created.headers["location"], headers=auth_headers(stranger)).status_code == (
        404
    )
    # The code is the clinic's own: another clinic may use it too.
    assert _create(client, stranger).status_code == 201


def test_an_integration_key_may_add_a_measure_and_is_audited_as_the_key(
    client: TestClient, session: Session
) -> None:
    key, secret = make_api_key(session)
    created = client.post(URL, json=NEW_MEASURE, headers=key_headers(secret))
    assert created.status_code == 201, created.text
    (event,) = _events(session, created.json()["id"])
    assert (event.actor_type, event.actor_id, event.action) == ("api_key", key.id, "create")


def test_patient_users_read_the_catalog_but_cannot_write_it(
    client: TestClient, session: Session
) -> None:
    me = make_user(session, role=Role.patient)
    headers = auth_headers(me)
    assert any(m["code"] == "pain_nrs" for m in _all(client, headers))
    assert client.post(URL, json=NEW_MEASURE, headers=headers).status_code == 403
    clinician = make_user(session, clinic=session.get_one(Clinic, me.clinic_id))
    url = _create(client, clinician).headers["location"]
    refused = client.patch(url, json={"name": "x"}, headers={**headers, "If-Match": '"1"'})
    assert refused.status_code == 403
    assert client.get(url, headers=headers).json()["name"] == NEW_MEASURE["name"]


@pytest.mark.parametrize("code", ["pain_nrs", "y_balance_anterior"])
def test_a_code_already_in_the_catalog_is_409_naming_code(
    client: TestClient, session: Session, code: str
) -> None:
    clinician = make_user(session)
    assert _create(client, clinician).status_code == 201
    again = _create(client, clinician, code=code)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["errors"][0]["pointer"] == "/code"
    count = select(func.count()).select_from(Measure).where(Measure.code == code)
    assert session.scalar(count) == 1


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"min_value": 10, "max_value": 10}, "/max_value"),
        ({"min_value": 20, "max_value": 10}, "/max_value"),
        ({"code": "Has Spaces"}, "/code"),
        ({"category": "mood"}, "/category"),
        ({"better": "sideways"}, "/better"),
        ({"mcid": 0}, "/mcid"),
        ({"unit": ""}, "/unit"),
        ({"name": ""}, "/name"),
        ({"colour": "blue"}, "/colour"),
    ],
)
def test_bad_measure_is_422_problem_json(
    client: TestClient, session: Session, overrides: dict[str, Any], pointer: str
) -> None:
    response = _create(client, make_user(session), **overrides)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert pointer in [e.get("pointer") for e in body["errors"]]
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("field", ["min_value", "max_value", "mcid"])
def test_a_bound_or_mcid_must_be_finite(client: TestClient, session: Session, field: str) -> None:
    # Python's json (and so the request parser) reads the non-standard Infinity literal.
    raw = json.dumps({**NEW_MEASURE, field: math.inf})
    assert "Infinity" in raw
    headers = {**auth_headers(make_user(session)), "content-type": "application/json"}
    response = client.post(URL, content=raw.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert f"/{field}" in [e.get("pointer") for e in response.json()["errors"]]


def test_the_shipped_measures_refuse_patch(client: TestClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    headers = auth_headers(admin)
    measure_id = _shipped_id(client, headers, "pain_nrs")
    url = f"{URL}/{measure_id}"
    refused = client.patch(url, json={"mcid": 3}, headers={**headers, "If-Match": '"1"'})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=headers).json()["mcid"] == 2
    assert _events(session, measure_id) == []


def test_own_measure_update_needs_if_match_and_refuses_a_stale_one(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    url = _create(client, clinician).headers["location"]
    missing = client.patch(url, json={"mcid": 5}, headers=headers)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    first = client.patch(
        url,
        json={"mcid": 5, "patient_reportable": True},
        headers={**headers, "If-Match": '"1"'},
    )
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"'
    assert (first.json()["mcid"], first.json()["patient_reportable"]) == (5, True)
    assert first.json()["version"] == 2
    stale = client.patch(url, json={"mcid": 6}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=headers).json()["mcid"] == 5


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"name": None}, "/name"),
        ({"patient_reportable": None}, "/patient_reportable"),
        ({"unit": "kg"}, "/unit"),
        ({"mcid": -1}, "/mcid"),
    ],
)
def test_bad_update_is_422_and_changes_nothing(
    client: TestClient, session: Session, payload: dict[str, Any], pointer: str
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    url = _create(client, clinician).headers["location"]
    response = client.patch(url, json=payload, headers={**headers, "If-Match": '"1"'})
    assert response.status_code == 422, response.text
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    read = client.get(url, headers=headers).json()
    assert (read["version"], read["name"], read["unit"]) == (1, NEW_MEASURE["name"], "cm")


def test_another_clinics_user_gets_404_on_our_measure_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    url = _create(client, clinician).headers["location"]
    measure_id = url.rsplit("/", 1)[1]
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    headers = {**auth_headers(stranger), "If-Match": '"1"'}
    assert client.get(url, headers=headers).status_code == 404
    patched = client.patch(url, json={"name": "Theirs"}, headers=headers)
    assert patched.status_code == 404
    assert patched.headers["content-type"] == "application/problem+json"
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=headers).status_code == 404
    read = client.get(url, headers=auth_headers(clinician)).json()
    assert (read["name"], read["version"]) == (NEW_MEASURE["name"], 1)
    assert [e.action for e in _events(session, measure_id)] == ["create"]


def test_each_measure_write_records_exactly_one_audit_event(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    created = client.post(URL, json=NEW_MEASURE, headers=headers)
    url = created.headers["location"]
    client.patch(url, json={"mcid": 5}, headers={**headers, "If-Match": '"1"'})
    client.patch(url, json={"mcid": 6}, headers={**headers, "If-Match": '"1"'})  # stale
    client.patch(url, json={"mcid": 6}, headers=headers)  # no If-Match
    client.post(URL, json=NEW_MEASURE, headers=headers)  # duplicate
    events = _events(session, created.json()["id"])
    assert [e.action for e in events] == ["create", "update"]
    assert {(e.actor_type, e.actor_id, e.entity_type) for e in events} == {
        ("user", clinician.id, "measure")
    }
    assert events[1].details == {"fields": ["mcid"]}
    total = select(func.count()).select_from(AuditEvent)
    assert session.scalar(total.where(AuditEvent.entity_type == "measure")) == 2


def test_unauthenticated_calls_are_401(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=NEW_MEASURE).status_code == 401
