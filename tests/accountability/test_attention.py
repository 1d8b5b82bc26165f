"""The plan's stored attention: computed from the audit and the criteria on write."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.plans.models import AttentionRank, Plan
from app.projections import catch_up
from tests.accountability.builders import NOW, TODAY, ids, listed, well_run_plan
from tests.builders import auth_headers
from tests.plans.plan_builders import PAIN_SETTLED, if_match, plan_url


def test_the_stored_attention_comes_from_the_audit_and_the_criteria(
    client: TestClient, session: Session
) -> None:
    stalled = well_run_plan(session, psfs_step=0.5)
    clinician = stalled.clinician
    ready = well_run_plan(session, clinician=clinician, psfs_step=2)  # PSFS 9: stage 1 met
    calm = well_run_plan(session, clinician=clinician)
    assert calm.plan.id  # built, so that the worklist has a plan to leave out

    items = listed(client, clinician)  # the commit before the request projects all three

    assert ids(items) == [str(stalled.plan.id), str(ready.plan.id)]
    assert items[0]["attention_codes"] == ["STALLED"]
    assert items[1]["flags"]["ready_to_advance"] is True
    assert items[1]["current_stage_name"] == "Stage 1"
    assert items[1]["stage_due_on"] == (TODAY + timedelta(days=12)).isoformat()
    assert all(item["audited_at"] for item in items)


def test_a_daily_refresh_audits_the_plans_not_audited_since(
    client: TestClient, session: Session
) -> None:
    stalled = well_run_plan(session, psfs_step=0.5)
    clinician = stalled.clinician
    fresh = well_run_plan(session, clinician=clinician, psfs_step=0.5)
    session.commit()  # both projected now
    # As a projection from before the plan stalled would stand: audited yesterday, no finding.
    session.execute(
        update(Plan)
        .where(Plan.id == stalled.plan.id)
        .values(
            audited_at=NOW - timedelta(days=1),
            attention_codes=[],
            attention_rank=AttentionRank.none.value,
        )
    )
    assert ids(listed(client, clinician)) == [str(fresh.plan.id)]

    projected = catch_up.due(session, clinician.clinic_id, audited_before=NOW, limit=10)

    assert projected == [(clinician.clinic_id, stalled.plan.id)]
    assert set(ids(listed(client, clinician))) == {str(stalled.plan.id), str(fresh.plan.id)}


def test_a_transition_refreshes_the_plans_attention(client: TestClient, session: Session) -> None:
    built = well_run_plan(session, discharge=[PAIN_SETTLED])
    plan, headers = built.plan, auth_headers(built.clinician)
    version = client.get(plan_url(plan.id), headers=headers).json()["version"]

    held = client.post(
        plan_url(plan.id, "hold"), json={"reason": "Travelling"}, headers=if_match(headers, version)
    )

    assert held.status_code == 200, held.text
    read = client.get(plan_url(plan.id), headers=headers)
    assert read.json()["reassessment_due"] is True  # PAIN_ONLY_DISCHARGE is critical
    assert read.json()["version"] == held.json()["version"]


def test_passive_only_sessions_recorded_over_http_put_the_plan_on_the_worklist(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session)
    headers = auth_headers(built.clinician)
    assert ids(listed(client, built.clinician)) == []
    for day in (2, 1):
        visit = {
            "occurred_at": (NOW - timedelta(days=day)).isoformat(),
            "adjuncts": [{"kind": "soft_tissue", "minutes": 20}, {"kind": "heat"}],
            "pain_before": 4,
            "pain_after": 2,
        }
        created = client.post(plan_url(built.plan.id, "sessions"), json=visit, headers=headers)
        assert created.status_code == 201, created.text

    items = listed(client, built.clinician)

    assert ids(items) == [str(built.plan.id)]
    assert "PASSIVE_ONLY" in items[0]["attention_codes"]
    assert items[0]["flags"]["reassessment_due"] is True
    assert client.get(plan_url(built.plan.id), headers=headers).json()["reassessment_due"] is True


def test_a_progressed_prescription_clears_not_progressing(
    client: TestClient, session: Session
) -> None:
    built = well_run_plan(session)
    for prescription in built.program:
        prescription.versions[-1].effective_on = TODAY - timedelta(days=20)
    assert "NOT_PROGRESSING" in listed(client, built.clinician)[0]["attention_codes"]
    headers = auth_headers(built.clinician)
    for prescription in built.program:
        url = f"/api/v1/prescriptions/{prescription.id}"
        current = client.get(url, headers=headers).json()
        changed = client.patch(
            url,
            json={"reason": "2-for-2 met", "load_value": current["current"]["load_value"] + 2},
            headers={**headers, "If-Match": f'"{current["version"]}"'},
        )
        assert changed.status_code == 200, changed.text

    assert ids(listed(client, built.clinician)) == []
