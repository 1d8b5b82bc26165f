from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from app.rules.progression import (
    Action,
    Body,
    Dose,
    Dosing,
    LoadUnit,
    Log,
    ProgressionRules,
    SetDone,
    next_load,
    suggest,
)

RULES = ProgressionRules()
SQUAT = Dose(
    sets=3, dosing=Dosing.reps, reps=8, load_unit=LoadUnit.kg, load_value=40, body=Body.lower_body
)
PRESS = Dose(
    sets=3, dosing=Dosing.reps, reps=10, load_unit=LoadUnit.kg, load_value=20, body=Body.upper_body
)
RANGE = Dose(
    sets=3,
    dosing=Dosing.reps,
    reps=8,
    reps_min=8,
    reps_max=12,
    load_unit=LoadUnit.kg,
    load_value=30,
)
BRIDGE = Dose(sets=3, dosing=Dosing.reps, reps=12, load_unit=LoadUnit.bodyweight)
PLANK = Dose(sets=3, dosing=Dosing.time, duration_s=30)
START = date(2026, 3, 2)


def log(
    n: int,
    *reps: int,
    pain: int | None = 1,
    morning: int | None = 1,
    before: int | None = None,
    rpe: float | None = None,
    duration: float | None = None,
) -> Log:
    sets = tuple(SetDone(reps=r, duration_s=duration, rpe=rpe) for r in reps)
    return Log(
        id=f"log{n}",
        on=START + timedelta(days=2 * n),
        sets=sets,
        pain_during=pain,
        pain_before=before,
        pain_next_morning=morning,
    )


def test_a_single_session_is_not_enough_for_two_for_two() -> None:
    result = suggest(SQUAT, [log(1, 10, 10, 10)], RULES)
    assert result.action is Action.hold
    assert result.rule == "target_not_met"
    assert result.after == SQUAT


def test_two_for_two_raises_a_lower_body_load_by_five_percent() -> None:
    result = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 9, 10, 10)], RULES)
    assert result.action is Action.progress
    assert result.rule == "two_for_two"
    assert result.after.load_value == 42
    assert result.before.load_value == 40
    assert set(result.log_ids) == {"log1", "log2"}


@pytest.mark.parametrize(("last_set", "fires"), [(10, True), (9, False)])
def test_two_for_two_needs_exactly_plus_two_on_the_last_set(last_set: int, fires: bool) -> None:
    result = suggest(SQUAT, [log(1, 8, 8, last_set), log(2, 8, 8, 10)], RULES)
    assert (result.rule == "two_for_two") is fires


def test_two_for_two_reads_the_two_latest_sessions_only() -> None:
    result = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 8, 8, 8), log(3, 10, 10, 10)], RULES)
    assert result.rule != "two_for_two"


def test_upper_body_steps_two_and_a_half_percent_but_at_least_one_increment() -> None:
    result = suggest(PRESS, [log(1, 12, 12, 12), log(2, 12, 12, 12)], RULES)
    assert result.after.load_value == 21


@pytest.mark.parametrize(
    ("current", "percent", "increment", "expected"),
    [
        (40, 5, 1, 42),
        (20, 2.5, 1, 21),
        (100, 5, 2.5, 105),
        (62.5, 5, 2.5, 65),
        (41, 5, 2.5, 42.5),
        (10, 5, 0.5, 10.5),
        (3, 5, 1, 4),
    ],
)
def test_load_rounds_to_the_increment(
    current: float, percent: float, increment: float, expected: float
) -> None:
    assert next_load(current, percent, increment) == expected


def test_barbell_loads_move_in_two_and_a_half_kilo_steps() -> None:
    barbell = replace(SQUAT, load_value=60, barbell=True)
    result = suggest(barbell, [log(1, 10, 10, 10), log(2, 10, 10, 10)], RULES)
    assert result.after.load_value == 62.5


def test_pound_loads_use_pound_increments() -> None:
    pounds = replace(SQUAT, load_unit=LoadUnit.lb, load_value=45)
    result = suggest(pounds, [log(1, 10, 10, 10), log(2, 10, 10, 10)], RULES)
    assert result.after.load_value == 47


def test_bands_move_to_the_next_resistance() -> None:
    band = replace(SQUAT, load_unit=LoadUnit.band, load_value=None, band="light")
    result = suggest(band, [log(1, 10, 10, 10), log(2, 10, 10, 10)], RULES)
    assert result.after.band == "medium"
    strongest = replace(band, band="extra_heavy")
    assert (
        suggest(strongest, [log(1, 10, 10, 10), log(2, 10, 10, 10)], RULES).after.band
        == "extra_heavy"
    )


def test_double_progression_adds_a_rep_within_the_range() -> None:
    result = suggest(RANGE, [log(1, 8, 8, 8)], RULES)
    assert result.rule == "add_rep"
    assert result.after.reps == 9
    assert result.after.load_value == 30


def test_double_progression_at_the_top_raises_load_and_resets_reps() -> None:
    at_top = replace(RANGE, reps=12)
    result = suggest(at_top, [log(1, 12, 12, 12)], RULES)
    assert result.rule == "double_progression"
    assert result.after.reps == 8
    assert result.after.load_value == 32


def test_double_progression_needs_every_set() -> None:
    at_top = replace(RANGE, reps=12)
    result = suggest(at_top, [log(1, 12, 12, 11)], RULES)
    assert result.action is Action.hold


@pytest.mark.parametrize(("pain", "action"), [(5, Action.progress), (6, Action.hold)])
def test_pain_during_five_is_acceptable_six_holds(pain: int, action: Action) -> None:
    result = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10, pain=pain)], RULES)
    assert result.action is action
    if action is Action.hold:
        assert result.rule == "pain"


def test_pain_worse_next_morning_than_before_holds() -> None:
    result = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10, before=2, morning=3)], RULES)
    assert result.action is Action.hold
    assert result.rule == "pain"
    same = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10, before=2, morning=2)], RULES)
    assert same.action is Action.progress


@pytest.mark.parametrize(("morning", "action"), [(5, Action.progress), (6, Action.hold)])
def test_next_morning_above_five_holds_when_before_is_unknown(morning: int, action: Action) -> None:
    result = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10, morning=morning)], RULES)
    assert result.action is action


def test_pain_in_two_consecutive_sessions_reduces_one_step() -> None:
    result = suggest(SQUAT, [log(1, 8, 8, 8, pain=7), log(2, 8, 8, 8, pain=6)], RULES)
    assert result.action is Action.reduce
    assert result.after.load_value == 38
    assert result.log_ids == ("log2", "log1")


def test_missing_next_morning_pain_never_blocks_but_is_said() -> None:
    result = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10, morning=None)], RULES)
    assert result.action is Action.progress
    assert any("Next-morning pain is missing" in note for note in result.notes)


def test_effort_at_the_target_holds_even_when_reps_were_reached() -> None:
    hard = replace(SQUAT, target_rpe=8)
    result = suggest(hard, [log(1, 10, 10, 10), log(2, 10, 10, 10, rpe=8)], RULES)
    assert result.action is Action.hold
    assert result.rule == "effort"
    easy = suggest(hard, [log(1, 10, 10, 10), log(2, 10, 10, 10, rpe=7)], RULES)
    assert easy.action is Action.progress


def test_reps_in_reserve_at_or_below_target_holds() -> None:
    rir = replace(SQUAT, target_rir=2)
    sets = tuple(SetDone(reps=10, rir=2) for _ in range(3))
    latest = Log("log9", START + timedelta(days=30), sets, pain_during=1, pain_next_morning=1)
    assert suggest(rir, [log(1, 10, 10, 10), latest], RULES).rule == "effort"


def test_bodyweight_progresses_reps_then_sets_then_a_harder_variation() -> None:
    assert suggest(BRIDGE, [log(1, 12, 12, 12)], RULES).after.reps == 13
    at_top = replace(BRIDGE, reps=15)
    more_sets = suggest(at_top, [log(1, 15, 15, 15)], RULES)
    assert more_sets.rule == "bodyweight_sets"
    assert more_sets.after.sets == 4
    maxed = replace(at_top, sets=5)
    harder = suggest(maxed, [log(1, 15, 15, 15, 15, 15)], RULES)
    assert harder.rule == "harder_variation"
    assert harder.after == maxed


def test_time_dosed_holds_progress_ten_percent_at_least_five_seconds() -> None:
    result = suggest(PLANK, [log(1, 0, 0, 0, duration=30)], RULES)
    assert result.rule == "time"
    assert result.after.duration_s == 35
    long = replace(PLANK, duration_s=90)
    assert suggest(long, [log(1, 0, 0, 0, duration=90)], RULES).after.duration_s == 99
    short = suggest(PLANK, [log(1, 0, 0, 0, duration=25)], RULES)
    assert short.action is Action.hold


def test_distance_dosed_progresses_ten_percent() -> None:
    walk = Dose(sets=1, dosing=Dosing.distance, distance_m=400)
    done = Log("d", START, (SetDone(distance_m=400),), pain_during=0, pain_next_morning=0)
    assert suggest(walk, [done], RULES).after.distance_m == 440


def test_skipped_sessions_are_not_read_and_no_logs_holds() -> None:
    skipped = Log("s", START + timedelta(days=9), (), skipped=True)
    result = suggest(SQUAT, [skipped], RULES)
    assert result.rule == "no_logs"
    progressed = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10), skipped], RULES)
    assert progressed.rule == "two_for_two"


def test_a_clinic_can_change_the_thresholds() -> None:
    gentle = ProgressionRules(lower_body_step_percent=10, pain_during_max=3)
    result = suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10)], gentle)
    assert result.after.load_value == 44
    assert (
        suggest(SQUAT, [log(1, 10, 10, 10), log(2, 10, 10, 10, pain=4)], gentle).action
        is Action.hold
    )


def test_a_bodyweight_reduction_stays_within_the_rep_range() -> None:
    ranged = replace(BRIDGE, reps=9, reps_min=8, reps_max=15)
    painful = [log(1, 9, 9, 9, pain=7), log(2, 9, 9, 9, pain=8)]
    result = suggest(ranged, painful, RULES)
    assert result.action is Action.reduce
    assert result.after.reps == 8
