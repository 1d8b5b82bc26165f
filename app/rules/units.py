"""Unit conversion between the units a measure may be recorded in (UCUM codes)."""

from __future__ import annotations

# Each unit maps to (dimension, factor to the dimension's base unit).
_UNITS: dict[str, tuple[str, float]] = {
    "kg": ("mass", 1.0),
    "g": ("mass", 0.001),
    "[lb_av]": ("mass", 0.45359237),
    "lb": ("mass", 0.45359237),
    "N": ("force", 1.0),
    "kgf": ("force", 9.80665),
    "m": ("length", 1.0),
    "cm": ("length", 0.01),
    "mm": ("length", 0.001),
    "s": ("time", 1.0),
    "ms": ("time", 0.001),
    "min": ("time", 60.0),
    "deg": ("angle", 1.0),
    "%": ("percent", 1.0),
    "{score}": ("score", 1.0),
    "{reps}": ("count", 1.0),
    "{count}": ("count", 1.0),
}


def dimension(unit: str) -> tuple[str, float] | None:
    """What the unit measures and its factor to that dimension's base unit (kg, N, m, s, deg,
    %, score, count), or None for a unit this table does not know."""
    return _UNITS.get(unit)


def convert(value: float, from_unit: str, to_unit: str) -> float | None:
    """`value` in `to_unit`, or None when the two units measure different things.

    The product of an extreme value and a factor can overflow to infinity: a caller that
    reads a stored value checks `math.isfinite`; input is bounded first (app.rules.bounds).
    """
    if from_unit == to_unit:
        return value
    source, target = _UNITS.get(from_unit), _UNITS.get(to_unit)
    if source is None or target is None or source[0] != target[0]:
        return None
    return value * source[1] / target[1]


def compatible(from_unit: str, to_unit: str) -> bool:
    return convert(1.0, from_unit, to_unit) is not None
