from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.users.models import User
from tests.builders import auth_headers, key_headers, make_api_key, make_user

URL = "/api/v1/audit-events"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _event(session: Session, clinic_id: uuid.UUID, **overrides: object) -> AuditEvent:
    fields: dict[str, object] = {
        "at": T0,
        "actor_type": "user",
        "actor_id": uuid.uuid4(),
        "action": "update",
        "entity_type": "patient",
        "entity_id": uuid.uuid4(),
        "details": {"fields": ["notes"]},
    }
    event = AuditEvent(clinic_id=clinic_id, **{**fields, **overrides})
    session.add(event)
    session.flush()
    return event


def _ids(client: TestClient, headers: dict[str, str], **params: str | int | bool) -> list[str]:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()["items"]]


def _admin(session: Session) -> User:
    return make_user(session, role=Role.admin)


def test_lists_the_writes_of_the_clinic_with_every_field(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    created = client.post(
        "/api/v1/patients",
        json={"display_name": "Ada", "date_of_birth": "1985-12-10"},
        headers=headers,
    )
    stranger = _admin(session)
    client.post("/api/v1/api-keys", json={"name": "x"}, headers=auth_headers(stranger))
    items = client.get(URL, headers=headers).json()["items"]
    assert len(items) == 1
    item = items[0]
    assert set(item) == {
        "id",
        "at",
        "actor_type",
        "actor_id",
        "action",
        "entity_type",
        "entity_id",
        "details",
    }
    assert (item["actor_type"], item["actor_id"]) == ("user", str(admin.id))
    assert (item["action"], item["entity_type"]) == ("create", "patient")
    assert item["entity_id"] == created.json()["id"]
    assert item["at"].endswith(("Z", "+00:00"))
    assert len(client.get(URL, headers=auth_headers(stranger)).json()["items"]) == 1


def test_filters_by_entity_and_time(client: TestClient, session: Session) -> None:
    admin = _admin(session)
    clinic = admin.clinic_id
    target = uuid.uuid4()
    early = _event(session, clinic, entity_id=target, at=T0)
    late = _event(session, clinic, entity_id=target, at=T0 + timedelta(hours=2))
    user_event = _event(session, clinic, entity_type="user", at=T0 + timedelta(hours=1))
    _event(session, make_user(session).clinic_id, entity_id=target, at=T0)
    headers = auth_headers(admin)
    assert _ids(client, headers) == [str(early.id), str(user_event.id), str(late.id)]
    assert _ids(client, headers, entity_type="user") == [str(user_event.id)]
    assert _ids(client, headers, entity_id=str(target)) == [str(early.id), str(late.id)]
    hour = T0 + timedelta(hours=1)
    assert _ids(client, headers, since=hour.isoformat()) == [str(user_event.id), str(late.id)]
    assert _ids(client, headers, until=hour.isoformat()) == [str(early.id)]
    in_paris = (T0 + timedelta(minutes=30)).astimezone(timezone(timedelta(hours=1))).isoformat()
    assert in_paris.endswith("+01:00")
    assert _ids(client, headers, since=in_paris, entity_id=str(target)) == [str(late.id)]
    assert _ids(client, headers, entity_type="patient", until="2026-11-02T09:00:01Z") == [
        str(early.id)
    ]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"since": "2026-11-02T09:00:00"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"entity_id": "not-a-uuid"}, "entity_id"),
        ({"cursor": "@@@"}, "cursor"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(
    client: TestClient, session: Session, params: dict[str, str], parameter: str
) -> None:
    response = client.get(URL, params=params, headers=auth_headers(_admin(session)))
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == parameter


def test_cursor_pages_through_every_event_once(client: TestClient, session: Session) -> None:
    admin = _admin(session)
    made = [
        str(_event(session, admin.clinic_id, at=T0 + timedelta(minutes=i % 3)).id) for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, params=params, headers=auth_headers(admin)).json()
        seen += [e["id"] for e in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("caller", ["clinician", "patient", "integration", "api_key"])
def test_non_admins_get_403(client: TestClient, session: Session, caller: str) -> None:
    clinic = make_user(session, role=Role.admin).clinic_id
    owner = session.get_one(Clinic, clinic)
    _event(session, clinic)
    if caller == "api_key":
        headers = key_headers(make_api_key(session, clinic=owner)[1])
    else:
        headers = auth_headers(make_user(session, clinic=owner, role=Role(caller)))
    response = client.get(URL, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_anonymous_gets_401(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
