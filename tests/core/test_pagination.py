"""The one cursor codec every list uses (app.core.pagination): what it issues comes back as the
same sort key, and anything else is a 422 naming the `cursor` query parameter, never a 500."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.pagination import InvalidCursor, decode_cursor, encode_cursor
from tests.builders import auth_headers, make_patient, make_user

PATIENTS_URL = "/api/v1/patients"
AN_ID = str(uuid.uuid4())
MALFORMED = [{"parameter": "cursor", "in": "query", "detail": "malformed cursor"}]


def tampered(value: Any) -> str:
    """A cursor as this API writes one, around any JSON value."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def assert_refused(response: Any) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == MALFORMED


def test_a_cursor_brings_back_its_sort_key() -> None:
    key = [datetime(2026, 11, 2, 8, 30, 15, 123, tzinfo=UTC), date(2026, 11, 2), uuid.uuid4()]
    key += [-(2**63), "Split squat", 7]
    types = [datetime, date, uuid.UUID, int, str, int]

    assert decode_cursor(encode_cursor(key), types) == key


@pytest.mark.parametrize(
    ("cursor", "types"),
    [
        (tampered(["not text", 7]), (str, int)),
        (tampered(["Squat\x00", AN_ID]), (str, uuid.UUID)),  # PostgreSQL's text holds no NUL
        (tampered([str(2**63), AN_ID]), (int, uuid.UUID)),  # past what a driver binds
        (tampered(["1.5", AN_ID]), (int, uuid.UUID)),
        (tampered(["2026-13-01", AN_ID]), (date, uuid.UUID)),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(cursor: str, types: tuple[type, ...]) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, types)


def test_a_sort_key_of_a_type_no_cursor_holds_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        decode_cursor(tampered(["1.5"]), (float,))


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "%%%",
        tampered({"created_at": "2026-11-02T08:30:00+00:00"}),
        tampered(["2026-11-02T08:30:00+00:00"]),
        tampered(["2026-11-02T08:30:00+00:00", AN_ID, "more"]),
        tampered(["yesterday", AN_ID]),
        tampered(["2026-11-02T08:30:00", AN_ID]),  # no timezone: unbindable as UTCDateTime
        tampered(["0001-01-01T00:00:00+14:00", AN_ID]),  # before year 1 in UTC
        tampered(["2026-11-02T08:30:00+00:00", 5]),
        tampered(["2026-11-02T08:30:00+00:00", "not-an-id"]),
        tampered([None, AN_ID]),
    ],
)
def test_a_list_refuses_a_cursor_it_did_not_issue(
    client: TestClient, session: Session, cursor: str
) -> None:
    clinician = make_user(session)

    response = client.get(PATIENTS_URL, params={"cursor": cursor}, headers=auth_headers(clinician))

    assert_refused(response)


def test_a_list_pages_by_the_cursor_it_issued(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    for _ in range(5):
        make_patient(session, clinic=session.get_one(Clinic, clinician.clinic_id))
    headers, seen, cursor = auth_headers(clinician), [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(PATIENTS_URL, params=params, headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    everyone = client.get(PATIENTS_URL, params={"limit": 50}, headers=headers).json()["items"]
    assert seen == [item["id"] for item in everyone]
    assert len(seen) == 5
