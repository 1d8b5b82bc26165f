"""The writes that used to leave a plan's derived state behind: each one's effect is in what the
API serves right after it, and the stored projection equals a fresh computation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.types import Role
from app.measures.models import Measure, MeasureCategory
from app.observations.models import Observation, ObservationSource
from app.plans.models import Criterion, CriterionKind, Plan
from app.projections import catch_up, clinic
from app.rules.criteria import Better, Comparator, Mode
from tests.accountability.builders import WORKLIST_URL, days_ago, listed, well_run_plan
from tests.builders import auth_headers, make_user
from tests.plans.plan_builders import if_match, plan_url
from tests.projection_check import assert_current, differences


def _codes(client: TestClient, plan: Plan, headers: dict[str, str]) -> list[str]:
    audit = client.get(plan_url(plan.id, "audit"), headers=headers)
    assert audit.status_code == 200, audit.text
    return [finding["code"] for finding in audit.json()["findings"]]


def _write_through_the_api(client: TestClient, plan: Plan, headers: dict[str, str]) -> None:
    """A write that projects the plan whatever else it does (a pain score, which no criterion of
    the plan judges): what is stored from here on was stored by a write, as in production."""
    observation = {"measure_code": "pain_nrs", "value": 3, "observed_at": days_ago(0).isoformat()}
    url = f"/api/v1/patients/{plan.patient_id}/observations"
    assert client.post(url, json=observation, headers=headers).status_code == 201


def _worklist_codes(client: TestClient, built: Any, plan: Plan) -> list[str] | None:
    item = next((i for i in listed(client, built.clinician) if i["plan_id"] == str(plan.id)), None)
    return None if item is None else item["attention_codes"]


def test_an_amended_driver_shows_in_the_plan_at_once(client: TestClient, session: Session) -> None:
    built = well_run_plan(session)
    plan, headers = built.plan, auth_headers(built.clinician)
    _write_through_the_api(client, plan, headers)
    url = f"/api/v1/assessments/{plan.assessment_id}"
    assessment = client.get(url, headers=headers)
    drivers = [
        {key: d[key] for key in ("id", "kind", "description", "finding_ids", "priority")}
        for d in assessment.json()["drivers"]
    ]
    drivers[0]["description"] = "Hip abductor endurance deficit, re-tested at 12 reps"

    amended = client.patch(
        url,
        json={"drivers": drivers, "amendment_reason": "Re-tested the abductors"},
        headers=if_match(headers, assessment.json()["version"]),
    )

    assert amended.status_code == 200, amended.text
    shown = client.get(plan_url(plan.id), headers=headers).json()["drivers"]
    assert drivers[0]["description"] in [d["description"] for d in shown]
    assert_current(session, plan.id)


def test_new_audit_thresholds_reach_the_worklist_at_once(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session, psfs_step=0.5)  # PSFS creeps up: stalled at the defaults
    plan = built.plan
    admin_headers = auth_headers(_admin(session, built))
    _write_through_the_api(client, plan, admin_headers)
    assert "STALLED" in (_worklist_codes(client, built, plan) or [])
    current = client.get("/api/v1/clinic/audit-thresholds", headers=admin_headers)

    changed = client.put(
        "/api/v1/clinic/audit-thresholds",
        json={"stalled_observations": 10},
        headers={**admin_headers, "If-Match": current.headers["ETag"]},
    )

    assert changed.status_code == 200, changed.text
    fresh = _codes(client, plan, admin_headers)
    assert "STALLED" not in fresh
    assert (_worklist_codes(client, built, plan) or []) == list(dict.fromkeys(fresh))
    assert client.get(plan_url(plan.id), headers=admin_headers).json()["reassessment_due"] is False
    assert_current(session, plan.id)


def test_a_new_mcid_reaches_the_stored_attention_at_once(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session)
    plan = built.plan
    measure = _stalling_clinic_measure(session, plan, mcid=5)
    headers = auth_headers(built.clinician)
    _write_through_the_api(client, plan, headers)
    assert "STALLED" in (_worklist_codes(client, built, plan) or [])
    url = f"/api/v1/measures/{measure.id}"
    version = client.get(url, headers=headers).json()["version"]

    changed = client.patch(url, json={"mcid": 1}, headers=if_match(headers, version))

    assert changed.status_code == 200, changed.text
    assert "STALLED" not in _codes(client, plan, headers)
    assert "STALLED" not in (_worklist_codes(client, built, plan) or [])
    assert client.get(plan_url(plan.id), headers=headers).json()["reassessment_due"] is False
    assert_current(session, plan.id)


def _admin(session: Session, built: Any) -> Any:

    return make_user(session, clinic=session.get_one(Clinic, built.plan.clinic_id), role=Role.admin)


def _stalling_clinic_measure(session: Session, plan: Plan, *, mcid: float) -> Measure:
    """A clinic's own measure judged in the current stage, moving 1 a week for three weeks:
    less than an MCID of `mcid` over 14 days or more, so the plan stalls on it."""
    measure = Measure(
        clinic_id=plan.clinic_id,
        code=f"clinic_step_down_{uuid.uuid4().hex[:8]}",
        name="Step-down test",
        category=MeasureCategory.performance,
        unit="reps",
        better=Better.higher,
        mcid=mcid,
    )
    session.add(measure)
    session.flush()
    position = session.scalar(
        select(Criterion.position).where(Criterion.stage_id == plan.current_stage_id)
    )
    session.add(
        Criterion(
            clinic_id=plan.clinic_id,
            plan_id=plan.id,
            stage_id=plan.current_stage_id,
            kind=CriterionKind.progression,
            position=(position or 0) + 1,
            measure_id=measure.id,
            comparator=Comparator.gte,
            target=30,
            mode=Mode.absolute,
            sustained_count=1,
            statement="30 step-downs",
        )
    )
    for week, value in enumerate((10, 11, 12)):
        session.add(
            Observation(
                clinic_id=plan.clinic_id,
                patient_id=plan.patient_id,
                measure_id=measure.id,
                value=value,
                recorded_value=value,
                recorded_unit="reps",
                observed_at=days_ago(21 - 7 * week) + timedelta(hours=1),
                source=ObservationSource.clinician,
                recorded_by_type="user",
                recorded_by_id=uuid.uuid4(),
            )
        )
    session.flush()
    return measure


def test_plans_past_the_first_batch_are_never_served_stale(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clinic-wide change projects a first batch; the rest are stale until projected. The
    plan read renders them afresh, the worklist projects a batch per request (503 while more
    remain), and the daily job drains them."""
    monkeypatch.setattr(clinic, "BATCH", 1)
    first = well_run_plan(session, psfs_step=0.5)
    built = [
        first,
        *(well_run_plan(session, clinician=first.clinician, psfs_step=0.5) for _ in "ab"),
    ]
    admin_headers = auth_headers(_admin(session, first))
    _write_through_the_api(client, first.plan, admin_headers)
    current = client.get("/api/v1/clinic/audit-thresholds", headers=admin_headers)
    changed = client.put(
        "/api/v1/clinic/audit-thresholds",
        json={"stalled_observations": 10},
        headers={**admin_headers, "If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    stale = [b.plan.id for b in built if differences(session, b.plan.id)]
    assert len(stale) == 2  # the first batch: one plan

    for plan_id in stale:
        read = client.get(plan_url(plan_id), headers=admin_headers)
        assert read.json()["reassessment_due"] is False  # rendered afresh, not the stored
    busy = client.get(WORKLIST_URL, headers=auth_headers(first.clinician))
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "2"
    items = listed(client, first.clinician)  # the last stale plan projected first

    assert all("STALLED" not in item["attention_codes"] for item in items)
    for each in built:
        assert_current(session, each.plan.id)


def test_the_daily_job_drains_what_a_clinic_wide_change_left_stale(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clinic, "BATCH", 1)
    first = well_run_plan(session, psfs_step=0.5)
    built = [first, well_run_plan(session, clinician=first.clinician, psfs_step=0.5)]
    measure = _stalling_clinic_measure(session, first.plan, mcid=5)
    headers = auth_headers(first.clinician)
    url = f"/api/v1/measures/{measure.id}"
    version = client.get(url, headers=headers).json()["version"]
    assert client.patch(url, json={"mcid": 1}, headers=if_match(headers, version)).is_success
    long_ago = days_ago(365)

    batches = []
    while batch := catch_up.due(session, first.plan.clinic_id, audited_before=long_ago, limit=1):
        batches.append(batch)

    assert len(batches) == 1  # the one plan the first batch left
    for each in built:
        assert_current(session, each.plan.id)
