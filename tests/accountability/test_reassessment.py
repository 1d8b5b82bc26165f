"""A finalised reassessment linked to a plan answers what it can; the plan's own response
shows whether a reassessment is due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accountability.builders import NOW, audit_of, codes, well_run_plan
from tests.builders import auth_headers
from tests.plans.plan_builders import plan_url


def reassessment(plan_id: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "reassessment",
        "plan_id": str(plan_id),
        "assessed_at": (NOW - timedelta(minutes=5)).isoformat(),
        "presenting_complaint": "Knee pain on stairs, progress stalled",
        "body_region": "knee",
        "onset": "chronic",
        "goals": [{"statement": "Run 10 km without pain"}],
        "findings": [{"name": "PSFS", "measure_code": "psfs", "value": 3, "unit": "{score}"}],
        "drivers": [{"kind": "load_tolerance_gap", "description": "Tolerates little load"}],
        **overrides,
    }


def test_a_finalised_reassessment_answers_a_stall(client: TestClient, session: Session) -> None:
    built = well_run_plan(session, psfs_step=0.5)
    plan, headers = built.plan, auth_headers(built.clinician)
    before = client.get(plan_url(plan.id), headers=headers)
    assert before.json()["reassessment_due"] is True  # stalled: projected when it was built

    observation = {"measure_code": "pain_nrs", "value": 3, "observed_at": NOW.isoformat()}
    patient_url = f"/api/v1/patients/{plan.patient_id}"
    assert client.post(f"{patient_url}/observations", json=observation, headers=headers).is_success

    due = client.get(plan_url(plan.id), headers=headers)
    assert due.json()["reassessment_due"] is True
    assert due.headers["ETag"] == before.headers["ETag"]  # the audit never moves the version

    created = client.post(f"{patient_url}/assessments", json=reassessment(plan.id), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["plan_id"] == str(plan.id)
    draft_only = client.get(plan_url(plan.id), headers=headers)
    assert draft_only.json()["reassessment_due"] is True  # a draft answers nothing yet

    finalize_url = f"/api/v1/assessments/{created.json()['id']}/finalize"
    etag = created.headers["ETag"]
    finalised = client.post(finalize_url, headers={**headers, "If-Match": etag})
    assert finalised.status_code == 200, finalised.text

    assert client.get(plan_url(plan.id), headers=headers).json()["reassessment_due"] is False
    body = audit_of(client, plan, built.clinician)
    assert "STALLED" not in codes(body)
    assert body["reassessed_at"] is not None
    assert body["reassessment_due"] is False


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [({"kind": "initial"}, "/plan_id"), ({"kind": "discharge"}, "/plan_id")],
)
def test_only_a_reassessment_names_a_plan(
    client: TestClient, session: Session, overrides: dict[str, Any], pointer: str
) -> None:
    built = well_run_plan(session)
    url = f"/api/v1/patients/{built.plan.patient_id}/assessments"

    response = client.post(
        url, json=reassessment(built.plan.id, **overrides), headers=auth_headers(built.clinician)
    )

    assert response.status_code == 422
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


def test_a_reassessment_names_a_plan_of_the_same_patient(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session)
    other = well_run_plan(session, clinician=built.clinician)
    stranger = well_run_plan(session)
    url = f"/api/v1/patients/{built.plan.patient_id}/assessments"
    headers = auth_headers(built.clinician)

    for plan in (other.plan, stranger.plan):
        response = client.post(url, json=reassessment(plan.id), headers=headers)
        assert response.status_code == 422, response.text
        assert [e["pointer"] for e in response.json()["errors"]] == ["/plan_id"]
