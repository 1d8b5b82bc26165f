from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.rules.plan_audit import (
    AuditThresholds,
    MeasureSeries,
    PlanFacts,
    PrescriptionFacts,
    SessionFacts,
    Severity,
    audit,
    program_signature,
    reassessment_due,
)

T = AuditThresholds()
TODAY = date(2026, 6, 1)
HOP = "single_leg_hop"


def session(
    n: int, *, active: int = 2, adjuncts: int = 0, measured: tuple[str, ...] = (HOP,)
) -> SessionFacts:
    return SessionFacts(
        id=f"s{n}",
        number=n,
        occurred_on=TODAY - timedelta(days=30 - n),
        active_work=active,
        adjuncts=adjuncts,
        measured=frozenset(measured),
    )


def rx(
    n: int, *, changed_days_ago: int = 3, stage: str = "stage1", driver: str | None = "d1"
) -> PrescriptionFacts:
    return PrescriptionFacts(
        id=f"p{n}",
        stage_id=stage,
        active=True,
        started_on=TODAY - timedelta(days=40),
        last_change_on=TODAY - timedelta(days=changed_days_ago),
        driver_id=driver,
        signature=(f"exercise{n}", 3, 8, 40.0),
    )


def series(*values: float, days_apart: int = 7, mcid: float = 10) -> MeasureSeries:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    points = tuple((start + timedelta(days=i * days_apart), v) for i, v in enumerate(values))
    return MeasureSeries(measure_id=HOP, code=HOP, mcid=mcid, points=points)


WELL_RUN = PlanFacts(
    status="active",
    created_on=TODAY - timedelta(days=40),
    today=TODAY,
    discharge_categories=("performance", "patient_reported_function", "pain"),
    current_stage_id="stage1",
    current_stage_started_on=TODAY - timedelta(weeks=3),
    current_stage_expected_weeks=4,
    current_criteria_measures=frozenset({HOP}),
    max_sessions=12,
    sessions=tuple(session(n) for n in range(1, 7)),
    prescriptions=(rx(1), rx(2, changed_days_ago=10)),
    series=(series(120, 135, 150),),
)


def codes(facts: PlanFacts, thresholds: AuditThresholds = T) -> list[str]:
    return [f.code for f in audit(facts, thresholds)]


def test_a_well_run_plan_has_no_findings() -> None:
    assert audit(WELL_RUN, T) == []
    assert not reassessment_due([])


@pytest.mark.parametrize(
    ("kinds", "fires"),
    [
        (["active"] * 4 + ["passive"] * 2, True),
        (["active"] * 5 + ["passive"], False),
        (["passive", "active", "passive", "active", "passive", "active"], False),
        (
            ["passive", "passive", "passive", "active", "active", "active", "passive", "active"],
            False,
        ),
        (["passive", "passive", "active", "passive", "active"], True),
        (["mixed"] * 6, False),
    ],
)
def test_passive_only_latest_two_or_more_than_half(kinds: list[str], fires: bool) -> None:
    shapes = {"active": (2, 0), "passive": (0, 2), "mixed": (1, 2)}
    sessions = tuple(
        session(n, active=shapes[k][0], adjuncts=shapes[k][1]) for n, k in enumerate(kinds, 1)
    )
    found = audit(replace(WELL_RUN, sessions=sessions), T)
    assert ("PASSIVE_ONLY" in [f.code for f in found]) is fires
    if fires:
        assert reassessment_due(found)


@pytest.mark.parametrize(("days", "fires"), [(14, False), (15, True)])
def test_not_progressing_after_fourteen_days_unchanged(days: int, fires: bool) -> None:
    facts = replace(WELL_RUN, prescriptions=(rx(1, changed_days_ago=days), rx(2)))
    found = [f for f in audit(facts, T) if f.code == "NOT_PROGRESSING"]
    assert bool(found) is fires
    assert all(f.severity is Severity.warning for f in found)


def test_a_stage_where_nothing_progressed_is_critical() -> None:
    facts = replace(
        WELL_RUN, prescriptions=(rx(1, changed_days_ago=20), rx(2, changed_days_ago=30))
    )
    found = [f for f in audit(facts, T) if f.code == "NOT_PROGRESSING"]
    assert [f.severity for f in found].count(Severity.critical) == 1
    assert len(found) == 3


def test_not_progressing_only_while_active() -> None:
    facts = replace(WELL_RUN, status="on_hold", prescriptions=(rx(1, changed_days_ago=60),))
    assert "NOT_PROGRESSING" not in codes(facts)


def test_a_clinic_can_change_the_threshold() -> None:
    facts = replace(WELL_RUN, prescriptions=(rx(1, changed_days_ago=10), rx(2)))
    assert "NOT_PROGRESSING" in codes(facts, AuditThresholds(not_progressing_days=7))


def test_not_individualised_when_copied_or_untied() -> None:
    copied = replace(WELL_RUN, same_program_elsewhere=True)
    (finding,) = audit(copied, T)
    assert (finding.code, finding.severity) == ("NOT_INDIVIDUALISED", Severity.warning)
    assert finding.evidence == {"exercises": 2}
    untied = replace(WELL_RUN, prescriptions=(rx(1, driver=None), rx(2)))
    assert codes(untied) == ["NOT_INDIVIDUALISED"]


def test_a_plan_with_no_active_program_copies_nothing() -> None:
    stopped = tuple(replace(p, active=False) for p in WELL_RUN.prescriptions)
    facts = replace(WELL_RUN, prescriptions=stopped, same_program_elsewhere=True)
    assert "NOT_INDIVIDUALISED" not in codes(facts)


def test_program_signature_ignores_order() -> None:
    assert program_signature((rx(1), rx(2))) == program_signature((rx(2), rx(1)))
    assert program_signature((rx(1),)) != program_signature((rx(1), rx(2)))


def test_program_signature_is_the_whole_active_program_at_its_doses() -> None:
    """A copy is the same exercises at the same doses, and only the active ones count."""
    mine = (rx(1), rx(2))
    stopped = replace(rx(3), active=False)
    assert program_signature((*mine, stopped)) == program_signature(mine)
    heavier = replace(rx(2), signature=("exercise2", 3, 8, 42.5))
    assert program_signature((rx(1), heavier)) != program_signature(mine)
    assert program_signature((stopped,)) == ()


def test_pain_only_discharge_criteria_or_an_override() -> None:
    assert "PAIN_ONLY_DISCHARGE" in codes(replace(WELL_RUN, discharge_categories=("pain",)))
    overridden = replace(WELL_RUN, status="discharged", discharged_against_criteria=True)
    assert codes(overridden) == ["PAIN_ONLY_DISCHARGE"]


@pytest.mark.parametrize(("age", "fires"), [(7, False), (8, True)])
def test_no_plan_for_a_draft_older_than_seven_days(age: int, fires: bool) -> None:
    draft = replace(
        WELL_RUN,
        status="draft",
        created_on=TODAY - timedelta(days=age),
        has_stages=False,
        sessions=(),
        current_stage_id=None,
    )
    found = [f for f in audit(draft, T) if f.code == "NO_PLAN"]
    assert bool(found) is fires
    if fires:
        assert "stages" in found[0].evidence["missing"]


@pytest.mark.parametrize(("count", "fires"), [(1, False), (2, True)])
def test_no_plan_when_sessions_run_without_an_active_plan(count: int, fires: bool) -> None:
    draft = replace(
        WELL_RUN,
        status="draft",
        created_on=TODAY,
        sessions=tuple(session(n) for n in range(1, count + 1)),
    )
    assert ("NO_PLAN" in codes(draft)) is fires


@pytest.mark.parametrize(
    ("weeks_ago", "met", "fires"), [(4, False, False), (5, False, True), (5, True, False)]
)
def test_milestone_overdue_past_expected_weeks_with_criteria_unmet(
    weeks_ago: int, met: bool, fires: bool
) -> None:
    facts = replace(
        WELL_RUN,
        current_stage_started_on=TODAY - timedelta(weeks=weeks_ago),
        current_stage_criteria_met=met,
    )
    assert ("MILESTONE_OVERDUE" in codes(facts)) is fires


@pytest.mark.parametrize(("sessions", "fires"), [(12, False), (13, True)])
def test_over_session_estimate_past_the_maximum(sessions: int, fires: bool) -> None:
    facts = replace(WELL_RUN, sessions=tuple(session(n) for n in range(1, sessions + 1)))
    assert ("OVER_SESSION_ESTIMATE" in codes(facts)) is fires


@pytest.mark.parametrize(
    ("values", "days_apart", "fires"),
    [
        ((120, 125, 129), 7, True),
        ((120, 125, 130), 7, False),
        ((120, 125, 129), 6, False),
        ((100, 140, 120, 125, 129), 7, True),
        ((120, 125), 14, False),
    ],
)
def test_stalled_when_less_than_mcid_over_three_observations_and_fourteen_days(
    values: tuple[float, ...], days_apart: int, fires: bool
) -> None:
    facts = replace(WELL_RUN, series=(series(*values, days_apart=days_apart),))
    found = [f for f in audit(facts, T) if f.code == "STALLED"]
    assert bool(found) is fires
    if fires:
        assert found[0].severity is Severity.critical
        assert reassessment_due(found)


def test_stalled_skips_measures_without_an_mcid() -> None:
    facts = replace(WELL_RUN, series=(replace(series(120, 120, 120), mcid=None),))
    assert "STALLED" not in codes(facts)


@pytest.mark.parametrize(("unmeasured", "fires"), [(2, False), (3, True)])
def test_no_recent_measurement_after_three_sessions(unmeasured: int, fires: bool) -> None:
    sessions = [session(n) for n in range(1, 4)]
    sessions += [session(n, measured=("pain_nrs",)) for n in range(4, 4 + unmeasured)]
    facts = replace(WELL_RUN, sessions=tuple(sessions))
    assert ("NO_RECENT_MEASUREMENT" in codes(facts)) is fires


def test_findings_come_most_severe_first() -> None:
    facts = replace(
        WELL_RUN,
        sessions=tuple(session(n, active=0, adjuncts=1) for n in range(1, 14)),
        prescriptions=(rx(1, changed_days_ago=20),),
    )
    severities = [f.severity for f in audit(facts, T)]
    assert severities == sorted(
        severities, key=[Severity.critical, Severity.warning, Severity.info].index
    )
    assert severities[0] is Severity.critical


def days_ago(days: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days), time(9), tzinfo=UTC)


@pytest.mark.parametrize(
    ("reassessed_at", "fires"),
    [
        (None, True),
        (datetime(2026, 4, 30, tzinfo=UTC), True),
        (datetime(2026, 5, 2, tzinfo=UTC), False),
        (datetime(2026, 5, 15, tzinfo=UTC), False),
    ],
)
def test_a_reassessment_answers_a_stall_observed_before_it(
    reassessed_at: datetime | None, fires: bool
) -> None:
    facts = replace(WELL_RUN, series=(series(120, 125, 129),), reassessed_at=reassessed_at)
    assert ("STALLED" in codes(facts)) is fires


def test_a_stall_after_the_reassessment_is_found_again() -> None:
    facts = replace(
        WELL_RUN,
        series=(series(100, 140, 120, 125, 129),),
        reassessed_at=datetime(2026, 5, 10, tzinfo=UTC),
    )
    found = [f for f in audit(facts, T) if f.code == "STALLED"]
    assert [f.evidence["moved"] for f in found] == [9]


@pytest.mark.parametrize(("reassessed_days_ago", "fires"), [(None, True), (10, False), (16, True)])
def test_a_reassessment_restarts_the_not_progressing_clock(
    reassessed_days_ago: int | None, fires: bool
) -> None:
    facts = replace(
        WELL_RUN,
        prescriptions=(rx(1, changed_days_ago=20), rx(2)),
        reassessed_at=days_ago(reassessed_days_ago) if reassessed_days_ago else None,
    )
    found = [f for f in audit(facts, T) if f.code == "NOT_PROGRESSING"]
    assert bool(found) is fires


def test_a_reassessment_answers_a_stage_that_stopped_progressing() -> None:
    stale = (rx(1, changed_days_ago=20), rx(2, changed_days_ago=30))
    assert reassessment_due(audit(replace(WELL_RUN, prescriptions=stale), T))
    after = replace(WELL_RUN, prescriptions=stale, reassessed_at=days_ago(3))
    assert "NOT_PROGRESSING" not in codes(after)
    assert not reassessment_due(audit(after, T))


@pytest.mark.parametrize(("reassessed_days_ago", "fires"), [(None, True), (40, True), (25, False)])
def test_no_recent_measurement_counts_sessions_from_the_reassessment(
    reassessed_days_ago: int | None, fires: bool
) -> None:
    sessions = [session(n) for n in range(1, 4)]
    sessions += [session(n, measured=("pain_nrs",)) for n in range(4, 7)]  # days 26-24 ago
    facts = replace(
        WELL_RUN,
        sessions=tuple(sessions),
        reassessed_at=days_ago(reassessed_days_ago) if reassessed_days_ago else None,
    )
    assert ("NO_RECENT_MEASUREMENT" in codes(facts)) is fires


def test_a_reassessment_does_not_answer_passive_care() -> None:
    passive = tuple(session(n, active=0, adjuncts=2) for n in range(1, 5))
    facts = replace(WELL_RUN, sessions=passive, reassessed_at=days_ago(1))
    assert "PASSIVE_ONLY" in codes(facts)
