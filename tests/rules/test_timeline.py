from __future__ import annotations

from datetime import date

import pytest

from app.rules.timeline import StageTiming, TimelineGuidance, stage_schedule, suggest

START = date(2026, 3, 2)


def test_acute_onset_suggests_six_to_eight_sessions() -> None:
    suggestion = suggest("acute", START, TimelineGuidance())
    assert (suggestion.min_sessions, suggestion.max_sessions) == (6, 8)
    assert suggestion.expected_end_on == date(2026, 4, 27)
    assert suggestion.basis.startswith("acute onset")


def test_chronic_onset_suggests_twelve_to_twenty_sessions_over_months() -> None:
    suggestion = suggest("chronic", START, TimelineGuidance())
    assert (suggestion.min_sessions, suggestion.max_sessions) == (12, 20)
    months = (suggestion.expected_end_on - START).days / 30.4
    assert 3 <= months <= 5.2


def test_a_clinic_can_change_the_guidance() -> None:
    guidance = TimelineGuidance(acute_sessions=(4, 6), acute_weeks=4)
    suggestion = suggest("acute", START, guidance)
    assert (suggestion.min_sessions, suggestion.max_sessions) == (4, 6)
    assert suggestion.expected_end_on == date(2026, 3, 30)


@pytest.mark.parametrize(
    ("today", "status", "days_behind"),
    [
        (date(2026, 3, 20), StageTiming.on_track, 0),
        (date(2026, 3, 30), StageTiming.on_track, 0),
        (date(2026, 3, 31), StageTiming.behind, 1),
        (date(2026, 4, 13), StageTiming.behind, 14),
    ],
)
def test_stage_is_behind_only_after_its_expected_weeks(
    today: date, status: StageTiming, days_behind: int
) -> None:
    schedule = stage_schedule(START, 4, today)
    assert schedule.due_on == date(2026, 3, 30)
    assert schedule.status is status
    assert schedule.days_behind == days_behind
