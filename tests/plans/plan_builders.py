"""Plans built straight with the ORM, for the progress and lifecycle tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, Driver, Finding
from app.core.types import Side
from app.measures.models import Measure
from app.observations.models import Observation, ObservationSource
from app.patients.models import Patient
from app.plans.models import Criterion, CriterionKind, Plan, PlanDriver, PlanStatus, Stage
from app.rules.criteria import ChangeUnit, Comparator, Mode
from app.users.models import User
from tests.builders import make_full_assessment

CriterionSpec = dict[str, Any]


def criterion(code: str, comparator: str, target: float, **fields: Any) -> CriterionSpec:
    """A criterion to build: a catalog measure code, a comparator and a target."""
    return {"code": code, "comparator": comparator, "target": target, **fields}


PAIN_SETTLED = criterion("pain_nrs", "lte", 2, statement="Pain 2/10 or less on stairs")
SQUAT_REPS = criterion(
    "single_leg_squat_reps", "gte", 15, side="left", statement="15 left single-leg squats"
)
HOP_LSI = criterion(
    "single_leg_hop",
    "gte",
    90,
    mode="limb_symmetry",
    involved_side="left",
    statement="Hops as far on the left as on the right",
)
PSFS_8 = criterion("psfs", "gte", 8, statement="Rates the nominated activities 8/10 or better")


def measure_id(session: Session, code: str) -> uuid.UUID:
    found = session.scalar(
        select(Measure.id).where(Measure.clinic_id.is_(None), Measure.code == code)
    )
    assert found is not None, code
    return found


def build_criterion(
    session: Session, plan: Plan, spec: CriterionSpec, position: int, stage_id: uuid.UUID | None
) -> Criterion:
    """A progression criterion of the stage, or (without a stage) a discharge criterion."""
    fields = dict(spec)
    mode = Mode(fields.pop("mode", "absolute"))
    return Criterion(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        stage_id=stage_id,
        kind=CriterionKind.progression if stage_id else CriterionKind.discharge,
        position=position,
        measure_id=measure_id(session, fields.pop("code")),
        comparator=Comparator(fields.pop("comparator")),
        target=fields.pop("target"),
        mode=mode,
        change_unit=ChangeUnit.points if mode is Mode.change_from_baseline else None,
        side=Side(fields["side"]) if fields.get("side") else None,
        involved_side=Side(fields["involved_side"]) if fields.get("involved_side") else None,
        sustained_count=fields.get("sustained_count", 1),
        statement=fields.get("statement", f"{spec['code']} {spec['comparator']} {spec['target']}"),
    )


def make_plan(
    session: Session,
    *,
    assessment: Assessment | None = None,
    patient: Patient | None = None,
    clinician: User | None = None,
    stages: Sequence[Sequence[CriterionSpec]] = ((PAIN_SETTLED,), (SQUAT_REPS,), (HOP_LSI,)),
    discharge: Sequence[CriterionSpec] = (HOP_LSI, PSFS_8),
    timeline: bool = True,
    target_drivers: bool = True,
    active: bool = False,
    **overrides: Any,
) -> Plan:
    """A draft plan (or an active one, on its first stage) from a finalised assessment."""
    assessment = assessment or make_full_assessment(
        session, patient=patient, clinician=clinician, finalized=True
    )
    plan = Plan(
        id=uuid.uuid4(),
        clinic_id=assessment.clinic_id,
        patient_id=assessment.patient_id,
        assessment_id=assessment.id,
        clinician_id=assessment.clinician_id,
        title="Knee: load tolerance and return to running",
        **({"expected_sessions_min": 12, "expected_sessions_max": 20} if timeline else {}),
        expected_end_on=(assessment.assessed_at + timedelta(weeks=20)).date() if timeline else None,
        **overrides,
    )
    session.add(plan)
    session.flush()
    if target_drivers:
        drivers = session.scalars(select(Driver.id).where(Driver.assessment_id == assessment.id))
        session.add_all(
            PlanDriver(clinic_id=plan.clinic_id, plan_id=plan.id, driver_id=d) for d in drivers
        )
    for position, specs in enumerate(stages):
        _add_stage(session, plan, position, specs)
    for position, spec in enumerate(discharge):
        session.add(build_criterion(session, plan, spec, position, None))
    session.flush()
    if active:
        _activate(session, plan)
    return plan


def _add_stage(
    session: Session, plan: Plan, position: int, specs: Sequence[CriterionSpec]
) -> Stage:
    stage = Stage(
        id=uuid.uuid4(),
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        position=position,
        name=f"Stage {position + 1}",
        goal="Build capacity",
        expected_weeks=4,
    )
    session.add(stage)
    session.flush()
    session.add_all(build_criterion(session, plan, s, i, stage.id) for i, s in enumerate(specs))
    return stage


def _activate(session: Session, plan: Plan) -> None:
    first = session.scalars(
        select(Stage).where(Stage.plan_id == plan.id).order_by(Stage.position)
    ).first()
    assert first is not None
    now = datetime.now(UTC)
    plan.status = PlanStatus.active
    plan.activated_at = now
    plan.current_stage_id = first.id
    first.started_on = now.date()
    session.flush()


def make_observation(
    session: Session,
    patient_id: uuid.UUID,
    clinic_id: uuid.UUID,
    code: str,
    value: float,
    observed_at: datetime,
    side: str = "none",
) -> Observation:
    observation = Observation(
        clinic_id=clinic_id,
        patient_id=patient_id,
        measure_id=measure_id(session, code),
        value=value,
        recorded_value=value,
        recorded_unit=session.scalar(select(Measure.unit).where(Measure.code == code)) or "",
        side=Side(side),
        observed_at=observed_at,
        source=ObservationSource.clinician,
        recorded_by_type="user",
        recorded_by_id=uuid.uuid4(),
    )
    session.add(observation)
    session.flush()
    return observation


def add_finding(
    session: Session, assessment: Assessment, code: str, value: float, unit: str, side: str = "none"
) -> Finding:
    finding = Finding(
        clinic_id=assessment.clinic_id,
        assessment_id=assessment.id,
        position=10,
        name=code,
        measure_code=code,
        side=Side(side),
        value=value,
        unit=unit,
    )
    session.add(finding)
    session.flush()
    return finding


def if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


def plan_url(plan_id: uuid.UUID | str, action: str = "") -> str:
    return f"/api/v1/plans/{plan_id}" + (f"/{action}" if action else "")
