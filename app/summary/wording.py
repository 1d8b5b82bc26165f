"""Plain-language sentences for the summary: numbers with their units, each criterion, the
timeline and discharge, written for the patient rather than the clinician."""

from __future__ import annotations

from datetime import date

from app.assessments.models import Finding
from app.core.types import Side
from app.measures.models import Measure
from app.plans.models import Criterion, PlanStatus
from app.plans.progress_schemas import CriterionEvaluation, PlanTimelineProgress
from app.rules.criteria import ChangeUnit, Mode, Status
from app.rules.timeline import StageTiming
from app.summary.schemas import COMPARATOR_WORDS

# UCUM codes as a patient reads them; a code not listed shows without its braces.
_UNIT_LABELS = {
    "{score}": "points",
    "{reps}": "reps",
    "{count}": "",
    "[lb_av]": "lb",
    "deg": "°",
    "min": "min",
}
_SIDES = {Side.left: "left", Side.right: "right", Side.bilateral: "both sides"}
_OTHER_SIDE = {Side.left: Side.right, Side.right: Side.left}


def number(value: float) -> str:
    """At most one decimal, none when it is a whole number: 85, 7.5, 1,250."""
    text = f"{round(value, 1):,.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def unit_label(unit: str) -> str:
    return _UNIT_LABELS.get(unit, unit.strip("{}"))


def quantity(value: float, unit: str, *, out_of: float | None = None) -> str:
    """85%, 12°, 40 kg, 3 points, 2/10 (a score out of its maximum)."""
    if out_of is not None:
        return f"{number(value)}/{number(out_of)}"
    label = unit_label(unit)
    if label in ("%", "°"):
        return f"{number(value)}{label}"
    if label == "points" and abs(value) == 1:
        label = "point"
    return f"{number(value)} {label}".rstrip()


def day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def side(value: Side | None) -> str:
    return _SIDES.get(value, "") if value is not None else ""


def other_side(value: Side | None) -> Side | None:
    return _OTHER_SIDE.get(value) if value is not None else None


def finding(item: Finding) -> str:
    """ "Single-leg squat repetitions, left: 8 reps", or the qualitative result."""
    where = side(item.side)
    name = f"{item.name}, {where}" if where else item.name
    if item.value is not None:
        return f"{name}: {quantity(item.value, item.unit or '')}"
    return f"{name}: {item.result or 'recorded'}"


def judged_unit(criterion: Criterion, measure: Measure) -> str:
    """The unit of the value a criterion's target is set in."""
    if criterion.mode is Mode.limb_symmetry:
        return "%"
    if criterion.mode is Mode.change_from_baseline and criterion.change_unit is ChangeUnit.percent:
        return "%"
    return measure.unit


def _out_of(criterion: Criterion, measure: Measure) -> float | None:
    """A score judged as it stands reads as "2/10"; a change in it reads as points."""
    if criterion.mode is Mode.absolute and measure.unit == "{score}":
        return measure.max_value
    return None


def value(criterion: Criterion, measure: Measure, amount: float) -> str:
    """A value as the criterion judges it: "2/10", "85%", "+3 points"."""
    unit = judged_unit(criterion, measure)
    text = quantity(amount, unit, out_of=_out_of(criterion, measure))
    if criterion.mode is Mode.change_from_baseline and amount > 0:
        return f"+{text}"
    return text


def target(criterion: Criterion, measure: Measure) -> str:
    """ "at least 90%", "at least 2 points better", "at most 2/10, 3 times in a row"."""
    unit = judged_unit(criterion, measure)
    text = f"{COMPARATOR_WORDS[criterion.comparator]} "
    text += quantity(criterion.target, unit, out_of=_out_of(criterion, measure))
    if criterion.mode is Mode.change_from_baseline:
        text += " better"
    if criterion.sustained_count > 1:
        text += f", {criterion.sustained_count} times in a row"
    return text


def _now(criterion: Criterion, measure: Measure, current: float) -> str:
    amount = quantity(current, judged_unit(criterion, measure), out_of=_out_of(criterion, measure))
    if criterion.mode is Mode.limb_symmetry:
        involved, other = side(criterion.involved_side), side(other_side(criterion.involved_side))
        return f"Your {involved} side now reaches {amount} of your {other} side"
    if criterion.mode is Mode.change_from_baseline:
        if current < 0:
            worse = quantity(-current, judged_unit(criterion, measure))
            return f"Worse by {worse} than at your first assessment"
        return f"Better by {amount} than at your first assessment"
    return f"Now {amount}"


def criterion(criterion: Criterion, measure: Measure, evaluation: CriterionEvaluation) -> str:
    """ "Now 85%; the target is at least 90%. Not yet." """
    wanted = f"the target is {target(criterion, measure)}"
    if criterion.mode is Mode.change_from_baseline:
        wanted += " than at your first assessment"
    if evaluation.current is None or evaluation.status is Status.no_data:
        return f"Not measured yet; {wanted}."
    verdict = "Achieved" if evaluation.status is Status.met else "Not yet"
    return f"{_now(criterion, measure, evaluation.current)}; {wanted}. {verdict}."


def _sessions(low: int | None, high: int | None) -> str:
    if low is not None and high is not None and low != high:
        return f"after {low} to {high} sessions"
    count = high if high is not None else low
    return f"after about {count} sessions" if count is not None else ""


def _estimate(plan_suggested: bool, timeline: PlanTimelineProgress) -> str:
    sessions = _sessions(timeline.expected_sessions_min, timeline.expected_sessions_max)
    if timeline.expected_end_on is not None:
        text = f"Expected to finish around {day(timeline.expected_end_on)}"
        text += f", {sessions}" if sessions else ""
    elif sessions:
        text = f"Expected to finish {sessions}"
    else:
        return "Your clinician has not set a timeline yet."
    if plan_suggested:
        text += " (a typical estimate for this kind of problem; your clinician may adjust it)"
    return text + "."


def timeline(
    status: PlanStatus, suggested: bool, timeline: PlanTimelineProgress, stage: str | None
) -> str:
    estimate = _estimate(suggested, timeline)
    if status is PlanStatus.discharged:
        return "Your plan is complete."
    if status is PlanStatus.cancelled:
        return "This plan was stopped."
    if status is PlanStatus.draft:
        return f"{estimate} The timeline starts when your clinician starts the plan."
    if status is PlanStatus.on_hold:
        return f"{estimate} The plan is on hold for now."
    if timeline.status is StageTiming.behind and stage:
        days = timeline.days_behind or 0
        unit = "day" if days == 1 else "days"
        return (
            f"{estimate} The current stage, {stage}, is taking {days} {unit} longer than expected."
        )
    if timeline.status is StageTiming.on_track and stage:
        return f"{estimate} You are on track with the current stage, {stage}."
    return estimate


def discharge(status: PlanStatus, met: int, total: int, ready: bool) -> str:
    if total == 0:
        return "Your clinician has not set the discharge criteria yet."
    if status is PlanStatus.discharged:
        return f"You have been discharged; {met} of {total} discharge criteria were met."
    if ready:
        return (
            "You have met every discharge criterion: ask your clinician about finishing your plan."
        )
    remaining = total - met
    if remaining == 0:
        return f"You have met all {total} discharge criteria."
    verb = "remains" if remaining == 1 else "remain"
    return (
        f"You have met {met} of {total} discharge criteria; {remaining} {verb}. Finishing "
        "depends on what you can do, not on pain settling alone."
    )
