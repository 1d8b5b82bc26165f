"""Timeline estimates and whether a stage is on time.

Default estimates follow the clinic's practice guidance: an acute injury
with a clear mechanical driver, 6-8 sessions; a chronic, multi-factor presentation, 12-20
sessions over 3-5 months. They are a suggestion; the clinician sets the plan's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class TimelineGuidance:
    """The clinic's defaults, as data."""

    acute_sessions: tuple[int, int] = (6, 8)
    acute_weeks: int = 8
    chronic_sessions: tuple[int, int] = (12, 20)
    chronic_weeks: int = 22  # about five months


@dataclass(frozen=True)
class TimelineSuggestion:
    min_sessions: int
    max_sessions: int
    expected_end_on: date
    basis: str


def suggest(onset: str, start_on: date, guidance: TimelineGuidance) -> TimelineSuggestion:
    if onset == "acute":
        low, high = guidance.acute_sessions
        weeks = guidance.acute_weeks
        basis = f"acute onset: {low}-{high} sessions over about {weeks} weeks"
    else:
        low, high = guidance.chronic_sessions
        weeks = guidance.chronic_weeks
        basis = f"chronic onset: {low}-{high} sessions over about {weeks} weeks"
    return TimelineSuggestion(low, high, start_on + timedelta(weeks=weeks), basis)


class StageTiming(StrEnum):
    on_track = "on_track"
    behind = "behind"


@dataclass(frozen=True)
class StageSchedule:
    status: StageTiming
    due_on: date
    days_behind: int


def stage_schedule(started_on: date, expected_weeks: int, today: date) -> StageSchedule:
    """Behind once the stage has run past its expected weeks (its criteria still unmet)."""
    due_on = started_on + timedelta(weeks=expected_weeks)
    days_behind = max(0, (today - due_on).days)
    status = StageTiming.behind if days_behind > 0 else StageTiming.on_track
    return StageSchedule(status=status, due_on=due_on, days_behind=days_behind)
