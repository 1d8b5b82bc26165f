"""A clinic sets its own audit thresholds; the audit and the stored attention use them."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.types import Role
from tests.accountability.builders import TODAY, well_run_plan
from tests.builders import auth_headers, make_user

URL = "/api/v1/clinic/audit-thresholds"


def _codes(client: TestClient, plan_id: object, headers: dict[str, str]) -> list[str]:
    audit = client.get(f"/api/v1/plans/{plan_id}/audit", headers=headers)
    assert audit.status_code == 200, audit.text
    return [finding["code"] for finding in audit.json()["findings"]]


def test_a_clinic_tightens_not_progressing_and_the_audit_follows(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session)
    for prescription in built.program:
        prescription.versions[-1].effective_on = TODAY - timedelta(days=10)
    clinic = session.get_one(Clinic, built.plan.clinic_id)
    admin = auth_headers(make_user(session, clinic=clinic, role=Role.admin))
    clinician = auth_headers(built.clinician)
    assert "NOT_PROGRESSING" not in _codes(client, built.plan.id, clinician)

    current = client.get(URL, headers=clinician)
    assert current.status_code == 200
    assert current.json()["effective"]["not_progressing_days"] == 14
    assert client.put(URL, json={"not_progressing_days": 7}, headers=admin).status_code == 428
    changed = client.put(
        URL,
        json={"not_progressing_days": 7},
        headers={**admin, "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["effective"]["not_progressing_days"] == 7
    assert changed.json()["overrides"] == {"not_progressing_days": 7}
    assert changed.json()["defaults"]["not_progressing_days"] == 14

    assert "NOT_PROGRESSING" in _codes(client, built.plan.id, clinician)
    stale = client.put(URL, json={}, headers={**admin, "If-Match": current.headers["etag"]})
    assert stale.status_code == 412


def test_only_admins_set_them_and_other_clinics_keep_the_defaults(
    client: TestClient, session: Session
) -> None:
    mine = make_user(session, role=Role.admin)
    theirs = make_user(session, role=Role.clinician)
    clinician = make_user(session, clinic=session.get_one(Clinic, mine.clinic_id))
    headers = {**auth_headers(mine), "If-Match": '"1"'}
    refused = client.put(
        URL, json={"stalled_min_days": 30}, headers={**auth_headers(clinician), "If-Match": '"1"'}
    )
    assert refused.status_code == 403
    bad = client.put(URL, json={"passive_share": 2}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/passive_share"
    assert client.put(URL, json={"stalled_min_days": 30}, headers=headers).status_code == 200
    other = client.get(URL, headers=auth_headers(theirs)).json()
    assert other["effective"]["stalled_min_days"] == 14
    assert other["overrides"] == {}
    patient = make_user(session, role=Role.patient)
    assert client.get(URL, headers=auth_headers(patient)).status_code == 403
