from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.accountability import worklist
from app.accountability.schemas import WorklistItemRead
from app.clinics.models import Clinic
from app.core.auth import Actor
from app.core.pagination import PageParams
from app.core.schemas import Page
from app.core.types import Role
from app.patients.models import Patient
from app.plans.models import AttentionRank, Plan, PlanStatus, Stage
from app.projections import compute
from app.users.models import User
from tests.accountability.builders import (
    BULK_RANKS,
    TODAY,
    WORKLIST_URL,
    bulk_plans,
    ids,
    listed,
    well_run_plan,
)
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_patient,
    make_user,
)
from tests.conftest import StatementCounter
from tests.core.test_pagination import AN_ID, assert_refused, tampered
from tests.plans.plan_builders import make_plan

YESTERDAY, TOMORROW = TODAY - timedelta(days=1), TODAY + timedelta(days=1)


def flagged(
    session: Session,
    clinician: User,
    *,
    rank: AttentionRank = AttentionRank.none,
    codes: tuple[str, ...] = (),
    due_on: Any = TOMORROW,
    status: PlanStatus = PlanStatus.active,
) -> Plan:
    """A plan whose stored attention is set by hand, as the projection stores it when the plan
    was audited before its stage's due day: after the plan is built and projected, with a Core
    UPDATE, which feeds no projection."""
    clinic = session.get_one(Clinic, clinician.clinic_id)
    plan = make_plan(session, clinician=clinician, patient=make_patient(session, clinic=clinic))
    plan.status = status
    session.commit()
    session.execute(
        update(Plan)
        .where(Plan.id == plan.id)
        .values(
            attention_rank=rank.value,
            attention_codes=list(codes),
            reassessment_due=rank is AttentionRank.reassessment_due,
            ready_to_advance=rank is AttentionRank.ready_to_advance,
            ready_to_discharge=rank is AttentionRank.ready_to_discharge,
            stage_due_on=due_on,
            pending_overdue_on=due_on if rank.value in compute.LATER else None,
        )
    )
    return plan


def in_order(*plans: Plan) -> list[str]:
    """Plans of one rank are listed by id."""
    return [str(p.id) for p in sorted(plans, key=lambda p: p.id)]


@pytest.fixture
def board(session: Session) -> dict[str, Any]:
    clinician = make_user(session)
    clinic = session.get_one(Clinic, clinician.clinic_id)
    colleague = make_user(session, clinic=clinic)
    plans = {
        "due": flagged(session, clinician, rank=AttentionRank.reassessment_due, codes=("STALLED",)),
        "advance": flagged(session, clinician, rank=AttentionRank.ready_to_advance),
        "discharge": flagged(session, clinician, rank=AttentionRank.ready_to_discharge),
        "overdue": flagged(session, clinician, due_on=YESTERDAY),
        "overdue_too": flagged(
            session,
            clinician,
            rank=AttentionRank.findings,
            codes=("NOT_PROGRESSING",),
            due_on=YESTERDAY,
        ),
        "findings": flagged(
            session, clinician, rank=AttentionRank.findings, codes=("OVER_SESSION_ESTIMATE",)
        ),
        "quiet": flagged(session, clinician),
        "on_hold": flagged(
            session, clinician, rank=AttentionRank.reassessment_due, status=PlanStatus.on_hold
        ),
        "colleagues": flagged(session, colleague, rank=AttentionRank.reassessment_due),
        "elsewhere": flagged(session, make_user(session), rank=AttentionRank.reassessment_due),
    }
    admin = make_user(session, clinic=clinic, role=Role.admin)
    return {"clinician": clinician, "colleague": colleague, "admin": admin, **plans}


def test_a_clinicians_worklist_lists_their_plans_most_urgent_first(
    client: TestClient, board: dict[str, Any]
) -> None:
    items = listed(client, board["clinician"])

    assert ids(items) == [
        str(board["due"].id),
        str(board["advance"].id),
        str(board["discharge"].id),
        *in_order(board["overdue"], board["overdue_too"]),
        str(board["findings"].id),
    ]
    reasons = [item["reason"] for item in items]
    assert reasons == [
        "reassessment_due",
        "ready_to_advance",
        "ready_to_discharge",
        "overdue",
        "overdue",
        "findings",
    ]
    due = items[0]
    assert due["flags"] == {
        "reassessment_due": True,
        "ready_to_advance": False,
        "ready_to_discharge": False,
        "overdue": False,
    }
    assert due["attention_codes"] == ["STALLED"]
    assert "STALLED" in due["detail"]
    plan: Plan = board["due"]
    assert (due["patient_id"], due["clinician_id"]) == (
        str(plan.patient_id),
        str(plan.clinician_id),
    )
    assert due["patient_name"].startswith("Patient ")
    assert due["status"] == "active"
    overdue = next(i for i in items if i["plan_id"] == str(board["overdue"].id))
    assert overdue["flags"]["overdue"] is True
    assert overdue["stage_due_on"] == YESTERDAY.isoformat()
    assert YESTERDAY.isoformat() in overdue["detail"]


def test_an_admin_sees_the_whole_clinic_and_may_filter_by_clinician(
    client: TestClient, board: dict[str, Any]
) -> None:
    everyone = ids(listed(client, board["admin"]))
    assert str(board["colleagues"].id) in everyone[:2]
    assert len(everyone) == 7
    assert str(board["elsewhere"].id) not in everyone
    assert str(board["on_hold"].id) not in everyone

    theirs = listed(client, board["admin"], clinician_id=str(board["colleague"].id))
    assert ids(theirs) == [str(board["colleagues"].id)]


def test_filtering_by_one_attention_code(client: TestClient, board: dict[str, Any]) -> None:
    clinician = board["clinician"]
    assert ids(listed(client, clinician, code="STALLED")) == [str(board["due"].id)]
    assert ids(listed(client, clinician, code="NOT_PROGRESSING")) == [str(board["overdue_too"].id)]
    overdue = listed(client, clinician, code="MILESTONE_OVERDUE")
    assert ids(overdue) == in_order(board["overdue"], board["overdue_too"])
    assert listed(client, clinician, code="PASSIVE_ONLY") == []


def test_pages_follow_the_keyset(client: TestClient, board: dict[str, Any]) -> None:
    headers = auth_headers(board["admin"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(WORKLIST_URL, params=params, headers=headers).json()
        seen += ids(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids(listed(client, board["admin"]))


def test_refusals(client: TestClient, session: Session, board: dict[str, Any]) -> None:
    clinician = board["clinician"]
    colleague_id = str(board["colleague"].id)
    other = client.get(
        WORKLIST_URL, params={"clinician_id": colleague_id}, headers=auth_headers(clinician)
    )
    assert other.status_code == 403
    own = listed(client, clinician, clinician_id=str(clinician.id))
    assert len(own) == 6
    clinic = session.get_one(Clinic, clinician.clinic_id)
    patient = make_user(session, clinic=clinic, role=Role.patient)
    assert client.get(WORKLIST_URL, headers=auth_headers(patient)).status_code == 403
    bad_code = client.get(WORKLIST_URL, params={"code": "LATE"}, headers=auth_headers(clinician))
    assert bad_code.status_code == 422
    bad_cursor = client.get(
        WORKLIST_URL, params={"cursor": "nonsense"}, headers=auth_headers(clinician)
    )
    assert bad_cursor.status_code == 422
    assert bad_cursor.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        tampered({"rank": "0"}),
        tampered(["0"]),
        tampered([0, AN_ID]),  # numbers, not the text the codec writes
        tampered(["urgent", AN_ID]),
        tampered(["0", "not-an-id"]),
        tampered(["-1", AN_ID]),  # no such rank
        tampered([str(AttentionRank.none.value + 1), AN_ID]),
        tampered(["9" * 40, AN_ID]),
    ],
)
def test_a_cursor_the_worklist_did_not_issue_is_refused(
    client: TestClient, board: dict[str, Any], cursor: str
) -> None:
    response = client.get(
        WORKLIST_URL, params={"cursor": cursor}, headers=auth_headers(board["clinician"])
    )

    assert_refused(response)


def test_an_integration_key_reads_the_clinics_worklist(
    client: TestClient, session: Session, board: dict[str, Any]
) -> None:
    clinic = session.get_one(Clinic, board["clinician"].clinic_id)
    _, secret = make_api_key(session, clinic=clinic)

    response = client.get(WORKLIST_URL, headers=key_headers(secret))

    assert response.status_code == 200
    assert len(response.json()["items"]) == 7


def _expected(i: int) -> int | None:
    """The rank the worklist lists plan i at, or None when it is not listed."""
    rank = BULK_RANKS[i % len(BULK_RANKS)]
    if i % 11 == 0:
        return None
    if rank > AttentionRank.overdue and i % 7 == 0:
        return AttentionRank.overdue
    return None if rank is AttentionRank.none else rank


def _page_statements(
    client: TestClient, statements: StatementCounter, user: User, **params: Any
) -> tuple[int, list[dict[str, Any]]]:
    statements.reset()
    response = client.get(WORKLIST_URL, params={"limit": 50, **params}, headers=auth_headers(user))
    assert response.status_code == 200, response.text
    return len(statements), response.json()["items"]


def test_a_page_costs_the_same_statements_for_ten_plans_as_for_a_thousand(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    small_admin, _ = bulk_plans(session, 10)
    admin, clinician = bulk_plans(session, 1000)

    small_cost, _ = _page_statements(client, statements, small_admin)
    cost, items = _page_statements(client, statements, admin)

    assert cost == small_cost == 2  # the caller, then the page
    ranks = [(_rank_of(item), item["plan_id"]) for item in items]
    assert ranks == sorted(ranks)
    assert len(items) == 50
    assert {item["reason"] for item in items} == {"reassessment_due"}
    expected = Counter(_expected(i) for i in range(1000) if _expected(i) is not None)
    everyone = _walk(client, admin)
    assert Counter(_rank_of(item) for item in everyone) == expected
    keys = [(_rank_of(item), item["plan_id"]) for item in everyone]
    assert keys == sorted(keys)
    mine = _walk(client, clinician)
    assert {item["clinician_id"] for item in mine} == {str(clinician.id)}
    assert len(mine) == sum(1 for i in range(0, 1000, 2) if _expected(i) is not None)
    stalled_cost, _ = _page_statements(client, statements, admin, code="STALLED")
    assert stalled_cost == 2
    stalled = _walk(client, admin, code="STALLED")
    assert len(stalled) == expected[AttentionRank.reassessment_due]
    assert all(item["attention_codes"] == ["STALLED"] for item in stalled)


REASON_RANKS = {
    "reassessment_due": 0,
    "ready_to_advance": 1,
    "ready_to_discharge": 2,
    "overdue": 3,
    "findings": 4,
}


def _rank_of(item: dict[str, Any]) -> int:
    return REASON_RANKS[item["reason"]]


def _walk(client: TestClient, user: User, **filters: Any) -> list[dict[str, Any]]:
    headers, cursor, items = auth_headers(user), None, []
    while True:
        params = {"limit": 200, **filters, **({"cursor": cursor} if cursor else {})}
        page = client.get(WORKLIST_URL, params=params, headers=headers).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_the_page_is_page_of_worklist_item_read_byte_for_byte(
    client: TestClient, session: Session, board: dict[str, Any]
) -> None:
    """Whatever a name or a timestamp holds, the bytes are the model's own."""
    name = 'Zoë "Zed" \\ O\'Brien — 🦵\t'
    patient_id = board["due"].patient_id
    session.execute(update(Patient).where(Patient.id == patient_id).values(display_name=name))
    audited = {
        "advance": datetime(2026, 11, 2, 8, 30, tzinfo=UTC),
        "findings": datetime(2026, 11, 2, 8, 30, 15, 123456, tzinfo=UTC),
    }
    for key in ("due", "advance", "discharge", "overdue", "overdue_too", "findings"):
        plan = update(Plan).where(Plan.id == board[key].id)
        session.execute(plan.values(audited_at=audited.get(key)))
    for limit in (3, 50):
        response = client.get(
            WORKLIST_URL, params={"limit": limit}, headers=auth_headers(board["clinician"])
        )

        assert response.headers["content-type"] == "application/json"
        page = Page[WorklistItemRead].model_validate_json(response.content)
        assert response.content == page.model_dump_json().encode()
    assert page.items[0].patient_name == name
    assert {item.current_stage_id for item in page.items} == {None}
    assert [item.audited_at for item in page.items] == [
        None,
        audited["advance"],
        None,
        None,
        None,
        audited["findings"],
    ]


def test_a_plan_audited_past_its_stages_due_day_is_stored_overdue(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session)
    stage = session.get_one(Stage, built.plan.current_stage_id)
    stage.started_on = TODAY - timedelta(weeks=7)  # of 6

    (item,) = listed(client, built.clinician)  # the commit before the request projects it

    assert session.get_one(Plan, built.plan.id).attention_rank == AttentionRank.overdue
    assert (item["reason"], item["attention_codes"]) == ("overdue", ["MILESTONE_OVERDUE"])
    assert item["flags"]["overdue"] is True


def test_stored_and_calendar_overdue_plans_are_one_block_in_id_order(
    client: TestClient, session: Session, board: dict[str, Any]
) -> None:
    """Plans stored overdue (audited after their due day) and plans the calendar made overdue
    since their audit are listed together, by id, page after page."""
    clinician = board["clinician"]
    stored = [
        flagged(session, clinician, rank=AttentionRank.overdue, due_on=TODAY - timedelta(days=9))
        for _ in range(4)
    ]
    overdue = [*stored, board["overdue"], board["overdue_too"]]
    headers, cursor, seen = auth_headers(clinician), None, []
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(WORKLIST_URL, params=params, headers=headers).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [i["plan_id"] for i in seen if i["reason"] == "overdue"] == in_order(*overdue)
    assert [i["reason"] for i in seen] == [
        "reassessment_due",
        "ready_to_advance",
        "ready_to_discharge",
        *["overdue"] * 6,
        "findings",
    ]


def test_the_calendar_alone_makes_a_plan_overdue(session: Session, board: dict[str, Any]) -> None:
    """No write, no housekeeping: the day after the stage's due day, the page lists it overdue."""
    actor = Actor(clinic_id=board["clinician"].clinic_id, role=Role.admin)
    page = PageParams(limit=50, cursor=None)
    session.flush()

    def reasons(today: date) -> dict[str, str]:
        found = worklist.search(session.connection(), actor, page, today=today)
        return {str(item.plan_id): item.reason.value for item in found.items}

    later = TOMORROW + timedelta(days=1)
    assert reasons(TODAY)[str(board["findings"].id)] == "findings"
    assert str(board["quiet"].id) not in reasons(TODAY)
    assert reasons(later)[str(board["findings"].id)] == "overdue"
    assert reasons(later)[str(board["quiet"].id)] == "overdue"
    assert reasons(later)[str(board["due"].id)] == "reassessment_due"


def test_every_page_costs_two_statements_for_clinicians_and_admins(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    admin, clinician = bulk_plans(session, 300)

    for user in (admin, clinician):
        cost, _ = _page_statements(client, statements, user)
        assert cost == 2  # the caller, then the page
        cursor = None
        for _ in range(4):  # into the overdue block and past it
            params = {"limit": 40, **({"cursor": cursor} if cursor else {})}
            cost, items = _page_statements(client, statements, user, **params)
            assert cost == 2
            assert items
            cursor = _cursor_after(client, user, params)
        cost, _ = _page_statements(client, statements, user, clinician_id=str(clinician.id))
        assert cost == 2


def _cursor_after(client: TestClient, user: User, params: dict[str, Any]) -> str:
    page = client.get(WORKLIST_URL, params=params, headers=auth_headers(user)).json()
    cursor: str = page["next_cursor"]
    return cursor


@pytest.mark.parametrize(
    ("rank", "due_on", "stored", "pending"),
    [
        (AttentionRank.findings, TOMORROW, AttentionRank.findings, TOMORROW),
        (AttentionRank.none, TODAY, AttentionRank.none, TODAY),
        (AttentionRank.findings, YESTERDAY, AttentionRank.overdue, None),
        (AttentionRank.none, YESTERDAY, AttentionRank.overdue, None),
        (AttentionRank.ready_to_advance, YESTERDAY, AttentionRank.ready_to_advance, None),
        (AttentionRank.reassessment_due, TOMORROW, AttentionRank.reassessment_due, None),
        (AttentionRank.findings, None, AttentionRank.findings, None),
    ],
)
def test_what_an_audit_stores_for_the_worklist(
    rank: AttentionRank, due_on: date | None, stored: AttentionRank, pending: date | None
) -> None:
    assert compute.stored_rank(rank.value, due_on, TODAY) == {
        "attention_rank": stored.value,
        "pending_overdue_on": pending,
    }
