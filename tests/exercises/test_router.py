from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.exercises.models import Exercise
from app.users.models import User
from tests.builders import auth_headers, key_headers, make_api_key, make_clinic, make_user

URL = "/api/v1/exercises"
CATEGORIES = {"strength", "mobility", "plyometric", "balance", "conditioning", "motor_control"}
REGIONS = {"knee", "hip", "ankle_foot", "shoulder", "elbow_wrist", "spine", "neck"}
NEW_EXERCISE: dict[str, Any] = {
    "name": "Reverse Nordic",
    "description": "Kneeling upright, lean the trunk back in line with the thighs, then return.",
    "body_region": "knee",
    "body": "lower_body",
    "category": "strength",
    "dosing": "reps",
    "equipment": "none",
    "media_urls": ["https://videos.example.org/reverse-nordic.mp4"],
}


def _all(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every exercise the caller can see, following the cursor to the end."""
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


def _names(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    return [e["name"] for e in _all(client, headers, **params)]


def _shipped(client: TestClient, headers: dict[str, str], name: str) -> dict[str, Any]:
    (exercise,) = [e for e in _all(client, headers, q=name) if e["name"] == name]
    assert exercise["read_only"] is True
    return exercise


def _create(client: TestClient, user: User, **overrides: Any) -> Any:
    return client.post(URL, json={**NEW_EXERCISE, **overrides}, headers=auth_headers(user))


def _events(session: Session, entity_id: str) -> list[AuditEvent]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.entity_id == uuid.UUID(entity_id))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.scalars(statement))


def _pointers(response: Any) -> list[str | None]:
    return [e.get("pointer") for e in response.json()["errors"]]


def test_the_starter_library_ships_at_least_40_read_only_exercises_in_every_category(
    client: TestClient, session: Session
) -> None:
    listed = _all(client, auth_headers(make_user(session)))
    shipped = {e["name"]: e for e in listed if e["clinic_id"] is None}
    assert len(shipped) >= 40
    assert {e["category"] for e in shipped.values()} == CATEGORIES
    assert {e["body_region"] for e in shipped.values()} >= REGIONS
    assert {e["dosing"] for e in shipped.values()} == {"reps", "time", "distance"}
    for exercise in shipped.values():
        assert exercise["read_only"] is True
        assert exercise["media_urls"] == []
        assert exercise["description"].strip()
        assert exercise["equipment"] == exercise["equipment"].lower()
    expected = {
        # name: (region, body, category, dosing, equipment)
        "Back squat": ("knee", "lower_body", "strength", "reps", "barbell"),
        "Wall sit": ("knee", "lower_body", "strength", "time", "none"),
        "Nordic hamstring curl": ("knee", "lower_body", "strength", "reps", "none"),
        "Copenhagen plank": ("hip", "lower_body", "strength", "time", "bench"),
        "Single-leg calf raise": ("ankle_foot", "lower_body", "strength", "reps", "step"),
        "Pogo hops": ("ankle_foot", "lower_body", "plyometric", "reps", "none"),
        "Single-leg balance": ("ankle_foot", "lower_body", "balance", "time", "none"),
        "Walk-run intervals": ("whole_body", "lower_body", "conditioning", "distance", "none"),
        "Shoulder external rotation with band": (
            "shoulder",
            "upper_body",
            "strength",
            "reps",
            "band",
        ),
        "Tyler twist": ("elbow_wrist", "upper_body", "strength", "reps", "flexible bar"),
        "Front plank": ("spine", "upper_body", "strength", "time", "none"),
        "Cat-camel": ("spine", "upper_body", "mobility", "reps", "none"),
        "Chin tuck": ("neck", "upper_body", "motor_control", "reps", "none"),
    }
    for name, fields in expected.items():
        exercise = shipped[name]
        got = tuple(exercise[k] for k in ("body_region", "body", "category", "dosing", "equipment"))
        assert got == fields, name


def test_cursor_pages_through_the_library_once_in_name_order(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    assert _create(client, clinician).status_code == 201
    everything = [e["id"] for e in _all(client, headers)]
    seen: list[str] = []
    names: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, params=params, headers=headers).json()
        assert len(page["items"]) <= 7
        seen += [e["id"] for e in page["items"]]
        names += [e["name"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert len(seen) == len(set(seen)) >= 41
    # The full order is the database's collation; the leading characters agree everywhere.
    initials = [name[0].upper() for name in names]
    assert initials == sorted(initials)
    bad = client.get(URL, params={"cursor": "not-a-cursor"}, headers=headers)
    assert bad.status_code == 422


def test_search_by_part_of_the_name_in_any_case(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_user(session))
    squats = _names(client, headers, q="SQUAT")
    assert {"Split squat", "Bulgarian split squat", "Goblet squat", "Back squat"} <= set(squats)
    assert "Spanish squat" in squats
    assert all("squat" in name.lower() for name in squats)
    assert _names(client, headers, q="calf raise") == [
        n for n in _names(client, headers) if "calf raise" in n.lower()
    ]
    # LIKE wildcards are literal characters, not patterns.
    assert _names(client, headers, q="%") == []
    assert _names(client, headers, q="_") == []
    assert _names(client, headers, q="no such exercise") == []


def test_search_by_region_category_and_dosing_with_cursor_paging(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_user(session))
    knee = _all(client, headers, body_region="knee")
    assert {e["body_region"] for e in knee} == {"knee"}
    assert {"Spanish squat", "Wall sit", "Leg press"} <= {e["name"] for e in knee}
    assert [e["id"] for e in _all(client, headers, body_region=" KNEE ")] == [e["id"] for e in knee]
    plyometric = _all(client, headers, category="plyometric")
    assert {e["category"] for e in plyometric} == {"plyometric"}
    assert {"Drop jump", "Countermovement jump", "Lateral bounds"} <= {
        e["name"] for e in plyometric
    }
    distance = _all(client, headers, dosing="distance")
    assert {e["dosing"] for e in distance} == {"distance"}
    assert "Walk-run intervals" in {e["name"] for e in distance}
    combined = _names(client, headers, body_region="shoulder", category="strength", dosing="time")
    assert "Isometric mid-range external rotation" in combined
    assert "Shoulder external rotation with band" not in combined
    # A filtered list pages like the whole one.
    paged: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "body_region": "knee"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(URL, params=params, headers=headers).json()
        paged += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [e["id"] for e in knee]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("category", "cardio"), ("dosing", "sets"), ("q", "x" * 201), ("body_region", "x" * 51)],
)
def test_a_bad_filter_is_422_naming_the_parameter(
    client: TestClient, session: Session, parameter: str, value: str
) -> None:
    response = client.get(URL, params={parameter: value}, headers=auth_headers(make_user(session)))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == parameter


def test_a_clinic_adds_its_own_exercise_which_it_alone_sees(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    stranger = make_user(session, clinic=make_clinic(session))
    created = _create(client, clinician, body_region=" Knee ", equipment="Box")
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"{URL}/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["clinic_id"] == str(clinician.clinic_id)
    assert (body["read_only"], body["version"]) == (False, 1)
    assert (body["name"], body["body_region"], body["equipment"]) == (
        "Reverse Nordic",
        "knee",
        "box",
    )
    assert body["media_urls"] == NEW_EXERCISE["media_urls"]
    read = client.get(created.headers["location"], headers=auth_headers(clinician))
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body
    assert body["id"] in {
        e["id"] for e in _all(client, auth_headers(clinician), body_region="knee")
    }
    assert _names(client, auth_headers(clinician), q="reverse nor") == ["Reverse Nordic"]
    theirs = _all(client, auth_headers(stranger))
    assert body["id"] not in {e["id"] for e in theirs}
    assert "Goblet squat" in {e["name"] for e in theirs}
    assert _names(client, auth_headers(stranger), q="reverse nor") == []
    stranger_read = client.get(created.headers["location"], headers=auth_headers(stranger))
    assert stranger_read.status_code == 404
    # The name is the clinic's own: another clinic may use it too.
    assert _create(client, stranger).status_code == 201


def test_a_shipped_exercise_reads_by_id(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_user(session))
    shipped = _shipped(client, headers, "Goblet squat")
    read = client.get(f"{URL}/{shipped['id']}", headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == shipped


def test_an_integration_key_may_add_an_exercise_and_is_audited_as_the_key(
    client: TestClient, session: Session
) -> None:
    key, secret = make_api_key(session)
    created = client.post(URL, json=NEW_EXERCISE, headers=key_headers(secret))
    assert created.status_code == 201, created.text
    assert created.json()["clinic_id"] == str(key.clinic_id)
    (event,) = _events(session, created.json()["id"])
    assert (event.actor_type, event.actor_id, event.action, event.entity_type) == (
        "api_key",
        key.id,
        "create",
        "exercise",
    )


def test_patient_users_read_the_library_but_cannot_write_it(
    client: TestClient, session: Session
) -> None:
    me = make_user(session, role=Role.patient)
    headers = auth_headers(me)
    assert "Goblet squat" in _names(client, headers)
    shipped = _shipped(client, headers, "Goblet squat")
    assert client.get(f"{URL}/{shipped['id']}", headers=headers).status_code == 200
    refused = client.post(URL, json=NEW_EXERCISE, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    clinician = make_user(session, clinic=session.get_one(Clinic, me.clinic_id))
    url = _create(client, clinician).headers["location"]
    assert client.get(url, headers=headers).status_code == 200
    patched = client.patch(url, json={"name": "Mine"}, headers={**headers, "If-Match": '"1"'})
    assert patched.status_code == 403
    assert client.get(url, headers=headers).json()["name"] == NEW_EXERCISE["name"]
    assert (
        session.scalar(
            select(func.count()).select_from(Exercise).where(Exercise.clinic_id == me.clinic_id)
        )
        == 1
    )


@pytest.mark.parametrize(
    "name", ["Goblet squat", "GOBLET SQUAT", "Reverse Nordic", "reverse nordic"]
)
def test_a_name_already_in_the_library_is_409_naming_name(
    client: TestClient, session: Session, name: str
) -> None:
    clinician = make_user(session)
    assert _create(client, clinician).status_code == 201
    again = _create(client, clinician, name=name)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert _pointers(again) == ["/name"]
    count = (
        select(func.count()).select_from(Exercise).where(func.lower(Exercise.name) == name.lower())
    )
    assert session.scalar(count) == 1


def test_renaming_to_a_taken_name_is_409_and_keeping_ones_own_name_is_not(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    url = _create(client, clinician).headers["location"]
    taken = client.patch(url, json={"name": "Wall sit"}, headers={**headers, "If-Match": '"1"'})
    assert taken.status_code == 409
    assert _pointers(taken) == ["/name"]
    same = client.patch(
        url, json={"name": "Reverse nordic"}, headers={**headers, "If-Match": '"1"'}
    )
    assert same.status_code == 200, same.text
    assert same.json()["name"] == "Reverse nordic"


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"media_urls": ["not a url"]}, "/media_urls/0"),
        ({"media_urls": ["ftp://files.example.org/clip.mp4"]}, "/media_urls/0"),
        ({"media_urls": ["https://ok.example.org/a", "javascript:alert(1)"]}, "/media_urls/1"),
        ({"media_urls": [f"https://v.example.org/{i}" for i in range(11)]}, "/media_urls"),
        ({"category": "cardio"}, "/category"),
        ({"dosing": "sets"}, "/dosing"),
        ({"body": "whole_body"}, "/body"),
        ({"name": ""}, "/name"),
        ({"name": "x" * 201}, "/name"),
        ({"description": " "}, "/description"),
        ({"body_region": ""}, "/body_region"),
        ({"equipment": ""}, "/equipment"),
        ({"colour": "blue"}, "/colour"),
    ],
)
def test_bad_exercise_is_422_problem_json(
    client: TestClient, session: Session, overrides: dict[str, Any], pointer: str
) -> None:
    response = _create(client, make_user(session), **overrides)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in _pointers(response)
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(
    "missing", ["name", "description", "body_region", "body", "category", "dosing"]
)
def test_a_required_field_left_out_is_422(
    client: TestClient, session: Session, missing: str
) -> None:
    payload = {k: v for k, v in NEW_EXERCISE.items() if k != missing}
    response = client.post(URL, json=payload, headers=auth_headers(make_user(session)))
    assert response.status_code == 422
    assert f"/{missing}" in _pointers(response)


def test_equipment_and_media_default_when_left_out(client: TestClient, session: Session) -> None:
    payload = {k: v for k, v in NEW_EXERCISE.items() if k not in {"equipment", "media_urls"}}
    created = client.post(URL, json=payload, headers=auth_headers(make_user(session)))
    assert created.status_code == 201, created.text
    assert (created.json()["equipment"], created.json()["media_urls"]) == ("none", [])


def test_the_shipped_exercises_refuse_patch(client: TestClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    headers = auth_headers(admin)
    shipped = _shipped(client, headers, "Wall sit")
    url = f"{URL}/{shipped['id']}"
    refused = client.patch(url, json={"dosing": "reps"}, headers={**headers, "If-Match": '"1"'})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=headers).json() == shipped
    assert _events(session, shipped["id"]) == []


def test_own_exercise_update_needs_if_match_and_refuses_a_stale_one(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    url = _create(client, clinician).headers["location"]
    change = {"dosing": "time", "media_urls": [], "equipment": "Slant board"}
    missing = client.patch(url, json=change, headers=headers)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    first = client.patch(url, json=change, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"'
    body = first.json()
    assert (body["dosing"], body["media_urls"], body["equipment"], body["version"]) == (
        "time",
        [],
        "slant board",
        2,
    )
    assert body["name"] == NEW_EXERCISE["name"]
    stale = client.patch(url, json={"dosing": "reps"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=headers).json()["dosing"] == "time"


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        *[
            ({field: None}, f"/{field}")
            for field in (
                "name",
                "description",
                "body_region",
                "body",
                "category",
                "dosing",
                "equipment",
                "media_urls",
            )
        ],
        ({"media_urls": ["mailto:someone@example.org"]}, "/media_urls/0"),
        ({"read_only": True}, "/read_only"),
        ({"clinic_id": None}, "/clinic_id"),
    ],
)
def test_bad_update_is_422_and_changes_nothing(
    client: TestClient, session: Session, payload: dict[str, Any], pointer: str
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    created = _create(client, clinician).json()
    url = f"{URL}/{created['id']}"
    response = client.patch(url, json=payload, headers={**headers, "If-Match": '"1"'})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in _pointers(response)
    assert client.get(url, headers=headers).json() == created


def test_another_clinics_user_gets_404_on_our_exercise_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    created = _create(client, clinician).json()
    url = f"{URL}/{created['id']}"
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    headers = {**auth_headers(stranger), "If-Match": '"1"'}
    read = client.get(url, headers=headers)
    assert read.status_code == 404
    assert read.headers["content-type"] == "application/problem+json"
    patched = client.patch(url, json={"name": "Theirs"}, headers=headers)
    assert patched.status_code == 404
    assert patched.headers["content-type"] == "application/problem+json"
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=headers).status_code == 404
    assert client.get(url, headers=auth_headers(clinician)).json() == created
    assert [e.action for e in _events(session, created["id"])] == ["create"]


def test_each_exercise_write_records_exactly_one_audit_event(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    created = client.post(URL, json=NEW_EXERCISE, headers=headers)
    url = created.headers["location"]
    client.patch(url, json={"category": "mobility"}, headers={**headers, "If-Match": '"1"'})
    client.patch(url, json={"dosing": "time"}, headers={**headers, "If-Match": '"1"'})  # stale
    client.patch(url, json={"dosing": "time"}, headers=headers)  # no If-Match
    client.patch(url, json={"name": None}, headers={**headers, "If-Match": '"2"'})  # invalid
    client.post(URL, json=NEW_EXERCISE, headers=headers)  # duplicate
    events = _events(session, created.json()["id"])
    assert [e.action for e in events] == ["create", "update"]
    assert {(e.actor_type, e.actor_id, e.entity_type) for e in events} == {
        ("user", clinician.id, "exercise")
    }
    assert events[1].details == {"fields": ["category"]}
    total = select(func.count()).select_from(AuditEvent)
    assert session.scalar(total.where(AuditEvent.entity_type == "exercise")) == 2


def test_unauthenticated_calls_are_401(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{uuid.uuid4()}").status_code == 401
    assert client.post(URL, json=NEW_EXERCISE).status_code == 401
