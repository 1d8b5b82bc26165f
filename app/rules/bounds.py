"""The magnitudes a measurement can physically have, whatever its measure's own range.

A measure without a range (a clinic's own, with no minimum or maximum) still refuses a value
no clinical test produces: 1.7e308 cm, or 1e-300 s, is an error or an attack, and the ratios and
differences the criteria compute from such values overflow. Each dimension of app.rules.units
has a largest magnitude and a smallest non-zero one, in its base unit; zero is always a value,
and the sign is the measure's business (a sit-and-reach distance may be negative). The table and
its reasons are in docs/input-bounds.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from app.rules.units import dimension


@dataclass(frozen=True)
class Bound:
    """The magnitudes allowed, in the dimension's base unit (`unit`, as a person reads it)."""

    largest: float
    smallest: float
    unit: str


PHYSICAL: Mapping[str, Bound] = {
    "length": Bound(10_000.0, 1e-6, "m"),  # 10 km: beyond any walk, run or hop test
    "mass": Bound(1_000.0, 1e-6, "kg"),  # a tonne: beyond any lift or body weight
    "force": Bound(100_000.0, 1e-6, "N"),  # 100 kN: ten times a landing's peak force
    "time": Bound(604_800.0, 1e-6, "s"),  # a week: beyond any timed test or diary total
    "angle": Bound(720.0, 1e-6, "deg"),  # two full turns: beyond any range of motion
    "percent": Bound(10_000.0, 1e-6, "%"),  # 100 times the whole: beyond any % of body weight
    "score": Bound(10_000.0, 1e-6, "points"),  # beyond any questionnaire's total (WOMAC 2,400)
    "count": Bound(100_000.0, 1e-6, ""),  # beyond any count of repetitions or steps in a test
}
# A unit app.rules.units does not know (a clinic's own measure in "mm[Hg]" or "/min"): loose,
# but ratios and differences of such values stay finite (1e9 / 1e-9 x 100 is 1e20).
ANY_UNIT = Bound(1e9, 1e-9, "")


def out_of_bounds(
    value: float,
    unit: str,
    bounds: Mapping[str, Bound] = PHYSICAL,
    other: Bound = ANY_UNIT,
) -> str | None:
    """Why `value` in `unit` cannot be a measurement, or None when it can be one."""
    if not math.isfinite(value):
        return "is not a finite number"
    known = dimension(unit)
    name, factor = known if known is not None else ("", 1.0)
    bound = bounds.get(name, other)
    magnitude = abs(value) * factor  # may overflow to infinity: then it is beyond the bound
    kind = name or "value"
    if magnitude > bound.largest:
        return (
            f"is beyond {_amount(bound.largest, bound.unit)}, the largest {kind} a measurement has"
        )
    if value != 0 and magnitude < bound.smallest:  # `value`, as x 0.001 may underflow to 0
        return (
            f"is below {_amount(bound.smallest, bound.unit)}, the smallest non-zero {kind} "
            "a measurement has (0 is a value)"
        )
    return None


def _amount(value: float, unit: str) -> str:
    return f"{value:,g} {unit}".rstrip()
