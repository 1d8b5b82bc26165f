"""The magnitudes a measurement can have, whatever its measure's range (app.rules.bounds)."""

from __future__ import annotations

import math

import pytest

from app.rules.bounds import ANY_UNIT, PHYSICAL, Bound, out_of_bounds
from app.rules.units import convert, dimension


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (0.0, "cm"),
        (-0.0, "cm"),
        (-30.0, "cm"),  # a sit-and-reach short of the toes: the sign is the measure's business
        (1_000_000.0, "cm"),  # 10 km
        (10.0, "km"),  # a unit the table does not know: the loose bound for any unit
        (0.001, "ms"),  # a microsecond
        (0.001, "g"),  # a milligram
        (500.0, "kg"),
        (5_000.0, "N"),
        (3_600.0, "s"),
        (10_080.0, "min"),  # a week
        (-90.0, "deg"),
        (720.0, "deg"),
        (300.0, "%"),
        (2_400.0, "{score}"),
        (100_000.0, "{reps}"),
        (1e9, "mm[Hg]"),
        (1e-9, "/min"),
    ],
)
def test_a_physical_magnitude_is_a_measurement(value: float, unit: str) -> None:
    assert out_of_bounds(value, unit) is None


@pytest.mark.parametrize(
    ("value", "unit", "reason"),
    [
        (1.7e308, "cm", "is beyond 10,000 m, the largest length a measurement has"),
        (-1.7e308, "cm", "is beyond 10,000 m, the largest length a measurement has"),
        (1_000_100.0, "cm", "is beyond 10,000 m, the largest length a measurement has"),
        (1.7e308, "min", "is beyond 604,800 s, the largest time a measurement has"),
        (10_081.0, "min", "is beyond 604,800 s, the largest time a measurement has"),
        (1_001.0, "kg", "is beyond 1,000 kg, the largest mass a measurement has"),
        (2_206.0, "[lb_av]", "is beyond 1,000 kg, the largest mass a measurement has"),
        (100_001.0, "N", "is beyond 100,000 N, the largest force a measurement has"),
        (721.0, "deg", "is beyond 720 deg, the largest angle a measurement has"),
        (10_001.0, "%", "is beyond 10,000 %, the largest percent a measurement has"),
        (10_001.0, "{score}", "is beyond 10,000 points, the largest score a measurement has"),
        (100_001.0, "{reps}", "is beyond 100,000, the largest count a measurement has"),
        (1e10, "mm[Hg]", "is beyond 1e+09, the largest value a measurement has"),
        (math.inf, "cm", "is not a finite number"),
        (math.nan, "cm", "is not a finite number"),
    ],
)
def test_a_magnitude_beyond_the_dimension_s_largest_is_refused(
    value: float, unit: str, reason: str
) -> None:
    assert out_of_bounds(value, unit) == reason


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (1e-300, "cm"),
        (-1e-300, "cm"),
        (5e-324, "mm"),  # the smallest float: x 0.001 underflows to 0, still refused
        (1e-4, "mm"),
        (1e-300, "s"),
        (1e-300, "{score}"),
        (1e-12, "/min"),
    ],
)
def test_a_non_zero_magnitude_below_the_dimension_s_smallest_is_refused(
    value: float, unit: str
) -> None:
    reason = out_of_bounds(value, unit)
    assert reason is not None
    assert reason.startswith("is below ")
    assert "(0 is a value)" in reason


def test_the_bounds_arrive_as_data() -> None:
    tight = {"length": Bound(largest=5.0, smallest=0.5, unit="m")}
    assert out_of_bounds(600.0, "cm", tight) is not None
    assert out_of_bounds(400.0, "cm", tight) is None
    assert out_of_bounds(10.0, "cm", tight) is not None
    assert out_of_bounds(2e9, "mm[Hg]", tight, Bound(1e10, 1.0, "")) is None


def test_every_dimension_of_the_unit_table_has_a_bound() -> None:
    units = ["kg", "g", "[lb_av]", "lb", "N", "kgf", "m", "cm", "mm", "s", "ms", "min"]
    for unit in [*units, "deg", "%", "{score}", "{reps}", "{count}"]:
        known = dimension(unit)
        assert known is not None
        assert known[0] in PHYSICAL
    assert dimension("mm[Hg]") is None


@pytest.mark.parametrize("unit", ["kg", "g", "lb", "N", "kgf", "m", "cm", "mm", "s", "ms", "min"])
@pytest.mark.parametrize("to_unit", ["kg", "N", "m", "s", "g", "mm", "ms", "min", "kgf", "lb"])
def test_a_value_within_its_bound_stays_finite_in_any_unit_of_its_dimension(
    unit: str, to_unit: str
) -> None:
    known = dimension(unit)
    assert known is not None
    bound = PHYSICAL[known[0]]
    for value in (bound.largest / known[1], bound.smallest / known[1]):
        converted = convert(value, unit, to_unit)
        assert converted is None or (math.isfinite(converted) and converted != 0)


def test_the_loose_bound_keeps_every_ratio_finite() -> None:
    assert math.isfinite(ANY_UNIT.largest / ANY_UNIT.smallest * 100)
    for bound in PHYSICAL.values():
        assert math.isfinite(bound.largest / bound.smallest * 100)
