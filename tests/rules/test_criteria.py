from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.rules.criteria import (
    Better,
    ChangeUnit,
    Comparator,
    CriterionSpec,
    MeasureSpec,
    Mode,
    Point,
    Status,
    compare,
    evaluate,
    evaluate_group,
    limb_symmetry_index,
    progress_fraction,
)

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
HOP = MeasureSpec(unit="cm", better=Better.higher)
TIMED_HOP = MeasureSpec(unit="s", better=Better.lower)
PSFS = MeasureSpec(unit="{score}", better=Better.higher, mcid=2)
PAIN = MeasureSpec(unit="{score}", better=Better.lower, mcid=2)
STRENGTH = MeasureSpec(unit="kg", better=Better.higher)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def pts(*values: float, unit: str = "{score}", side: str = "none", start: int = 0) -> list[Point]:
    return [
        Point(id=f"{side}{i}", value=v, unit=unit, observed_at=day(start + i * 7), side=side)
        for i, v in enumerate(values)
    ]


@pytest.mark.parametrize(
    ("value", "comparator", "target", "expected"),
    [
        (90, Comparator.gte, 90, True),
        (90, Comparator.gt, 90, False),
        (90, Comparator.lte, 90, True),
        (90, Comparator.lt, 90, False),
        (89.99, Comparator.gte, 90, False),
        (90.01, Comparator.gt, 90, True),
        (2, Comparator.lt, 3, True),
        (0.1 + 0.2, Comparator.lte, 0.3, True),
        (0.1 + 0.2, Comparator.gt, 0.3, False),
        (3, Comparator.lte, 2, False),
    ],
)
def test_each_comparator_and_values_exactly_at_the_target(
    value: float, comparator: Comparator, target: float, expected: bool
) -> None:
    assert compare(value, comparator, target) is expected


@pytest.mark.parametrize(
    ("values", "comparator", "target", "status", "current"),
    [
        ((3, 5, 8), Comparator.gte, 8, Status.met, 8),
        ((3, 5, 7.9), Comparator.gte, 8, Status.not_met, 7.9),
        ((9, 4, 1), Comparator.lte, 2, Status.met, 1),
        ((), Comparator.gte, 8, Status.no_data, None),
    ],
)
def test_absolute_uses_the_latest_value(
    values: tuple[float, ...],
    comparator: Comparator,
    target: float,
    status: Status,
    current: float | None,
) -> None:
    result = evaluate(CriterionSpec(comparator, target), PSFS, pts(*values), counted_from=START)
    assert result.status is status
    assert result.current == current
    if values:
        assert result.observation_ids == (f"none{len(values) - 1}",)


def test_absolute_progress_runs_from_baseline_to_target() -> None:
    result = evaluate(CriterionSpec(Comparator.gte, 8), PSFS, pts(2, 5), counted_from=START)
    assert result.baseline == 2
    assert result.progress == pytest.approx(0.5)
    worse = evaluate(CriterionSpec(Comparator.gte, 8), PSFS, pts(4, 1), counted_from=START)
    assert worse.progress == 0.0


def test_observations_before_the_plan_do_not_count_but_the_finding_is_the_baseline() -> None:
    early = Point("old", 9, "{score}", START - timedelta(days=3))
    result = evaluate(
        CriterionSpec(Comparator.gte, 8),
        PSFS,
        [early, *pts(4)],
        counted_from=START,
        baseline_value=2,
    )
    assert result.status is Status.not_met
    assert result.current == 4
    assert result.baseline == 2
    assert "old" not in result.observation_ids


@pytest.mark.parametrize(
    ("values", "count", "status", "reason"),
    [
        ((9, 9, 9), 3, Status.met, None),
        ((9, 7, 9), 3, Status.not_met, None),
        ((2, 9, 9), 2, Status.met, None),
        ((9, 9), 3, Status.not_met, "2 of 3 consecutive observations so far"),
    ],
)
def test_sustained_needs_each_of_the_latest_n(
    values: tuple[float, ...], count: int, status: Status, reason: str | None
) -> None:
    spec = CriterionSpec(Comparator.gte, 8, sustained_count=count)
    result = evaluate(spec, PSFS, pts(*values), counted_from=START)
    assert result.status is status
    assert result.reason == reason
    assert len(result.observation_ids) == min(count, len(values))


def test_absolute_on_one_side_ignores_the_other() -> None:
    points = pts(30, unit="kg", side="left") + pts(50, unit="kg", side="right")
    spec = CriterionSpec(Comparator.gte, 40, side="left")
    assert evaluate(spec, STRENGTH, points, counted_from=START).status is Status.not_met


def test_limb_symmetry_from_left_and_right() -> None:
    left = pts(120, 150, 171, unit="cm", side="left")
    right = pts(180, 185, 190, unit="cm", side="right")
    spec = CriterionSpec(Comparator.gte, 90, mode=Mode.limb_symmetry, involved_side="left")
    result = evaluate(spec, HOP, left + right, counted_from=START)
    assert result.status is Status.met
    assert result.current == pytest.approx(171 / 190 * 100)
    assert result.baseline == pytest.approx(120 / 180 * 100)
    assert set(result.observation_ids) == {"left2", "right2"}


def test_limb_symmetry_just_under_target_is_not_met() -> None:
    points = pts(170, unit="cm", side="left") + pts(190, unit="cm", side="right")
    spec = CriterionSpec(Comparator.gte, 90, mode=Mode.limb_symmetry, involved_side="left")
    result = evaluate(spec, HOP, points, counted_from=START)
    assert result.status is Status.not_met
    assert result.current == pytest.approx(89.47, abs=0.01)


def test_limb_symmetry_for_a_timed_hop_inverts_so_more_is_better() -> None:
    assert limb_symmetry_index(involved=2.5, uninvolved=2.0, better=Better.lower) == 80
    points = pts(2.2, unit="s", side="right") + pts(2.0, unit="s", side="left")
    spec = CriterionSpec(Comparator.gte, 90, mode=Mode.limb_symmetry, involved_side="right")
    result = evaluate(spec, TIMED_HOP, points, counted_from=START)
    assert result.current == pytest.approx(2.0 / 2.2 * 100)
    assert result.status is Status.met


@pytest.mark.parametrize(("gap_days", "status"), [(7, Status.met), (8, Status.no_data)])
def test_limb_symmetry_pairs_values_within_seven_days(gap_days: int, status: Status) -> None:
    left = [Point("l", 180, "cm", day(gap_days), "left")]
    right = [Point("r", 190, "cm", day(0), "right")]
    spec = CriterionSpec(Comparator.gte, 90, mode=Mode.limb_symmetry, involved_side="left")
    assert evaluate(spec, HOP, left + right, counted_from=START).status is status


def test_limb_symmetry_with_one_side_only_is_no_data() -> None:
    spec = CriterionSpec(Comparator.gte, 90, mode=Mode.limb_symmetry, involved_side="left")
    result = evaluate(spec, HOP, pts(150, unit="cm", side="left"), counted_from=START)
    assert result.status is Status.no_data
    assert result.reason == "no left and right values within 7 days"


@pytest.mark.parametrize(
    ("values", "unit", "target", "status", "current"),
    [
        ((3, 5), ChangeUnit.points, 2, Status.met, 2),
        ((3, 4.9), ChangeUnit.points, 2, Status.not_met, pytest.approx(1.9)),
        ((4, 6), ChangeUnit.percent, 50, Status.met, 50),
        ((4, 5), ChangeUnit.percent, 50, Status.not_met, 25),
        ((4,), ChangeUnit.points, 2, Status.no_data, None),
    ],
)
def test_change_from_baseline_in_points_and_percent(
    values: tuple[float, ...], unit: ChangeUnit, target: float, status: Status, current: object
) -> None:
    spec = CriterionSpec(Comparator.gte, target, mode=Mode.change_from_baseline, change_unit=unit)
    result = evaluate(spec, PSFS, pts(*values), counted_from=START)
    assert result.status is status
    assert result.current == current
    if status is not Status.no_data:
        assert result.baseline == values[0]


def test_change_from_baseline_follows_the_better_direction() -> None:
    spec = CriterionSpec(Comparator.gte, 2, mode=Mode.change_from_baseline)
    falling_pain = evaluate(spec, PAIN, pts(7, 4), counted_from=START)
    assert falling_pain.status is Status.met
    assert falling_pain.current == 3
    rising_pain = evaluate(spec, PAIN, pts(4, 7), counted_from=START)
    assert rising_pain.status is Status.not_met
    assert rising_pain.current == -3
    assert rising_pain.progress == 0.0


def test_change_from_baseline_uses_the_assessment_finding_as_baseline() -> None:
    spec = CriterionSpec(Comparator.gte, 2, mode=Mode.change_from_baseline)
    result = evaluate(spec, PSFS, pts(5), counted_from=START, baseline_value=3)
    assert result.status is Status.met
    assert result.baseline == 3


def test_percent_change_from_zero_is_no_data() -> None:
    spec = CriterionSpec(
        Comparator.gte, 10, mode=Mode.change_from_baseline, change_unit=ChangeUnit.percent
    )
    assert evaluate(spec, PSFS, pts(0, 5), counted_from=START).status is Status.no_data


def test_units_are_converted_and_mismatched_units_ignored() -> None:
    points = [
        Point("lb", 88.2, "[lb_av]", day(0)),
        Point("temp", 37, "Cel", day(1)),
    ]
    result = evaluate(CriterionSpec(Comparator.gte, 40), STRENGTH, points, counted_from=START)
    assert result.status is Status.met
    assert result.current == pytest.approx(40.0068, abs=0.001)
    assert result.ignored_observation_ids == ("temp",)


@pytest.mark.parametrize(
    ("current", "baseline", "target", "met", "expected"),
    [
        (5, 2, 8, False, 0.5),
        (1, 2, 8, False, 0.0),
        (9, 2, 8, True, 1.0),
        (8, 8, 8, False, 0.0),
        (8, None, 8, True, 1.0),
        (3, None, 8, False, 0.0),
        (4, 8, 2, False, pytest.approx(4 / 6)),
    ],
)
def test_progress_fraction(
    current: float, baseline: float | None, target: float, met: bool, expected: object
) -> None:
    assert progress_fraction(current, baseline, target, met=met) == expected


def test_a_group_is_met_only_when_every_criterion_is() -> None:
    met = evaluate(CriterionSpec(Comparator.gte, 1), PSFS, pts(2), counted_from=START)
    unmet = evaluate(CriterionSpec(Comparator.gte, 9), PSFS, pts(2), counted_from=START)
    assert evaluate_group([met, met]).all_met
    assert not evaluate_group([met, unmet]).all_met
    assert evaluate_group([met, unmet]).met_count == 1
    assert not evaluate_group([]).all_met
