from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assessments.models import (
    Assessment,
    AssessmentRevision,
    DriverFinding,
    Finding,
    FunctionalGoal,
)
from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.patients.models import Patient
from app.users.models import User
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_clinic,
    make_full_assessment,
    make_patient,
    make_user,
)
from tests.conftest import StatementCounter

# Findings new in a request are named by a ref, which the request's drivers cite.
HAMSTRING, SQUAT = "hamstring", "squat"


def new_assessment(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "initial",
        "assessed_at": "2026-11-02T10:30:00+01:00",
        "presenting_complaint": "Posterior thigh pain when sprinting",
        "body_region": "thigh",
        "onset": "acute",
        "symptom_duration_days": 10,
        "pain_now": 2,
        "pain_worst": 6,
        "goals": [
            {"statement": "Return to football"},
            {
                "statement": "Run 10 km",
                "target_measure": "distance",
                "target_value": 10,
                "target_unit": "km",
            },
        ],
        "findings": [
            {
                "ref": HAMSTRING,
                "name": "Isometric hamstring force",
                "side": "left",
                "value": 180,
                "unit": "N",
                "measure_code": "HAM_ISO",
            },
            {"ref": SQUAT, "name": "Single-leg squat", "side": "left", "result": "knee valgus"},
        ],
        "drivers": [
            {
                "kind": "capacity_deficit",
                "description": "Hamstring strength deficit",
                "finding_refs": [HAMSTRING, SQUAT],
                "priority": 1,
            },
        ],
        **overrides,
    }


def clinic_of(session: Session, user: User) -> Clinic:
    return session.get_one(Clinic, user.clinic_id)


def if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


def events_for(session: Session, entity_id: uuid.UUID | str) -> list[str]:
    rows = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_id == uuid.UUID(str(entity_id)))
        .order_by(AuditEvent.at)
    )
    return list(rows)


def test_create_with_children_and_read_back(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    headers = auth_headers(clinician)
    created = client.post(
        f"/api/v1/patients/{patient.id}/assessments", json=new_assessment(), headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/assessments/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["status"] == "draft"
    assert body["clinician_id"] == str(clinician.id)
    assert body["patient_id"] == str(patient.id)
    assert body["assessed_at"].startswith("2026-11-02T09:30:00")
    assert [g["statement"] for g in body["goals"]] == ["Return to football", "Run 10 km"]
    assert body["goals"][1]["target_unit"] == "km"
    assert [f["name"] for f in body["findings"]] == [
        "Isometric hamstring force",
        "Single-leg squat",
    ]
    assert body["drivers"][0]["finding_ids"] == sorted(f["id"] for f in body["findings"])
    assert body["amendment_count"] == 0
    assert body["last_amended_at"] is None
    read = client.get(created.headers["location"], headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body
    for model in (FunctionalGoal, Finding, DriverFinding):
        assert set(session.scalars(select(model.clinic_id))) == {clinician.clinic_id}


def test_list_pages_through_a_patients_assessments_in_order(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = [
        make_full_assessment(
            session, patient=patient, clinician=clinician, assessed_at=start + timedelta(days=i % 3)
        )
        for i in range(7)
    ]
    make_full_assessment(
        session, clinician=make_user(session, clinic=clinic_of(session, clinician))
    )
    expected = [str(a.id) for a in sorted(made, key=lambda a: (a.assessed_at, str(a.id)))]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(
            f"/api/v1/patients/{patient.id}/assessments",
            params=params,
            headers=auth_headers(clinician),
        )
        assert page.status_code == 200, page.text
        seen += [a["id"] for a in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def _finding(**fields: Any) -> dict[str, Any]:
    return {"name": "Hop distance", "side": "left", "value": 120, "unit": "cm", **fields}


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        (new_assessment(findings=[_finding(unit=None)], drivers=[]), "/findings/0/unit"),
        (new_assessment(findings=[_finding(side="up")], drivers=[]), "/findings/0/side"),
        (new_assessment(findings=[_finding(value=None)], drivers=[]), "/findings/0/result"),
        (new_assessment(findings=[_finding(colour="red")], drivers=[]), "/findings/0/colour"),
        (
            new_assessment(
                drivers=[{"kind": "other", "description": "x", "finding_refs": [SQUAT, "knee"]}]
            ),
            "/drivers/0/finding_refs/1",
        ),
        (
            new_assessment(
                drivers=[{"kind": "other", "description": "x", "finding_refs": [SQUAT, SQUAT]}]
            ),
            "/drivers/0/finding_refs/1",
        ),
        (
            new_assessment(
                drivers=[{"kind": "other", "description": "x", "finding_ids": [str(uuid.uuid4())]}]
            ),
            "/drivers/0/finding_ids/0",
        ),
        (new_assessment(findings=[_finding(ref=SQUAT), _finding(ref=SQUAT)]), "/findings/1/ref"),
        (new_assessment(findings=[_finding(id=str(uuid.uuid4()))], drivers=[]), "/findings/0/id"),
        (new_assessment(goals=[{"id": str(uuid.uuid4()), "statement": "Run"}]), "/goals/0/id"),
        (new_assessment(drivers=[{"kind": "laziness", "description": "x"}]), "/drivers/0/kind"),
        (
            new_assessment(drivers=[{"kind": "other", "description": "x", "priority": 0}]),
            "/drivers/0/priority",
        ),
        (new_assessment(goals=[{"statement": "Run", "target_value": 5}]), "/goals/0/target_unit"),
        (new_assessment(pain_now=11), "/pain_now"),
        (new_assessment(pain_worst=-1), "/pain_worst"),
        (new_assessment(assessed_at="2026-11-02T10:30:00"), "/assessed_at"),
        (new_assessment(onset="sudden"), "/onset"),
        (new_assessment(kind="follow_up"), "/kind"),
        (new_assessment(presenting_complaint=""), "/presenting_complaint"),
        (new_assessment(status="final"), "/status"),
        (new_assessment(favourite_colour="blue"), "/favourite_colour"),
    ],
)
def test_bad_input_is_problem_json_naming_the_field(
    client: TestClient, session: Session, payload: dict[str, Any], pointer: str
) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    response = client.post(
        f"/api/v1/patients/{patient.id}/assessments", json=payload, headers=auth_headers(clinician)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    assert session.scalar(select(func.count()).select_from(Assessment)) == 0


def test_an_archived_patient_is_not_assessed(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    patient = make_patient(
        session, clinic=clinic_of(session, clinician), archived_at=datetime.now(UTC)
    )
    response = client.post(
        f"/api/v1/patients/{patient.id}/assessments",
        json=new_assessment(),
        headers=auth_headers(clinician),
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_clinician_defaults_to_the_caller_and_must_be_a_clinician_of_the_clinic(
    client: TestClient, session: Session
) -> None:
    admin = make_user(session, role=Role.admin)
    clinic = clinic_of(session, admin)
    patient = make_patient(session, clinic=clinic)
    colleague = make_user(session, clinic=clinic)
    _, secret = make_api_key(session, clinic=clinic, created_by=admin)
    url = f"/api/v1/patients/{patient.id}/assessments"
    by_admin = client.post(url, json=new_assessment(), headers=auth_headers(admin))
    assert by_admin.json()["clinician_id"] == str(admin.id)
    keyless = client.post(
        url, json=new_assessment(findings=[], drivers=[]), headers=key_headers(secret)
    )
    assert keyless.status_code == 422
    assert keyless.json()["errors"][0]["pointer"] == "/clinician_id"
    named = new_assessment(findings=[], drivers=[], clinician_id=str(colleague.id))
    by_key = client.post(url, json=named, headers=key_headers(secret))
    assert by_key.status_code == 201, by_key.text
    assert by_key.json()["clinician_id"] == str(colleague.id)
    outsiders = [
        make_user(session),  # another clinic
        make_user(session, clinic=clinic, role=Role.patient),
        make_user(session, clinic=clinic, role=Role.integration),
    ]
    for outsider in outsiders:
        payload = new_assessment(findings=[], drivers=[], clinician_id=str(outsider.id))
        refused = client.post(url, json=payload, headers=auth_headers(colleague))
        assert refused.status_code == 422, outsider.role
        assert refused.json()["errors"][0]["pointer"] == "/clinician_id"
    patch = client.patch(
        by_key.headers["location"],
        json={"clinician_id": str(outsiders[0].id)},
        headers=if_match(auth_headers(colleague), 1),
    )
    assert patch.status_code == 422
    assert patch.json()["errors"][0]["pointer"] == "/clinician_id"


def test_finalize_needs_a_driver_and_a_goal_then_only_once(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    headers = auth_headers(clinician)
    bare = new_assessment(goals=[], drivers=[])
    url = client.post(
        f"/api/v1/patients/{patient.id}/assessments", json=bare, headers=headers
    ).headers["location"]
    refused = client.post(f"{url}/finalize", headers=if_match(headers, 1))
    assert refused.status_code == 422
    assert {e["pointer"] for e in refused.json()["errors"]} == {"/drivers", "/goals"}
    goal = client.patch(
        url, json={"goals": [{"statement": "Sprint"}]}, headers=if_match(headers, 1)
    )
    assert goal.headers["etag"] == '"2"'
    refused = client.post(f"{url}/finalize", headers=if_match(headers, 2))
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/drivers"]
    driver = {"kind": "load_tolerance_gap", "description": "Low sprint exposure"}
    client.patch(url, json={"drivers": [driver]}, headers=if_match(headers, 2))
    final = client.post(f"{url}/finalize", headers=if_match(headers, 3))
    assert final.status_code == 200, final.text
    assert final.headers["etag"] == '"4"'
    assert final.json()["status"] == "final"
    assert final.json()["finalized_at"] is not None
    again = client.post(f"{url}/finalize", headers=if_match(headers, 4))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_patch_replaces_sent_lists_keeping_ids_and_bumps_the_version(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    headers = auth_headers(clinician)
    created = client.post(
        f"/api/v1/patients/{patient.id}/assessments", json=new_assessment(), headers=headers
    ).json()
    url = f"/api/v1/assessments/{created['id']}"
    kept = created["goals"][1]
    goals = [{"statement": "Jog 5 km"}, {**kept, "target_value": 12}]
    changed = client.patch(url, json={"goals": goals}, headers=if_match(headers, 1))
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    assert [g["statement"] for g in body["goals"]] == ["Jog 5 km", "Run 10 km"]
    assert body["goals"][1] == {**kept, "target_value": 12}
    assert created["goals"][0]["id"] not in {g["id"] for g in body["goals"]}
    assert body["findings"] == created["findings"]
    assert session.scalar(select(func.count()).select_from(FunctionalGoal)) == 2
    assert client.get(url, headers=headers).json() == body


def test_patch_findings_and_driver_citations_check_the_resulting_assessment(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    headers = auth_headers(clinician)
    created = client.post(
        f"/api/v1/patients/{patient.id}/assessments", json=new_assessment(), headers=headers
    ).json()
    url = f"/api/v1/assessments/{created['id']}"
    squat = created["findings"][1]["id"]
    only_squat = [f for f in created["findings"] if f["id"] == squat]
    cited = client.patch(url, json={"findings": only_squat}, headers=if_match(headers, 1))
    assert cited.status_code == 422
    [error] = cited.json()["errors"]  # the driver's citation of the hamstring finding
    assert error["pointer"].startswith("/drivers/0/finding_ids/")
    new_finding: dict[str, Any] = {
        "ref": "nordic",
        "name": "Nordic curl",
        "value": 2,
        "unit": "reps",
    }
    driver = {**created["drivers"][0], "finding_ids": [squat], "finding_refs": ["nordic"]}
    replaced = client.patch(
        url,
        json={"findings": [new_finding, *only_squat], "drivers": [driver]},
        headers=if_match(headers, 1),
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == '"2"'
    body = replaced.json()
    nordic = body["findings"][0]["id"]
    assert [f["id"] for f in body["findings"]] == [nordic, squat]
    assert nordic not in {f["id"] for f in created["findings"]}
    assert body["drivers"][0]["id"] == created["drivers"][0]["id"]
    assert body["drivers"][0]["finding_ids"] == sorted([squat, nordic])
    assert client.get(url, headers=headers).json() == body
    assert session.scalar(select(func.count()).select_from(Finding)) == 2
    assert session.scalar(select(func.count()).select_from(DriverFinding)) == 2
    dropped = client.patch(url, json={"drivers": [], "findings": []}, headers=if_match(headers, 2))
    assert dropped.status_code == 200, dropped.text
    assert session.scalar(select(func.count()).select_from(DriverFinding)) == 0


def test_a_ref_names_a_finding_of_the_same_request_cited_once(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    assessment = make_full_assessment(session, clinician=clinician)
    url = f"/api/v1/assessments/{assessment.id}"
    headers = if_match(auth_headers(clinician), 1)
    finding = {"id": str(assessment.findings[0].id), "ref": "squat", **_finding()}
    driver = {"kind": "other", "description": "x", "finding_refs": ["squat"]}
    no_findings_sent = client.patch(url, json={"drivers": [driver]}, headers=headers)
    assert [e["pointer"] for e in no_findings_sent.json()["errors"]] == [
        "/drivers/0/finding_refs/0"
    ]
    both = {**driver, "finding_ids": [finding["id"]]}
    twice = client.patch(url, json={"findings": [finding], "drivers": [both]}, headers=headers)
    assert twice.status_code == 422
    [error] = twice.json()["errors"]
    assert (error["pointer"], error["detail"]) == (
        "/drivers/0/finding_refs/0",
        "this finding is cited twice",
    )
    kept = client.patch(url, json={"findings": [finding], "drivers": [driver]}, headers=headers)
    assert kept.status_code == 200, kept.text
    assert kept.json()["drivers"][0]["finding_ids"] == [finding["id"]]


CHILDREN: dict[str, dict[str, Any]] = {
    "goals": {"statement": "Run 5 km"},
    "findings": _finding(),
    "drivers": {"kind": "other", "description": "Low sprint exposure"},
}


@pytest.mark.parametrize("write", ["create", "update"])
@pytest.mark.parametrize("children", sorted(CHILDREN))
def test_a_child_id_used_by_another_clinic_answers_like_a_fresh_one(
    client: TestClient, session: Session, children: str, write: str
) -> None:
    """Ids of new children are the server's (docs/decisions/0004-child-ids.md): an id that is not
    a child of this assessment is refused alike, whether or not another clinic uses it."""
    clinician = make_user(session)
    elsewhere = make_full_assessment(session, clinician=make_user(session))
    taken = str(getattr(elsewhere, children)[0].id)
    mine = make_full_assessment(session, clinician=clinician)
    headers = auth_headers(clinician)
    answers = []
    for child_id in (taken, str(uuid.uuid4())):
        lists = {"findings": [], "drivers": [], children: [{**CHILDREN[children], "id": child_id}]}
        if write == "create":
            url = f"/api/v1/patients/{mine.patient_id}/assessments"
            response = client.post(url, json=new_assessment(**lists), headers=headers)
        else:
            url = f"/api/v1/assessments/{mine.id}"
            response = client.patch(url, json=lists, headers=if_match(headers, 1))
        answers.append(response)
    assert answers[0].status_code == answers[1].status_code == 422, answers[0].text
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["type"].endswith("/invalid-input")
    assert [e["pointer"] for e in answers[0].json()["errors"]] == [f"/{children}/0/id"]
    assert session.scalar(select(func.count()).select_from(Assessment)) == 2


def test_amending_a_final_assessment_keeps_the_earlier_version(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    assessment = make_full_assessment(session, patient=patient, clinician=clinician, finalized=True)
    headers = auth_headers(clinician)
    url = f"/api/v1/assessments/{assessment.id}"
    before = client.get(url, headers=headers).json()
    unexplained = client.patch(url, json={"pain_now": 1}, headers=if_match(headers, 1))
    assert unexplained.status_code == 422
    assert unexplained.json()["errors"][0]["pointer"] == "/amendment_reason"
    amendment = {"pain_now": 1, "goals": [], "amendment_reason": "Pain score misread"}
    amended = client.patch(url, json=amendment, headers=if_match(headers, 1))
    assert amended.status_code == 200, amended.text
    assert amended.headers["etag"] == '"2"'
    body = amended.json()
    assert (body["status"], body["pain_now"], body["goals"]) == ("final", 1, [])
    assert body["amendment_count"] == 1
    assert body["last_amended_at"] is not None
    revisions = client.get(f"{url}/revisions", headers=headers)
    assert revisions.status_code == 200
    [revision] = revisions.json()["items"]
    assert revision["version"] == 1
    assert revision["reason"] == "Pain score misread"
    assert revision["amended_by_id"] == str(clinician.id)
    assert revision["snapshot"] == before
    client.patch(url, json={"notes": "n", "amendment_reason": "Add"}, headers=if_match(headers, 2))
    items = client.get(f"{url}/revisions", headers=headers).json()["items"]
    assert [r["version"] for r in items] == [1, 2]
    assert items[1]["snapshot"] == body


def test_a_draft_is_edited_without_an_amendment_reason(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    assessment = make_full_assessment(session, clinician=clinician)
    url = f"/api/v1/assessments/{assessment.id}"
    headers = if_match(auth_headers(clinician), 1)
    refused = client.patch(url, json={"notes": "n", "amendment_reason": "x"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/amendment_reason"
    assert client.patch(url, json={"notes": "n"}, headers=headers).status_code == 200
    assert session.scalar(select(func.count()).select_from(AssessmentRevision)) == 0


@pytest.mark.parametrize("null_field", ["kind", "assessed_at", "goals", "clinician_id"])
def test_patch_refuses_null_for_required_fields(
    client: TestClient, session: Session, null_field: str
) -> None:
    clinician = make_user(session)
    assessment = make_full_assessment(session, clinician=clinician)
    response = client.patch(
        f"/api/v1/assessments/{assessment.id}",
        json={null_field: None},
        headers=if_match(auth_headers(clinician), 1),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == f"/{null_field}"


def test_writes_need_if_match_and_refuse_a_stale_one(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    assessment = make_full_assessment(session, clinician=clinician)
    url = f"/api/v1/assessments/{assessment.id}"
    headers = auth_headers(clinician)
    assert client.patch(url, json={"notes": "x"}, headers=headers).status_code == 428
    assert client.post(f"{url}/finalize", headers=headers).status_code == 428
    assert client.patch(url, json={"notes": "x"}, headers=if_match(headers, 1)).status_code == 200
    stale = client.patch(url, json={"notes": "y"}, headers=if_match(headers, 1))
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert client.post(f"{url}/finalize", headers=if_match(headers, 1)).status_code == 412
    body = client.get(url, headers=headers).json()
    assert (body["notes"], body["status"], body["version"]) == ("x", "draft", 2)


def test_another_clinics_user_gets_404_everywhere(client: TestClient, session: Session) -> None:
    assessment = make_full_assessment(session)
    patient_id = assessment.patient_id
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    headers = if_match(auth_headers(stranger), 1)
    url = f"/api/v1/assessments/{assessment.id}"
    listing = f"/api/v1/patients/{patient_id}/assessments"
    assert client.get(listing, headers=headers).status_code == 404
    assert client.post(listing, json=new_assessment(), headers=headers).status_code == 404
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"notes": "x"}, headers=headers).status_code == 404
    assert client.post(f"{url}/finalize", headers=headers).status_code == 404
    assert client.get(f"{url}/revisions", headers=headers).status_code == 404
    unchanged = session.get_one(Assessment, assessment.id)
    assert (unchanged.version, unchanged.notes, unchanged.status) == (1, None, "draft")
    assert session.scalar(select(func.count()).select_from(Assessment)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_patient_user_reads_their_own_assessments_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    me = make_user(session, role=Role.patient)
    clinic = clinic_of(session, me)
    clinician = make_user(session, clinic=clinic)
    assert me.patient_id is not None
    own_patient = session.get_one(Patient, me.patient_id)
    mine = make_full_assessment(session, patient=own_patient, clinician=clinician, finalized=True)
    theirs = make_full_assessment(
        session, patient=make_patient(session, clinic=clinic), clinician=clinician
    )
    headers = if_match(auth_headers(me), 1)
    listed = client.get(f"/api/v1/patients/{me.patient_id}/assessments", headers=headers)
    assert [a["id"] for a in listed.json()["items"]] == [str(mine.id)]
    assert client.get(f"/api/v1/assessments/{mine.id}", headers=headers).status_code == 200
    assert (
        client.get(f"/api/v1/assessments/{mine.id}/revisions", headers=headers).status_code == 200
    )
    for other in (
        f"/api/v1/assessments/{theirs.id}",
        f"/api/v1/assessments/{theirs.id}/revisions",
        f"/api/v1/patients/{theirs.patient_id}/assessments",
    ):
        assert client.get(other, headers=headers).status_code == 404
    url = f"/api/v1/assessments/{mine.id}"
    create = client.post(
        f"/api/v1/patients/{me.patient_id}/assessments", json=new_assessment(), headers=headers
    )
    assert create.status_code == 403
    patch = client.patch(url, json={"notes": "x", "amendment_reason": "y"}, headers=headers)
    assert patch.status_code == 403
    assert client.post(f"{url}/finalize", headers=headers).status_code == 403
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_each_write_records_exactly_one_audit_event(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    headers = auth_headers(clinician)
    created = client.post(
        f"/api/v1/patients/{patient.id}/assessments", json=new_assessment(), headers=headers
    )
    url = created.headers["location"]
    assessment_id = created.json()["id"]
    client.patch(url, json={"notes": "n"}, headers=if_match(headers, 1))
    client.patch(url, json={"notes": "stale"}, headers=if_match(headers, 1))
    client.post(f"{url}/finalize", headers=if_match(headers, 2))
    client.patch(url, json={"notes": "m"}, headers=if_match(headers, 3))  # no reason: refused
    client.patch(url, json={"notes": "m", "amendment_reason": "typo"}, headers=if_match(headers, 3))
    assert events_for(session, assessment_id) == ["create", "update", "finalize", "amend"]
    actors = session.scalars(
        select(AuditEvent.actor_id).where(AuditEvent.entity_id == uuid.UUID(assessment_id))
    )
    assert set(actors) == {clinician.id}


def test_reading_one_assessment_costs_the_same_however_many_children(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    clinician = make_user(session)
    small = make_full_assessment(session, clinician=clinician)
    patient = make_patient(session, clinic=clinic_of(session, clinician))
    many = new_assessment(
        goals=[{"statement": f"Goal {i}"} for i in range(8)],
        findings=[_finding(ref=f"test-{i}", name=f"Test {i}") for i in range(8)],
        drivers=[],
    )
    many["drivers"] = [
        {
            "kind": "other",
            "description": f"D{i}",
            "finding_refs": [f["ref"] for f in many["findings"]],
        }
        for i in range(5)
    ]
    url = client.post(
        f"/api/v1/patients/{patient.id}/assessments", json=many, headers=auth_headers(clinician)
    ).headers["location"]
    counts = []
    for target in (f"/api/v1/assessments/{small.id}", url):
        statements.reset()
        assert client.get(target, headers=auth_headers(clinician)).status_code == 200
        counts.append(len(statements))
    assert counts == [6, 6]  # the actor, the assessment, goals, findings, drivers, links
