"""The progression engine: from a prescription and its logs, the next parameters.

Pure functions on plain values; the thresholds arrive as `ProgressionRules` (data a clinic may
change). Sources:
- Pain-monitoring model (Silbernagel et al., AJSM 2007): pain during exercise 0-2 safe, 3-5
  acceptable, above 5 too much; pain must settle by next morning. Worse next morning, or above 5
  during: hold, and reduce when it recurs.
- 2-for-2 (NSCA, Essentials of Strength Training and Conditioning): 2 or more reps beyond the
  target on the last set in 2 consecutive sessions -> raise the load, about 5 % lower body and
  2.5 % upper body.
- Double progression (common strength practice): add reps within a range at the same load; at
  the top of the range on all sets, raise the load and return to the bottom.
- Effort (Zourdos et al., JSCR 2016): RPE 10 = 0 reps in reserve; effort at or beyond the target
  means the dose is already hard enough.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    progress = "progress"
    hold = "hold"
    reduce = "reduce"


class Dosing(StrEnum):
    reps = "reps"
    time = "time"
    distance = "distance"


class LoadUnit(StrEnum):
    kg = "kg"
    lb = "lb"
    percent_body_weight = "percent_body_weight"
    bodyweight = "bodyweight"
    band = "band"


class Body(StrEnum):
    lower_body = "lower_body"
    upper_body = "upper_body"


@dataclass(frozen=True)
class ProgressionRules:
    """The rules' thresholds, as data. Defaults are the values in DOMAIN.md."""

    pain_during_max: int = 5
    pain_unknown_before_max: int = 5
    two_for_two_margin: int = 2
    lower_body_step_percent: float = 5.0
    upper_body_step_percent: float = 2.5
    increment_kg: float = 1.0
    increment_barbell_kg: float = 2.5
    increment_lb: float = 1.0
    increment_percent_body_weight: float = 1.0
    bands: tuple[str, ...] = ("extra_light", "light", "medium", "heavy", "extra_heavy")
    bodyweight_max_reps: int = 15
    max_sets: int = 5
    time_step_percent: float = 10.0
    time_min_step_s: float = 5.0
    distance_step_percent: float = 10.0


@dataclass(frozen=True)
class Dose:
    """The parameters progression may change."""

    sets: int
    dosing: Dosing
    reps: int | None = None
    reps_min: int | None = None
    reps_max: int | None = None
    duration_s: float | None = None
    distance_m: float | None = None
    load_unit: LoadUnit = LoadUnit.bodyweight
    load_value: float | None = None
    band: str | None = None
    target_rpe: float | None = None
    target_rir: int | None = None
    body: Body = Body.lower_body
    barbell: bool = False

    @property
    def has_range(self) -> bool:
        return self.reps_min is not None and self.reps_max is not None


@dataclass(frozen=True)
class SetDone:
    reps: int | None = None
    duration_s: float | None = None
    distance_m: float | None = None
    rpe: float | None = None
    rir: int | None = None


@dataclass(frozen=True)
class Log:
    id: Any
    on: date
    sets: tuple[SetDone, ...]
    pain_during: int | None = None
    pain_before: int | None = None
    pain_next_morning: int | None = None
    skipped: bool = False


@dataclass(frozen=True)
class Suggestion:
    action: Action
    rule: str
    reason: str
    before: Dose
    after: Dose
    log_ids: tuple[Any, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def suggest(dose: Dose, logs: Sequence[Log], rules: ProgressionRules) -> Suggestion:
    """The next step for a prescription, read from its logs (skipped ones aside), newest first."""
    done = sorted(
        (log for log in logs if not log.skipped and log.sets), key=lambda log: log.on, reverse=True
    )
    notes = _notes(done)
    if not done:
        return _hold(dose, "no_logs", "No completed session is logged yet.", (), notes)
    latest = done[0]
    guard = _pain_guard(dose, done, rules, notes)
    if guard:
        return guard
    if _effort_at_or_above_target(dose, latest):
        return _hold(
            dose,
            "effort",
            "Effort reached the target: the dose is hard enough.",
            (latest.id,),
            notes,
        )
    step = _progression(dose, done, rules)
    if step is None:
        return _hold(
            dose,
            "target_not_met",
            "The latest session did not meet the target on all sets.",
            (latest.id,),
            notes,
        )
    rule, reason, after, used = step
    return Suggestion(Action.progress, rule, reason, dose, after, used, notes)


def _hold(
    dose: Dose, rule: str, reason: str, used: tuple[Any, ...], notes: tuple[str, ...]
) -> Suggestion:
    return Suggestion(Action.hold, rule, reason, dose, dose, used, notes)


def _notes(done: Sequence[Log]) -> tuple[str, ...]:
    if done and done[0].pain_next_morning is None:
        return (
            "Next-morning pain is missing for the latest session; it did not block the suggestion.",
        )
    return ()


def _too_painful(log: Log, rules: ProgressionRules) -> bool:
    if log.pain_during is not None and log.pain_during > rules.pain_during_max:
        return True
    morning = log.pain_next_morning
    if morning is None:
        return False
    if log.pain_before is not None:
        return morning > log.pain_before
    return morning > rules.pain_unknown_before_max


def _pain_guard(
    dose: Dose, done: Sequence[Log], rules: ProgressionRules, notes: tuple[str, ...]
) -> Suggestion | None:
    if not _too_painful(done[0], rules):
        return None
    if len(done) > 1 and _too_painful(done[1], rules):
        reason = (
            "Pain exceeded the pain-monitoring limits in two consecutive sessions: reduce one step."
        )
        return Suggestion(
            Action.reduce,
            "pain",
            reason,
            dose,
            _step_down(dose, rules),
            (done[0].id, done[1].id),
            notes,
        )
    reason = "Pain during above the limit, or worse the next morning: hold the dose."
    return _hold(dose, "pain", reason, (done[0].id,), notes)


def _effort_at_or_above_target(dose: Dose, log: Log) -> bool:
    if dose.target_rpe is not None:
        rpes = [s.rpe for s in log.sets if s.rpe is not None]
        return bool(rpes) and max(rpes) >= dose.target_rpe
    if dose.target_rir is not None:
        rirs = [s.rir for s in log.sets if s.rir is not None]
        return bool(rirs) and min(rirs) <= dose.target_rir
    return False


Step = tuple[str, str, Dose, tuple[Any, ...]]


def _progression(dose: Dose, done: Sequence[Log], rules: ProgressionRules) -> Step | None:
    if dose.dosing is Dosing.time:
        return _time_step(dose, done[0], rules)
    if dose.dosing is Dosing.distance:
        return _distance_step(dose, done[0], rules)
    if dose.load_unit is LoadUnit.bodyweight:
        return _bodyweight_step(dose, done[0], rules)
    return _two_for_two(dose, done, rules) or _double_progression(dose, done[0], rules)


def _all_sets(log: Log, dose: Dose, reps: int) -> bool:
    return len(log.sets) >= dose.sets and all((s.reps or 0) >= reps for s in log.sets)


def _two_for_two(dose: Dose, done: Sequence[Log], rules: ProgressionRules) -> Step | None:
    if dose.reps is None or len(done) < 2:
        return None
    goal = dose.reps + rules.two_for_two_margin
    latest_two = done[:2]
    if not all((log.sets[-1].reps or 0) >= goal for log in latest_two):
        return None
    after = replace(dose, **_load_up(dose, rules))
    reason = (
        f"Last set reached {goal}+ reps ({dose.reps} + {rules.two_for_two_margin}) "
        "in two consecutive sessions."
    )
    return "two_for_two", reason, after, tuple(log.id for log in latest_two)


def _double_progression(dose: Dose, latest: Log, rules: ProgressionRules) -> Step | None:
    if dose.reps is None:
        return None
    if dose.has_range and dose.reps_max is not None and _all_sets(latest, dose, dose.reps_max):
        after = replace(dose, reps=dose.reps_min, **_load_up(dose, rules))
        reason = (
            f"All sets at the top of the {dose.reps_min}-{dose.reps_max} range: "
            "raise the load, back to the bottom."
        )
        return "double_progression", reason, after, (latest.id,)
    top = dose.reps_max if dose.has_range else None
    if top is not None and dose.reps < top and _all_sets(latest, dose, dose.reps):
        reason = "All sets met the target with effort to spare: add a rep within the range."
        return "add_rep", reason, replace(dose, reps=dose.reps + 1), (latest.id,)
    return None


def _bodyweight_step(dose: Dose, latest: Log, rules: ProgressionRules) -> Step | None:
    if dose.reps is None or not _all_sets(latest, dose, dose.reps):
        return None
    top = dose.reps_max if dose.reps_max is not None else rules.bodyweight_max_reps
    if dose.reps < top:
        return (
            "bodyweight_reps",
            "All sets met the target: add a rep.",
            replace(dose, reps=dose.reps + 1),
            (latest.id,),
        )
    if dose.sets < rules.max_sets:
        return (
            "bodyweight_sets",
            f"Reps at the top ({top}): add a set.",
            replace(dose, sets=dose.sets + 1),
            (latest.id,),
        )
    reason = (
        f"{dose.sets} sets of {dose.reps} done: progress to a harder variation of the exercise."
    )
    return "harder_variation", reason, dose, (latest.id,)


def _time_step(dose: Dose, latest: Log, rules: ProgressionRules) -> Step | None:
    target = dose.duration_s
    if target is None or len(latest.sets) < dose.sets:
        return None
    if not all((s.duration_s or 0) >= target for s in latest.sets):
        return None
    new = target + max(target * rules.time_step_percent / 100, rules.time_min_step_s)
    reason = (
        f"All sets held for {target:g} s: "
        f"add {rules.time_step_percent:g} % (at least {rules.time_min_step_s:g} s)."
    )
    return "time", reason, replace(dose, duration_s=float(math.ceil(new))), (latest.id,)


def _distance_step(dose: Dose, latest: Log, rules: ProgressionRules) -> Step | None:
    target = dose.distance_m
    if target is None or len(latest.sets) < dose.sets:
        return None
    if not all((s.distance_m or 0) >= target for s in latest.sets):
        return None
    new = round(target * (1 + rules.distance_step_percent / 100), 1)
    reason = f"All sets covered {target:g} m: add {rules.distance_step_percent:g} %."
    return "distance", reason, replace(dose, distance_m=new), (latest.id,)


def increment_for(dose: Dose, rules: ProgressionRules) -> float:
    if dose.load_unit is LoadUnit.kg:
        return rules.increment_barbell_kg if dose.barbell else rules.increment_kg
    if dose.load_unit is LoadUnit.lb:
        return rules.increment_lb
    return rules.increment_percent_body_weight


def next_load(current: float, percent: float, increment: float, *, up: bool = True) -> float:
    """Current load moved by `percent`, at least one increment, rounded to the increment."""
    change = max(current * percent / 100, increment)
    steps = max(1, round(change / increment))
    moved = current + steps * increment if up else current - steps * increment
    moved = round(moved / increment) * increment
    return max(0.0, round(moved, 3))


def _load_up(dose: Dose, rules: ProgressionRules) -> dict[str, Any]:
    if dose.load_unit is LoadUnit.band:
        return {"band": _next_band(dose.band, rules, +1)}
    percent = (
        rules.lower_body_step_percent
        if dose.body is Body.lower_body
        else rules.upper_body_step_percent
    )
    return {"load_value": next_load(dose.load_value or 0.0, percent, increment_for(dose, rules))}


def _next_band(band: str | None, rules: ProgressionRules, direction: int) -> str | None:
    if band not in rules.bands:
        return band
    index = min(max(rules.bands.index(band) + direction, 0), len(rules.bands) - 1)
    return rules.bands[index]


def _step_down(dose: Dose, rules: ProgressionRules) -> Dose:
    if dose.dosing is Dosing.time and dose.duration_s:
        return replace(
            dose,
            duration_s=float(
                max(1, math.floor(dose.duration_s * (1 - rules.time_step_percent / 100)))
            ),
        )
    if dose.dosing is Dosing.distance and dose.distance_m:
        return replace(
            dose, distance_m=round(dose.distance_m * (1 - rules.distance_step_percent / 100), 1)
        )
    if dose.load_unit is LoadUnit.band:
        return replace(dose, band=_next_band(dose.band, rules, -1))
    if dose.load_unit is LoadUnit.bodyweight or not dose.load_value:
        reps = dose.reps or 1
        return replace(dose, reps=max(dose.reps_min or 1, reps - 2))
    percent = (
        rules.lower_body_step_percent
        if dose.body is Body.lower_body
        else rules.upper_body_step_percent
    )
    return replace(
        dose, load_value=next_load(dose.load_value, percent, increment_for(dose, rules), up=False)
    )
