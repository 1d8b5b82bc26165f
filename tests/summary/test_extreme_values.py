"""Values an older version stored on a measure without a range, before the input bounds: 1.7e308
on the left and 1e-300 on the right (an infinite LSI), a percent change from 1e-300, and an
infinite value from a conversion that overflowed. The plan's progress, the patient's summary and
the printable page answer 200 for everyone, each such criterion `no_data` with its reason."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.types import Side
from app.measures.models import Measure, MeasureCategory
from app.observations.models import Observation, ObservationSource
from app.plans.models import Criterion, CriterionKind, Plan, Stage
from app.rules.criteria import Better, ChangeUnit, Comparator, Mode
from app.users.models import User
from tests.builders import auth_headers
from tests.summary.builders import at, make_summary_plan

BIG, TINY = 1.7e308, 1e-300
NO_DATA = {
    "Hops as far on the left": "limb symmetry index not a finite number",
    "Reach on the right up by 20 %": "percent change from baseline not a finite number",
    "Holds for 60 s": "value not a finite number",
}


@dataclass(frozen=True)
class Stored:
    plan: Plan
    clinician: User
    patient_user: User
    lsi_ids: set[str]


def _measure(session: Session, plan: Plan, unit: str) -> Measure:
    measure = Measure(
        clinic_id=plan.clinic_id,
        code=f"own_{uuid.uuid4().hex[:8]}",
        name=f"Clinic's own measure in {unit}",
        category=MeasureCategory.performance,
        unit=unit,
        better=Better.higher,
        bilateral=True,
    )
    session.add(measure)
    session.flush()
    return measure


def _criterion(
    plan: Plan,
    measure: Measure,
    statement: str,
    stage: Stage | None = None,
    *,
    position: int = 0,
    **fields: Any,
) -> Criterion:
    return Criterion(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        stage_id=stage.id if stage else None,
        kind=CriterionKind.progression if stage else CriterionKind.discharge,
        position=10 + position,  # after the plan's own criteria
        measure_id=measure.id,
        statement=statement,
        **{"comparator": Comparator.gte, "sustained_count": 1, **fields},
    )


def _stored(
    session: Session, plan: Plan, measure: Measure, value: float, day: float, side: Side
) -> Observation:
    """A row as an older version could have stored it: no validation on the way in."""
    row = Observation(
        clinic_id=plan.clinic_id,
        patient_id=plan.patient_id,
        measure_id=measure.id,
        value=value,
        recorded_value=value,
        recorded_unit=measure.unit,
        side=side,
        observed_at=at(day),
        source=ObservationSource.patient,
        recorded_by_type="user",
        recorded_by_id=uuid.uuid4(),
    )
    session.add(row)
    session.flush()
    return row


def stored_extremes(session: Session) -> Stored:
    built = make_summary_plan(session)
    plan = built.plan
    reach, hold = _measure(session, plan, "cm"), _measure(session, plan, "s")
    first = session.scalars(select(Stage).where(Stage.plan_id == plan.id, Stage.position == 0))
    lsi: dict[str, Any] = {"mode": Mode.limb_symmetry, "involved_side": Side.left, "target": 90.0}
    session.add_all(
        [
            _criterion(plan, reach, "Hops as far on the left", first.one(), **lsi),
            _criterion(plan, reach, "Hops as far on the left", None, **lsi),
            _criterion(
                plan,
                reach,
                "Reach on the right up by 20 %",
                mode=Mode.change_from_baseline,
                change_unit=ChangeUnit.percent,
                side=Side.right,
                target=20.0,
                position=1,
            ),
            _criterion(plan, hold, "Holds for 60 s", target=60.0, position=2),
            _criterion(plan, reach, "Reaches 30 cm", side=Side.none, target=30.0, position=3),
        ]
    )
    left = _stored(session, plan, reach, BIG, 3, Side.left)
    right = _stored(session, plan, reach, TINY, 3, Side.right)
    _stored(session, plan, reach, BIG, 10, Side.right)  # / 1e-300 x 100: not finite
    _stored(session, plan, hold, math.inf, 4, Side.none)  # 1.7e308 min converted to s
    _stored(session, plan, reach, BIG, 5, Side.none)  # finite extremes, judged and drawn
    _stored(session, plan, reach, -BIG, 12, Side.none)
    session.flush()
    return Stored(plan, built.clinician, built.patient_user, {str(left.id), str(right.id)})


def _by_statement(criteria: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["statement"]: c for c in criteria}


@pytest.fixture(params=["clinician", "patient"])
def reader(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_plan_s_progress_answers_with_the_criteria_no_data(
    client: TestClient, session: Session, reader: str
) -> None:
    stored = stored_extremes(session)
    user = stored.clinician if reader == "clinician" else stored.patient_user

    response = client.get(f"/api/v1/plans/{stored.plan.id}/progress", headers=auth_headers(user))

    assert response.status_code == 200, response.text
    body = response.json()
    (stage_lsi,) = [c for c in body["stages"][0]["criteria"] if c["mode"] == "limb_symmetry"]
    assert (stage_lsi["status"], stage_lsi["reason"]) == (
        "no_data",
        NO_DATA[stage_lsi["statement"]],
    )
    assert set(stage_lsi["observation_ids"]) == stored.lsi_ids
    discharge = _by_statement(body["discharge"])
    for statement, reason in NO_DATA.items():
        judged = discharge[statement]
        assert (judged["status"], judged["reason"], judged["current"]) == ("no_data", reason, None)
        assert judged["progress"] == 0
    extreme = discharge["Reaches 30 cm"]
    assert (extreme["status"], extreme["current"]) == ("not_met", -BIG)
    assert 0 <= extreme["progress"] <= 1
    assert (body["may_advance"], body["discharge_ready"]) == (False, False)


def test_the_patient_s_summary_answers_with_the_criteria_no_data(
    client: TestClient, session: Session, reader: str
) -> None:
    stored = stored_extremes(session)
    user = stored.clinician if reader == "clinician" else stored.patient_user

    response = client.get(f"/api/v1/plans/{stored.plan.id}/summary", headers=auth_headers(user))

    assert response.status_code == 200, response.text
    body = response.json()
    discharge = _by_statement(body["discharge"]["criteria"])
    for statement in NO_DATA:
        summarised = discharge[statement]
        assert (summarised["status"], summarised["met"], summarised["current"]) == (
            "no_data",
            False,
            None,
        )
        assert summarised["text"].startswith("Not measured yet")
        assert all(math.isfinite(p["value"]) for p in summarised["chart"]["points"])
    assert discharge["Hops as far on the left"]["chart"]["points"] == []
    assert discharge["Holds for 60 s"]["chart"]["points"] == []
    drawn = discharge["Reaches 30 cm"]["chart"]["points"]
    assert [p["value"] for p in drawn] == [BIG, -BIG]
    assert body["discharge"]["ready"] is False


def test_the_printable_summary_answers_and_draws_every_chart(
    client: TestClient, session: Session, reader: str
) -> None:
    stored = stored_extremes(session)
    user = stored.clinician if reader == "clinician" else stored.patient_user

    response = client.get(
        f"/api/v1/plans/{stored.plan.id}/summary.html", headers=auth_headers(user)
    )

    assert response.status_code == 200, response.text
    page = response.text
    assert page.count('<svg class="chart"') == page.count("<figure")
    for statement in NO_DATA:
        assert statement in page
    assert "e308" in page  # the extreme finite series, on an axis counted in powers of ten
    assert not re.search(r"\b(inf|nan)\b", page, re.IGNORECASE)


def test_marking_the_values_in_error_brings_the_criterion_back(
    client: TestClient, session: Session
) -> None:
    stored = stored_extremes(session)
    headers = auth_headers(stored.clinician)
    for observation_id in sorted(stored.lsi_ids):
        marked = client.post(
            f"/api/v1/observations/{observation_id}/entered-in-error",
            json={"reason": "typed the exponent"},
            headers={**headers, "If-Match": '"1"'},
        )
        assert marked.status_code == 200, marked.text

    response = client.get(f"/api/v1/plans/{stored.plan.id}/progress", headers=headers)

    assert response.status_code == 200, response.text
    lsi = _by_statement(response.json()["discharge"])["Hops as far on the left"]
    assert lsi["status"] == "no_data"
    assert lsi["reason"] == "no left and right values within 7 days"
