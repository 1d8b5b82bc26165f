"""The criteria engine: is a measurable progression or discharge criterion met?

Pure functions on plain values: no database, HTTP or clock. The semantics the rules share,
with their sources:

- Limb symmetry index, LSI = involved / uninvolved x 100 (uninvolved / involved for measures where
  lower is better, such as a timed hop), from values observed within `pair_window_days` of each
  other (default 7). Return-to-sport criteria commonly ask LSI >= 90 % (Grindem et al., BJSM
  2016; Gokeler et al., KSSTA 2017).
- Change from baseline in points or percent, "improvement" following the measure's better
  direction; a target of at least the measure's minimal clinically important difference is the
  common case (e.g. PSFS 2 points, Abbott & Schmitt, JOSPT 2014; LEFS 9 points, Binkley et al.,
  Phys Ther 1999).
- A criterion is judged on finite numbers only: when a value, its baseline, an LSI or a change
  is not one (extreme values overflow), it is `no_data`, naming why (docs/input-bounds.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.rules.units import convert

_TOLERANCE = 1e-9


class Comparator(StrEnum):
    gte = "gte"
    lte = "lte"
    gt = "gt"
    lt = "lt"


class Mode(StrEnum):
    absolute = "absolute"
    limb_symmetry = "limb_symmetry"
    change_from_baseline = "change_from_baseline"


class ChangeUnit(StrEnum):
    points = "points"
    percent = "percent"


class Better(StrEnum):
    higher = "higher"
    lower = "lower"  # type: ignore[assignment]  # shadows str.lower, harmlessly


class Status(StrEnum):
    met = "met"
    not_met = "not_met"
    no_data = "no_data"


@dataclass(frozen=True)
class Point:
    """One observation of the criterion's measure, for the plan's patient."""

    id: Any
    value: float
    unit: str
    observed_at: datetime
    side: str = "none"


@dataclass(frozen=True)
class MeasureSpec:
    unit: str
    better: Better
    mcid: float | None = None


@dataclass(frozen=True)
class CriterionSpec:
    comparator: Comparator
    target: float
    mode: Mode = Mode.absolute
    sustained_count: int = 1
    side: str | None = None
    involved_side: str | None = None
    change_unit: ChangeUnit = ChangeUnit.points
    pair_window_days: int = 7


@dataclass(frozen=True)
class CriterionResult:
    status: Status
    target: float
    current: float | None = None
    baseline: float | None = None
    progress: float = 0.0
    observation_ids: tuple[Any, ...] = ()
    ignored_observation_ids: tuple[Any, ...] = ()
    reason: str | None = None

    @property
    def met(self) -> bool:
        return self.status is Status.met


def compare(value: float, comparator: Comparator, target: float) -> bool:
    """A value exactly at the target meets gte and lte, and not gt or lt.

    "Exactly" allows for floating-point noise in derived values (an LSI, a percent change, a
    converted unit), so 0.1 + 0.2 counts as 0.3.
    """
    at_target = abs(value - target) <= _TOLERANCE * max(1.0, abs(target))
    if comparator is Comparator.gte:
        return at_target or value > target
    if comparator is Comparator.lte:
        return at_target or value < target
    if comparator is Comparator.gt:
        return not at_target and value > target
    return not at_target and value < target


def progress_fraction(current: float, baseline: float | None, target: float, *, met: bool) -> float:
    """(current - baseline) / (target - baseline), clipped to 0..1; 1 when met."""
    if met:
        return 1.0
    if baseline is None or baseline == target:
        return 0.0
    # In halves, so that the difference of two finite numbers cannot overflow.
    span = target / 2 - baseline / 2
    if span == 0:  # distinct, but too close to tell apart at half their size
        return 0.0
    return min(1.0, max(0.0, (current / 2 - baseline / 2) / span))


Series = list[tuple[float, tuple[Any, ...]]]  # values, oldest first, with their observations


def _unless_finite(criterion: CriterionSpec, what: str, series: Series) -> CriterionResult | None:
    """`no_data` when a value of the series is not a finite number, naming its observations."""
    if all(math.isfinite(value) for value, _ in series):
        return None
    bad = tuple(i for value, ids in series if not math.isfinite(value) for i in ids)
    reason = f"{what} not a finite number"
    return CriterionResult(Status.no_data, criterion.target, observation_ids=bad, reason=reason)


def _values(points: Sequence[Point]) -> Series:
    return [(p.value, (p.id,)) for p in points]


@dataclass
class _Usable:
    points: list[Point] = field(default_factory=list)
    ignored: list[Any] = field(default_factory=list)


def _in_measure_unit(points: Sequence[Point], unit: str) -> _Usable:
    """Points converted to the measure's unit, oldest first; unconvertible ones are ignored.
    A conversion may overflow: each mode checks the values it judges."""
    usable = _Usable()
    for point in sorted(points, key=lambda p: (p.observed_at, str(p.id))):
        value = convert(point.value, point.unit, unit)
        if value is None:
            usable.ignored.append(point.id)
        else:
            usable.points.append(Point(point.id, value, unit, point.observed_at, point.side))
    return usable


def evaluate(
    criterion: CriterionSpec,
    measure: MeasureSpec,
    observations: Sequence[Point],
    *,
    counted_from: datetime,
    baseline_value: float | None = None,
) -> CriterionResult:
    """Evaluates one criterion against the patient's observations of its measure.

    `counted_from` is the plan's initial assessment: earlier observations inform the baseline
    only. `baseline_value` is the assessment's own finding for the measure, where recorded.
    """
    usable = _in_measure_unit(observations, measure.unit)
    counted = [p for p in usable.points if p.observed_at >= counted_from]
    finding: Series = [] if baseline_value is None else [(baseline_value, ())]
    if criterion.mode is Mode.limb_symmetry:  # judged on pairs alone, without the finding
        result = _limb_symmetry(criterion, measure, counted)
    elif unusable := _unless_finite(criterion, "baseline", finding):
        result = unusable
    elif criterion.mode is Mode.change_from_baseline:
        result = _change_from_baseline(criterion, measure, counted, baseline_value)
    else:
        result = _absolute(criterion, counted, baseline_value)
    return CriterionResult(**{**result.__dict__, "ignored_observation_ids": tuple(usable.ignored)})


def _sustained(criterion: CriterionSpec, series: Series, baseline: float | None) -> CriterionResult:
    """Judges the latest N values of a series (oldest first) against the target."""
    if not series:
        return CriterionResult(Status.no_data, criterion.target, baseline=baseline)
    latest = series[-criterion.sustained_count :]
    current = latest[-1][0]
    used = tuple(i for _, ids in latest for i in ids)
    enough = len(latest) == criterion.sustained_count
    met = enough and all(compare(v, criterion.comparator, criterion.target) for v, _ in latest)
    reason = None
    if not enough:
        reason = f"{len(latest)} of {criterion.sustained_count} consecutive observations so far"
    return CriterionResult(
        status=Status.met if met else Status.not_met,
        target=criterion.target,
        current=current,
        baseline=baseline,
        progress=progress_fraction(current, baseline, criterion.target, met=met),
        observation_ids=used,
        reason=reason,
    )


def _absolute(
    criterion: CriterionSpec, points: list[Point], baseline_value: float | None
) -> CriterionResult:
    if criterion.side:
        points = [p for p in points if p.side == criterion.side]
    series = _values(points)
    if unusable := _unless_finite(criterion, "value", series):
        return unusable
    baseline = baseline_value if baseline_value is not None else (series[0][0] if series else None)
    return _sustained(criterion, series, baseline)


def limb_symmetry_index(involved: float, uninvolved: float, better: Better) -> float | None:
    """100 % is symmetry and more is better, whichever direction the measure improves in.
    Extreme values (1.7e308 over 1e-300) overflow it: callers check `math.isfinite`."""
    numerator, denominator = (
        (involved, uninvolved) if better is Better.higher else (uninvolved, involved)
    )
    if denominator <= 0:
        return None
    return numerator / denominator * 100


def _other_side(side: str) -> str:
    return {"left": "right", "right": "left"}.get(side, "")


def _limb_symmetry(
    criterion: CriterionSpec, measure: MeasureSpec, points: list[Point]
) -> CriterionResult:
    involved_side = criterion.involved_side or ""
    involved = [p for p in points if p.side == involved_side]
    uninvolved = [p for p in points if p.side == _other_side(involved_side)]
    if unusable := _unless_finite(criterion, "value", _values(involved + uninvolved)):
        return unusable
    window = timedelta(days=criterion.pair_window_days)
    series: Series = []
    for point in involved:
        partners = [u for u in uninvolved if abs(u.observed_at - point.observed_at) <= window]
        if not partners:
            continue
        partner = min(partners, key=lambda u: (abs(u.observed_at - point.observed_at), u.id))
        lsi = limb_symmetry_index(point.value, partner.value, measure.better)
        if lsi is not None:
            series.append((lsi, (point.id, partner.id)))
    if unusable := _unless_finite(criterion, "limb symmetry index", series):
        return unusable
    baseline = series[0][0] if series else None
    result = _sustained(criterion, series, baseline)
    if result.status is Status.no_data:
        reason = (
            f"no {involved_side} and {_other_side(involved_side)} values within {window.days} days"
        )
        return CriterionResult(Status.no_data, criterion.target, reason=reason)
    return result


def _change_from_baseline(
    criterion: CriterionSpec,
    measure: MeasureSpec,
    points: list[Point],
    baseline_value: float | None,
) -> CriterionResult:
    if criterion.side:
        points = [p for p in points if p.side == criterion.side]
    if unusable := _unless_finite(criterion, "value", _values(points)):
        return unusable
    baseline = (
        baseline_value if baseline_value is not None else (points[0].value if points else None)
    )
    if baseline is None:
        return CriterionResult(Status.no_data, criterion.target, reason="no baseline value")
    later = points if baseline_value is not None else points[1:]
    if criterion.change_unit is ChangeUnit.percent and baseline == 0:
        return CriterionResult(
            Status.no_data, criterion.target, baseline=baseline, reason="percent change from 0"
        )
    sign = 1.0 if measure.better is Better.higher else -1.0
    series = [
        (_improvement(p.value, baseline, criterion.change_unit, sign), (p.id,)) for p in later
    ]
    what = "percent change" if criterion.change_unit is ChangeUnit.percent else "change"
    if unusable := _unless_finite(criterion, f"{what} from baseline", series):
        return unusable
    result = _sustained(criterion, series, 0.0)
    if result.status is Status.no_data:
        return CriterionResult(
            Status.no_data, criterion.target, baseline=baseline, reason="no value since baseline"
        )
    return CriterionResult(**{**result.__dict__, "baseline": baseline})


def _improvement(value: float, baseline: float, unit: ChangeUnit, sign: float) -> float:
    change = value - baseline
    if unit is ChangeUnit.percent:
        change = change / abs(baseline) * 100
    return change * sign


@dataclass(frozen=True)
class GroupResult:
    """A stage's progression criteria, or a plan's discharge criteria, taken together."""

    all_met: bool
    met_count: int
    total: int


def evaluate_group(results: Sequence[CriterionResult]) -> GroupResult:
    """All criteria met (and at least one criterion) lets a stage advance or a plan discharge."""
    met = sum(1 for r in results if r.met)
    return GroupResult(
        all_met=bool(results) and met == len(results), met_count=met, total=len(results)
    )
