from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, DriverKind
from app.clinics.models import Clinic
from app.core.types import Role
from app.plans.models import PlanStatus
from tests.builders import auth_headers, make_clinic, make_user
from tests.conftest import StatementCounter
from tests.plans.plan_builders import HOP_LSI, PAIN_SETTLED, PSFS_8, SQUAT_REPS, criterion
from tests.summary.builders import (
    ASSESSED,
    add_driver,
    home_program,
    make_summary_plan,
    observe,
    one_prescription,
    patient_of,
)

PSFS_GAIN = criterion("psfs", "gte", 2, mode="change_from_baseline", statement="PSFS up by 2")


def summary_url(plan_id: uuid.UUID | str, html: bool = False) -> str:
    return f"/api/v1/plans/{plan_id}/summary" + (".html" if html else "")


def test_the_summary_answers_what_the_examination_found(
    client: TestClient, session: Session
) -> None:
    built = make_summary_plan(session)
    assessment = session.get_one(Assessment, built.plan.assessment_id)
    add_driver(session, assessment, DriverKind.other, "Sleeps 5 hours a night", [])

    response = client.get(summary_url(built.plan.id), headers=auth_headers(built.patient_user))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan_id"] == str(built.plan.id)
    assert body["patient"] == {"display_name": "Alex Example"}
    exam = body["examination"]
    assert exam["assessed_at"].startswith(ASSESSED.date().isoformat())
    assert exam["presenting_complaint"] == "Anterior knee pain on stairs and running"
    assert exam["onset_label"] == "Long-standing (chronic)"
    strength, pattern, sleep = exam["drivers"]
    assert strength["kind"] == "capacity_deficit"
    assert strength["kind_label"] == "Strength or capacity below what your activities need"
    assert strength["description"] == "Quadriceps strength deficit on the left"
    assert [f["text"] for f in strength["findings"]] == [
        "Single-leg squat repetitions, left: 8 reps"
    ]
    assert pattern["kind_label"] == "A way of moving that puts extra strain on the painful area"
    assert [f["text"] for f in pattern["findings"]] == [
        "Single-leg hop for distance, left: 120 cm",
        "Step-down test, left: knee falls inward",
    ]
    assert pattern["findings"][1]["result"] == "knee falls inward"
    assert (strength["addressed_by_plan"], pattern["addressed_by_plan"]) == (True, True)
    assert (sleep["kind_label"], sleep["addressed_by_plan"]) == (
        "Another factor that keeps the problem going",
        False,  # found after the plan was drafted, so not one it targets
    )
    assert exam["goals"] == [{"statement": "Run 10 km without pain", "target": None}]


def test_the_summary_answers_what_to_achieve_at_each_stage(
    client: TestClient, session: Session
) -> None:
    built = make_summary_plan(session)

    body = client.get(summary_url(built.plan.id), headers=auth_headers(built.clinician)).json()

    plan = body["plan"]
    assert (plan["status"], plan["status_label"]) == ("active", "Under way")
    assert plan["current_stage_name"] == "Settle and load"
    timeline = plan["timeline"]
    assert (timeline["sessions_min"], timeline["sessions_max"]) == (12, 20)
    assert (timeline["status"], timeline["days_behind"], timeline["suggested"]) == (
        "on_track",
        0,
        False,
    )
    assert timeline["text"].startswith("Expected to finish around 22 March 2027, after 12 to 20")
    assert timeline["text"].endswith("You are on track with the current stage, Settle and load.")
    first, second = plan["stages"]
    assert (first["name"], first["state"], first["state_label"]) == (
        "Settle and load",
        "current",
        "Current stage",
    )
    assert (first["goal"], first["expected_weeks"]) == (
        "Calm the knee down and start loading it",
        4,
    )
    assert first["due_on"] is not None
    assert second["state"] == "pending"
    pain, squat = first["criteria"]
    assert (pain["status"], pain["met"], pain["current"], pain["target"]) == ("met", True, 2, 2)
    assert (pain["current_text"], pain["target_text"], pain["progress"]) == (
        "2/10",
        "at most 2/10",
        1,
    )
    assert pain["measure_name"] == "Pain, numeric rating scale"
    assert pain["text"] == "Now 2/10; the target is at most 2/10. Achieved."
    assert [p["value"] for p in pain["chart"]["points"]] == [6, 2]
    assert (squat["status"], squat["status_label"], squat["unit_label"]) == (
        "not_met",
        "Not yet",
        "reps",
    )
    assert squat["text"] == "Now 10 reps; the target is at least 15 reps. Not yet."
    hop = second["criteria"][0]
    assert (hop["current"], hop["unit"], hop["baseline"]) == (85, "%", 75)
    assert hop["text"] == (
        "Your left side now reaches 85% of your right side; the target is at least 90%. Not yet."
    )
    assert hop["chart"]["label"] == "Single-leg hop for distance, left as % of right"
    assert [p["value"] for p in hop["chart"]["points"]] == [75, 85]  # LSI % over time


def test_the_summary_answers_what_discharge_looks_like(
    client: TestClient, session: Session
) -> None:
    built = make_summary_plan(session)

    discharge = client.get(
        summary_url(built.plan.id), headers=auth_headers(built.clinician)
    ).json()["discharge"]

    assert (discharge["ready"], discharge["met_count"], discharge["remaining_count"]) == (
        False,
        1,
        2,
    )
    assert discharge["text"].startswith("You have met 1 of 3 discharge criteria; 2 remain.")
    hop, pain, psfs = discharge["criteria"]
    assert (hop["status"], pain["status"], psfs["status"]) == ("not_met", "met", "no_data")
    assert (psfs["current"], psfs["current_text"], psfs["progress"]) == (None, None, 0)
    assert psfs["status_label"] == "Not measured yet"
    assert psfs["text"] == "Not measured yet; the target is at least 8/10."
    assert psfs["chart"]["points"] == []


def test_a_draft_plan_says_what_is_being_prepared(client: TestClient, session: Session) -> None:
    built = make_summary_plan(session)
    built.plan.status, built.plan.current_stage_id = PlanStatus.draft, None

    body = client.get(summary_url(built.plan.id), headers=auth_headers(built.patient_user)).json()

    plan = body["plan"]
    assert (plan["status_label"], plan["current_stage_name"]) == (
        "Being prepared by your clinician",
        None,
    )
    assert plan["timeline"]["text"].endswith(
        "The timeline starts when your clinician starts the plan."
    )
    assert [s["state"] for s in plan["stages"]] == ["pending", "pending"]
    assert (body["discharge"]["ready"], body["home_program"]) == (False, [])


def test_a_change_from_baseline_is_charted_against_the_value_to_reach(
    client: TestClient, session: Session
) -> None:
    built = make_summary_plan(session, discharge=(HOP_LSI, PSFS_GAIN))
    observe(session, built.plan, "psfs", 4, 2)
    observe(session, built.plan, "psfs", 7, 20)

    gain = client.get(summary_url(built.plan.id), headers=auth_headers(built.clinician)).json()[
        "discharge"
    ]["criteria"][1]

    assert (gain["status"], gain["current"], gain["current_text"]) == ("met", 3, "+3 points")
    assert gain["target_text"] == "at least 2 points better"
    assert (gain["chart"]["baseline"], gain["chart"]["target"]) == (4, 6)
    assert gain["chart"]["unit"] == "{score}"


def test_the_home_program_is_each_active_prescription_at_its_latest_version(
    client: TestClient, session: Session
) -> None:
    built = make_summary_plan(session)
    made = home_program(session, built.plan)

    program = client.get(
        summary_url(built.plan.id), headers=auth_headers(built.patient_user)
    ).json()["home_program"]

    squat, band, wall_sit = program  # the stopped prescription is left out
    assert squat["prescription_id"] == str(made["squat"].id)
    assert squat["exercise_name"].startswith("Split squat")
    assert (squat["sets"], squat["reps"], squat["dose"]) == (3, 8, "3 sets of 8 reps")
    assert (squat["load_value"], squat["load_unit"], squat["load"]) == (45, "kg", "45 kg")
    assert (squat["tempo"], squat["rest_s"], squat["sessions_per_week"]) == ("3-1-1-0", 90, 3)
    assert (band["load_unit"], band["band"], band["load"]) == ("band", "medium", "Band: medium")
    assert band["dose"] == "3 sets of 12 reps, both sides"
    assert (band["tempo"], band["rest_s"], band["effort"]) == (None, None, None)
    assert (wall_sit["duration_s"], wall_sit["reps"]) == (30, None)
    assert wall_sit["dose"] == "3 sets of 30 seconds"
    assert (wall_sit["load"], wall_sit["sessions_per_week"]) == ("Your body weight", 5)
    assert wall_sit["effort"] == "Effort about 7 out of 10"
    assert wall_sit["instructions"] == "Back flat on the wall; stop if the pain passes 5/10."


def test_only_the_patient_and_their_clinic_read_the_summary(
    client: TestClient, session: Session
) -> None:
    built = make_summary_plan(session)
    clinic = session.get_one(Clinic, built.plan.clinic_id)
    someone_else = make_user(session, clinic=clinic, role=Role.patient)
    stranger = make_user(session, clinic=make_clinic(session))
    colleague = make_user(session, clinic=clinic)

    for html in (False, True):
        url = summary_url(built.plan.id, html)
        for user in (built.patient_user, colleague):
            assert client.get(url, headers=auth_headers(user)).status_code == 200, url
        for user in (someone_else, stranger):
            response = client.get(url, headers=auth_headers(user))
            assert response.status_code == 404, url
            assert response.headers["content-type"] == "application/problem+json"
        response = client.get(url)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


def test_an_unknown_plan_is_404(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_user(session))
    for html in (False, True):
        response = client.get(summary_url(uuid.uuid4(), html), headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_the_page_is_a_standalone_printable_document(client: TestClient, session: Session) -> None:
    built = make_summary_plan(session)
    home_program(session, built.plan)

    response = client.get(summary_url(built.plan.id, True), headers=auth_headers(built.clinician))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert page.startswith("<!DOCTYPE html>")
    assert page.endswith("</html>")
    assert "<script" not in page.lower()
    assert not re.search(r"https?://", page), "the page may load nothing from elsewhere"
    assert "@media print" in page
    for heading in (
        "1. What did the examination find?",
        "2. What is the plan, and what must I achieve at each stage?",
        "3. What does discharge look like?",
        "Your home program",
    ):
        assert heading in page
    # One chart per criterion: 3 progression and 3 discharge criteria, each titled.
    assert page.count("<svg") == 6
    assert page.count("<title id=") == 6
    assert page.count("<desc id=") == 6
    assert "Strength or capacity below what your activities need" in page
    assert "Band: medium" in page
    assert "3-1-1-0" in page


def test_stored_text_is_escaped_in_the_page(client: TestClient, session: Session) -> None:
    built = make_summary_plan(session, driver_description="<script>alert(1)</script>")
    patient_of(session, built.plan).display_name = 'Sam "<b>bold</b>"'

    page = client.get(
        summary_url(built.plan.id, True), headers=auth_headers(built.patient_user)
    ).text

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "Sam &quot;&lt;b&gt;bold&lt;/b&gt;&quot;" in page
    assert "<b>" not in page


def _statements(
    client: TestClient, statements: StatementCounter, url: str, headers: dict[str, str]
) -> int:
    client.get(url, headers=headers)  # commits what the test built before counting
    statements.reset()
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements)


@pytest.mark.parametrize("html", [False, True], ids=["json", "html"])
def test_the_summary_costs_the_same_statements_however_big_the_plan(
    client: TestClient, session: Session, statements: StatementCounter, html: bool
) -> None:
    small = make_summary_plan(session, stages=[(PAIN_SETTLED,)], discharge=[PSFS_8])
    one_prescription(session, small.plan)
    many = (PAIN_SETTLED, SQUAT_REPS, HOP_LSI, PSFS_GAIN)
    big = make_summary_plan(session, stages=[many] * 5, discharge=[HOP_LSI, PSFS_8, PSFS_GAIN])
    home_program(session, big.plan)
    for day in range(20):
        observe(session, big.plan, "pain_nrs", 5 - day % 5, day)
        observe(session, big.plan, "psfs", day % 10, day)
        observe(session, big.plan, "single_leg_hop", 150 + day, day, "left")
        observe(session, big.plan, "single_leg_hop", 180, day, "right")

    small_count = _statements(
        client, statements, summary_url(small.plan.id, html), auth_headers(small.patient_user)
    )
    big_count = _statements(
        client, statements, summary_url(big.plan.id, html), auth_headers(big.patient_user)
    )

    assert small_count == big_count
    assert small_count <= 20, small_count


def test_openapi_documents_the_page_as_html_with_its_problems(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    page = paths["/api/v1/plans/{plan_id}/summary.html"]["get"]
    assert "text/html" in page["responses"]["200"]["content"]
    for code in ("401", "404", "422"):
        assert "application/problem+json" in page["responses"][code]["content"]
    summary = paths["/api/v1/plans/{plan_id}/summary"]["get"]
    schema = summary["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/SummaryRead")
