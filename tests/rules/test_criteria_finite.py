"""A criterion is judged on finite numbers only: extreme values (stored by an older version,
before the input bounds) that overflow an LSI, a change, a percent change or a conversion make
it `no_data` with the reason, never an exception or an infinite value."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from app.rules.criteria import (
    Better,
    ChangeUnit,
    Comparator,
    CriterionResult,
    CriterionSpec,
    MeasureSpec,
    Mode,
    Point,
    Status,
    compare,
    evaluate,
    limb_symmetry_index,
    progress_fraction,
)
from app.rules.units import convert

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
HOP = MeasureSpec(unit="cm", better=Better.higher)
TIMED_HOP = MeasureSpec(unit="s", better=Better.lower)
REACH = MeasureSpec(unit="cm", better=Better.higher)
BIG, TINY = 1.7e308, 1e-300

LSI = CriterionSpec(Comparator.gte, 90, mode=Mode.limb_symmetry, involved_side="left")
GAIN = CriterionSpec(Comparator.gte, 5, mode=Mode.change_from_baseline)
GAIN_PERCENT = CriterionSpec(
    Comparator.gte, 20, mode=Mode.change_from_baseline, change_unit=ChangeUnit.percent
)
AT_LEAST = CriterionSpec(Comparator.gte, 30)


def point(name: str, value: float, day: int, side: str = "none", unit: str = "cm") -> Point:
    return Point(name, value, unit, START + timedelta(days=day), side)


def pair(left: float, right: float, day: int = 1, unit: str = "cm") -> list[Point]:
    return [
        point(f"left{day}", left, day, "left", unit),
        point(f"right{day}", right, day, "right", unit),
    ]


def assert_finite(result: CriterionResult) -> None:
    for value in (result.current, result.baseline, result.progress, result.target):
        assert value is None or math.isfinite(value), result


@pytest.mark.parametrize(
    ("measure", "points", "ids"),
    [
        (HOP, pair(BIG, TINY), ("left1", "right1")),  # the finding's own pair
        (HOP, pair(1e308, 0.5), ("left1", "right1")),  # the quotient is finite, x 100 is not
        (HOP, pair(BIG, 5e-324), ("left1", "right1")),
        (
            TIMED_HOP,
            pair(TINY, BIG, unit="s"),
            ("left1", "right1"),
        ),  # lower is better: right / left
        (HOP, [*pair(150, 200, 1), *pair(BIG, TINY, 8)], ("left8", "right8")),  # latest pair
        (HOP, [*pair(BIG, TINY, 1), *pair(180, 200, 8)], ("left1", "right1")),  # the baseline
    ],
)
def test_an_lsi_that_overflows_is_no_data(
    measure: MeasureSpec, points: list[Point], ids: tuple[str, ...]
) -> None:
    result = evaluate(LSI, measure, points, counted_from=START)

    assert result.status is Status.no_data
    assert result.reason == "limb symmetry index not a finite number"
    assert result.observation_ids == ids
    assert (result.current, result.progress) == (None, 0.0)
    assert not result.met


@pytest.mark.parametrize(
    ("criterion", "points", "reason", "ids"),
    [
        (LSI, pair(math.inf, 200), "value not a finite number", ("left1",)),
        (LSI, pair(150, math.inf), "value not a finite number", ("right1",)),  # 150/inf is 0
        (LSI, pair(math.nan, 200), "value not a finite number", ("left1",)),
        (
            AT_LEAST,
            [point("a", 40, 1), point("b", math.inf, 8)],
            "value not a finite number",
            ("b",),
        ),
        (
            AT_LEAST,
            [point("a", math.inf, 1), point("b", 40, 8)],
            "value not a finite number",
            ("a",),
        ),
        (
            GAIN,
            [point("a", -BIG, 1), point("b", BIG, 8)],
            "change from baseline not a finite number",
            ("b",),
        ),
        (
            GAIN,
            [point("a", BIG, 1), point("b", -BIG, 8)],
            "change from baseline not a finite number",
            ("b",),
        ),
        (
            GAIN_PERCENT,
            [point("a", 5e-324, 1), point("b", 5, 8)],
            "percent change from baseline not a finite number",
            ("b",),
        ),
        (
            GAIN_PERCENT,
            [point("a", TINY, 1), point("b", BIG / 1e3, 8)],
            "percent change from baseline not a finite number",
            ("b",),
        ),
        (GAIN, [point("a", math.inf, 1), point("b", 40, 8)], "value not a finite number", ("a",)),
    ],
)
def test_a_value_or_change_that_is_not_finite_is_no_data(
    criterion: CriterionSpec, points: list[Point], reason: str, ids: tuple[str, ...]
) -> None:
    result = evaluate(criterion, REACH, points, counted_from=START)

    assert (result.status, result.reason, result.observation_ids) == (Status.no_data, reason, ids)
    assert_finite(result)


@pytest.mark.parametrize("criterion", [AT_LEAST, GAIN, GAIN_PERCENT])
@pytest.mark.parametrize("finding", [math.inf, -math.inf, math.nan])
def test_a_baseline_finding_that_is_not_finite_is_no_data(
    criterion: CriterionSpec, finding: float
) -> None:
    points = [point("a", 40, 1), point("b", 45, 8)]

    result = evaluate(criterion, REACH, points, counted_from=START, baseline_value=finding)

    assert (result.status, result.reason) == (Status.no_data, "baseline not a finite number")


def test_a_limb_symmetry_criterion_is_judged_on_its_pairs_whatever_the_finding() -> None:
    result = evaluate(LSI, HOP, pair(190, 200), counted_from=START, baseline_value=math.inf)

    assert (result.status, result.current) == (Status.met, 95)


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit"),
    [(BIG, "min", "s"), (BIG, "kgf", "N"), (1e308, "m", "mm"), (-BIG, "min", "ms")],
)
def test_a_conversion_that_overflows_is_no_data(value: float, from_unit: str, to_unit: str) -> None:
    converted = convert(value, from_unit, to_unit)
    assert converted is not None
    assert not math.isfinite(converted)
    measure = MeasureSpec(unit=to_unit, better=Better.higher)
    points = [point("ok", 40, 1, unit=to_unit), point("over", value, 8, unit=from_unit)]

    result = evaluate(AT_LEAST, measure, points, counted_from=START)

    assert (result.status, result.reason) == (Status.no_data, "value not a finite number")
    assert result.observation_ids == ("over",)


def test_a_value_not_finite_on_the_other_side_leaves_a_side_s_criterion_judged() -> None:
    left = CriterionSpec(Comparator.gte, 30, side="left")
    points = [point("l", 40, 1, "left"), point("r", math.inf, 1, "right")]

    result = evaluate(left, REACH, points, counted_from=START)

    assert (result.status, result.current) == (Status.met, 40)


@pytest.mark.parametrize(
    ("criterion", "values"),
    [
        (AT_LEAST, (BIG, -BIG)),
        (AT_LEAST, (-BIG, BIG, -BIG)),
        (AT_LEAST, (TINY, 5e-324)),
        (CriterionSpec(Comparator.lte, -BIG), (BIG, 0)),
        (CriterionSpec(Comparator.gte, BIG), (-BIG, 0)),
        (GAIN, (BIG, BIG)),
        (GAIN, (TINY, 5e-324)),
        (GAIN_PERCENT, (BIG, 1)),
        (GAIN_PERCENT, (-1, BIG / 1e3)),
    ],
)
def test_extreme_but_finite_values_are_judged_with_finite_numbers(
    criterion: CriterionSpec, values: tuple[float, ...]
) -> None:
    points = [point(f"p{i}", v, i) for i, v in enumerate(values)]

    result = evaluate(criterion, REACH, points, counted_from=START)

    assert result.status in (Status.met, Status.not_met)
    assert_finite(result)
    assert 0 <= result.progress <= 1


@pytest.mark.parametrize(
    ("current", "baseline", "target", "expected"),
    [
        (BIG, -BIG, BIG, 1.0),  # plain differences overflow: inf / inf is nan
        (0.0, -BIG, BIG, 0.5),
        (-BIG, BIG, -BIG, 1.0),
        (BIG, -BIG, 0.0, 1.0),
        (5e-324, 0.0, 5e-324, 0.0),  # distinct from the baseline, but not at half the size
        (1e-300, 0.0, 2e-300, 0.5),
    ],
)
def test_progress_fraction_never_overflows(
    current: float, baseline: float, target: float, expected: float
) -> None:
    assert progress_fraction(current, baseline, target, met=False) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("involved", "uninvolved", "better"),
    [(BIG, TINY, Better.higher), (1e308, 0.5, Better.higher), (TINY, BIG, Better.lower)],
)
def test_the_limb_symmetry_index_of_extreme_values_is_infinite_not_an_error(
    involved: float, uninvolved: float, better: Better
) -> None:
    lsi = limb_symmetry_index(involved, uninvolved, better)
    assert lsi is not None
    assert math.isinf(lsi)


@pytest.mark.parametrize(("value", "target"), [(BIG, -BIG), (-BIG, BIG), (BIG, BIG)])
def test_compare_holds_at_the_extremes(value: float, target: float) -> None:
    assert compare(value, Comparator.gte, target) is (value >= target)
