"""NOT_INDIVIDUALISED through the stored program signature: another active plan of the clinic
whose whole active program is the same, found with one indexed lookup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accountability import programs
from app.clinics.models import Clinic
from app.exercises.models import Exercise
from app.plans.models import Plan, PlanStatus
from app.prescriptions.models import Prescription, PrescriptionStatus
from app.projections import catch_up, step
from tests.accountability.builders import TODAY, WellRun, make_prescription, well_run_plan
from tests.builders import make_clinic, make_patient
from tests.conftest import StatementCounter
from tests.plans.plan_builders import make_plan

CHANGED = [TODAY - timedelta(days=20), TODAY - timedelta(days=3)]


def _refresh(session: Session, plan: Plan) -> list[str]:
    """Refreshes the plan's stored attention and returns its stored codes."""
    step.project(session, [(plan.clinic_id, plan.id)])
    stored = session.scalar(select(Plan.attention_codes).where(Plan.id == plan.id))
    return list(stored or [])


def _running(
    session: Session,
    program: Sequence[Prescription],
    *,
    clinic: Clinic | None = None,
    refresh: bool = True,
    **dose: Any,
) -> Plan:
    """Another patient's active plan running `program`'s exercises (at `dose` if given)."""
    clinic = clinic or session.get_one(Clinic, program[0].clinic_id)
    plan = make_plan(session, patient=make_patient(session, clinic=clinic), active=True)
    for prescription in program:
        exercise = session.get_one(Exercise, prescription.exercise_id)
        make_prescription(session, plan, changed_on=CHANGED, exercise=exercise, **dose)
    if refresh:
        _refresh(session, plan)
    return plan


@pytest.fixture
def built(session: Session) -> WellRun:
    built = well_run_plan(session)
    assert _refresh(session, built.plan) == []
    return built


def test_a_copy_in_the_clinic_is_found(session: Session, built: WellRun) -> None:
    other = _running(session, built.program)

    assert _refresh(session, built.plan) == ["NOT_INDIVIDUALISED"]
    assert _refresh(session, other) == ["NOT_INDIVIDUALISED"]  # each is the other's copy


def test_the_stored_signature_is_the_active_programs(session: Session, built: WellRun) -> None:
    plan = built.plan
    stored = session.scalar(select(Plan.program_signature).where(Plan.id == plan.id))
    assert stored == programs.signature(programs.of_plan(session, plan))
    assert stored is not None
    assert len(stored) == 32

    for prescription in built.program:
        prescription.status = PrescriptionStatus.stopped
    _refresh(session, plan)
    assert session.scalar(select(Plan.program_signature).where(Plan.id == plan.id)) is None


def test_a_plan_is_not_its_own_copy(session: Session, built: WellRun) -> None:
    assert _refresh(session, built.plan) == []
    assert _refresh(session, built.plan) == []


@pytest.mark.parametrize("status", [PlanStatus.on_hold, PlanStatus.discharged, PlanStatus.draft])
def test_only_active_plans_count(session: Session, built: WellRun, status: PlanStatus) -> None:
    other = _running(session, built.program)
    other.status = status
    session.flush()

    assert _refresh(session, built.plan) == []


def test_another_clinics_plan_never_counts(session: Session, built: WellRun) -> None:
    elsewhere = _running(session, built.program, clinic=make_clinic(session), refresh=False)
    stored = session.scalar(select(Plan.program_signature).where(Plan.id == built.plan.id))
    elsewhere.program_signature = stored  # the very same program, in another clinic
    session.flush()

    assert _refresh(session, built.plan) == []


def test_the_same_exercises_at_another_dose_or_a_part_are_not_copies(
    session: Session, built: WellRun
) -> None:
    _running(session, built.program, sets=4)
    _running(session, built.program[:1])

    assert _refresh(session, built.plan) == []


def test_a_plan_not_audited_since_the_signature_exists_is_not_counted(
    session: Session, built: WellRun
) -> None:
    """NULL is "not computed yet": the daily re-audit (rehab housekeeping) fills it."""
    other = _running(session, built.program, refresh=False)
    assert other.program_signature is None
    assert _refresh(session, built.plan) == []

    catch_up.due(session, other.clinic_id, audited_before=built.plan.created_at, limit=10)
    assert _refresh(session, built.plan) == ["NOT_INDIVIDUALISED"]


def _refresh_statements(session: Session, statements: StatementCounter, plan: Plan) -> list[str]:
    session.flush()
    statements.reset()
    step.project(session, [(plan.clinic_id, plan.id)])
    return list(statements.statements)


def test_refreshing_costs_the_same_statements_however_many_plans_share_the_exercises(
    session: Session, built: WellRun, statements: StatementCounter
) -> None:
    alone = _refresh_statements(session, statements, built.plan)
    for load in range(12):
        _running(session, built.program, load_value=50.0 + load)
    _running(session, built.program)  # and one copy

    crowded = _refresh_statements(session, statements, built.plan)

    assert len(crowded) == len(alone)
    # Other plans are looked up by their stored signature: no other plan's prescriptions read.
    assert sum("FROM prescriptions" in s for s in crowded) == 1
    assert _refresh(session, built.plan) == ["NOT_INDIVIDUALISED"]
