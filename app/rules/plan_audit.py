"""The plan audit: the four ways rehabilitation fails, made visible as findings.

Pure functions on plain facts; thresholds arrive as `AuditThresholds` (per clinic, with the
clinical model's defaults below). Each finding has a stable code, a
severity, a plain-language message and its evidence. A plan is due for reassessment while any
critical finding holds; a finalised reassessment (`reassessed_at`) answers STALLED,
NOT_PROGRESSING and NO_RECENT_MEASUREMENT: what came before it no longer counts for them.

Sources: passive care builds no capacity and a stimulus that never changes stops producing
adaptation (NSCA, Essentials of Strength Training and Conditioning); discharge on function, not
pain relief (Grindem et al., BJSM 2016); minimal clinically important differences as in the
measure catalog (e.g. PSFS 2 points, Abbott & Schmitt, JOSPT 2014).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"


@dataclass(frozen=True)
class AuditThresholds:
    not_progressing_days: int = 14
    passive_recent_sessions: int = 2
    passive_share: float = 0.5
    stalled_observations: int = 3
    stalled_min_days: int = 14
    no_recent_measurement_sessions: int = 3
    draft_max_days: int = 7
    sessions_without_plan: int = 2


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionFacts:
    id: Any
    number: int
    occurred_on: date
    active_work: int
    adjuncts: int
    measured: frozenset[Any] = frozenset()

    @property
    def passive_only(self) -> bool:
        return self.adjuncts > 0 and self.active_work == 0


@dataclass(frozen=True)
class PrescriptionFacts:
    id: Any
    stage_id: Any
    active: bool
    started_on: date
    last_change_on: date
    driver_id: Any | None
    signature: tuple[Any, ...] = ()


@dataclass(frozen=True)
class MeasureSeries:
    """The observations behind one of the current stage's criteria, oldest first."""

    measure_id: Any
    code: str
    mcid: float | None
    points: tuple[tuple[datetime, float], ...]


@dataclass(frozen=True)
class PlanFacts:
    status: str
    created_on: date
    today: date
    has_drivers: bool = True
    has_stages: bool = True
    stages_have_criteria: bool = True
    has_timeline: bool = True
    discharge_categories: tuple[str, ...] = ()
    discharged_against_criteria: bool = False
    current_stage_id: Any | None = None
    current_stage_started_on: date | None = None
    current_stage_expected_weeks: int | None = None
    current_stage_criteria_met: bool = False
    current_criteria_measures: frozenset[Any] = frozenset()
    max_sessions: int | None = None
    sessions: tuple[SessionFacts, ...] = ()
    prescriptions: tuple[PrescriptionFacts, ...] = ()
    series: tuple[MeasureSeries, ...] = ()
    # Another active plan of the clinic runs this plan's whole active program, the same
    # exercises at the same doses (program_signature equal): a template copied unchanged.
    same_program_elsewhere: bool = False
    reassessed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def since_reassessment(self, day: date) -> date:
        """A finalised reassessment answers what came before it: the clock restarts there."""
        return day if self.reassessed_at is None else max(day, self.reassessed_at.date())


def audit(facts: PlanFacts, thresholds: AuditThresholds) -> list[Finding]:
    """Every finding for one plan, most severe first."""
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(facts, thresholds))
    order = {Severity.critical: 0, Severity.warning: 1, Severity.info: 2}
    return sorted(findings, key=lambda f: order[f.severity])


def reassessment_due(findings: Sequence[Finding]) -> bool:
    return any(f.severity is Severity.critical for f in findings)


def passive_only(facts: PlanFacts, t: AuditThresholds) -> list[Finding]:
    sessions = sorted(facts.sessions, key=lambda s: s.number)
    if not sessions:
        return []
    recent = sessions[-t.passive_recent_sessions :]
    passive = [s for s in sessions if s.passive_only]
    share = len(passive) / len(sessions)
    recent_all_passive = len(recent) == t.passive_recent_sessions and all(
        s.passive_only for s in recent
    )
    if not (recent_all_passive or share > t.passive_share):
        return []
    message = (
        f"{len(passive)} of {len(sessions)} sessions had passive care and no active work"
        + (f", including the latest {len(recent)}" if recent_all_passive else "")
        + ": passive care eases pain but builds no capacity."
    )
    evidence = {"session_ids": [s.id for s in passive], "share": round(share, 3)}
    return [Finding("PASSIVE_ONLY", Severity.critical, message, evidence)]


def not_progressing(facts: PlanFacts, t: AuditThresholds) -> list[Finding]:
    if not facts.active:
        return []
    limit = timedelta(days=t.not_progressing_days)
    current = [p for p in facts.prescriptions if p.active]
    unchanged = {p.id: (facts.today - facts.since_reassessment(p.last_change_on)) for p in current}
    stale = [p for p in current if unchanged[p.id] > limit]
    findings = [
        Finding(
            "NOT_PROGRESSING",
            Severity.warning,
            f"A prescription's parameters have not changed for {unchanged[p.id].days} days "
            f"(limit {t.not_progressing_days}).",
            {"prescription_id": p.id, "last_change_on": p.last_change_on.isoformat()},
        )
        for p in stale
    ]
    in_stage = [p for p in current if p.stage_id == facts.current_stage_id]
    if in_stage and all(p in stale for p in in_stage):
        findings.append(
            Finding(
                "NOT_PROGRESSING",
                Severity.critical,
                "No prescription in the current stage has progressed: "
                "the stimulus has stopped changing.",
                {"stage_id": facts.current_stage_id, "prescription_ids": [p.id for p in in_stage]},
            )
        )
    return findings


def not_individualised(facts: PlanFacts, _t: AuditThresholds) -> list[Finding]:
    findings = []
    untied = [p.id for p in facts.prescriptions if p.active and p.driver_id is None]
    if untied:
        findings.append(
            Finding(
                "NOT_INDIVIDUALISED",
                Severity.warning,
                "Prescriptions are not tied to a driver found at assessment.",
                {"prescription_ids": untied},
            )
        )
    program = program_signature(facts.prescriptions)
    if program and facts.same_program_elsewhere:
        findings.append(
            Finding(
                "NOT_INDIVIDUALISED",
                Severity.warning,
                "This program matches another patient's exactly: a template copied unchanged.",
                {"exercises": len(program)},
            )
        )
    return findings


def program_signature(prescriptions: Sequence[PrescriptionFacts]) -> tuple[Any, ...]:
    """The active program as an order-free value: equal for two copies of one template."""
    return tuple(sorted((p.signature for p in prescriptions if p.active), key=repr))


def pain_only_discharge(facts: PlanFacts, _t: AuditThresholds) -> list[Finding]:
    findings = []
    categories = facts.discharge_categories
    if categories and all(c == "pain" for c in categories):
        findings.append(
            Finding(
                "PAIN_ONLY_DISCHARGE",
                Severity.critical,
                "Every discharge criterion is about pain: discharge must wait for function.",
                {"categories": list(categories)},
            )
        )
    if facts.discharged_against_criteria:
        findings.append(
            Finding(
                "PAIN_ONLY_DISCHARGE",
                Severity.critical,
                "The plan was discharged although its functional criteria were unmet.",
                {},
            )
        )
    return findings


def no_plan(facts: PlanFacts, t: AuditThresholds) -> list[Finding]:
    findings = []
    if facts.status == "draft":
        age = (facts.today - facts.created_on).days
        gaps = [
            name
            for name, ok in (
                ("drivers", facts.has_drivers),
                ("stages", facts.has_stages),
                ("criteria", facts.stages_have_criteria),
                ("discharge criteria", bool(facts.discharge_categories)),
                ("timeline", facts.has_timeline),
            )
            if not ok
        ]
        if age > t.draft_max_days:
            findings.append(
                Finding(
                    "NO_PLAN",
                    Severity.warning,
                    f"The plan has been a draft for {age} days"
                    + (f", still without {', '.join(gaps)}." if gaps else "."),
                    {"days": age, "missing": gaps},
                )
            )
        if len(facts.sessions) >= t.sessions_without_plan:
            findings.append(
                Finding(
                    "NO_PLAN",
                    Severity.critical,
                    f"{len(facts.sessions)} sessions were delivered without an active plan.",
                    {"sessions": len(facts.sessions)},
                )
            )
    return findings


def milestone_overdue(facts: PlanFacts, _t: AuditThresholds) -> list[Finding]:
    started, weeks = facts.current_stage_started_on, facts.current_stage_expected_weeks
    if not facts.active or started is None or weeks is None or facts.current_stage_criteria_met:
        return []
    due = started + timedelta(weeks=weeks)
    if facts.today <= due:
        return []
    days = (facts.today - due).days
    return [
        Finding(
            "MILESTONE_OVERDUE",
            Severity.warning,
            f"The current stage is {days} days past its expected {weeks} weeks, criteria unmet.",
            {"stage_id": facts.current_stage_id, "due_on": due.isoformat(), "days_over": days},
        )
    ]


def over_session_estimate(facts: PlanFacts, _t: AuditThresholds) -> list[Finding]:
    if facts.max_sessions is None or len(facts.sessions) <= facts.max_sessions:
        return []
    return [
        Finding(
            "OVER_SESSION_ESTIMATE",
            Severity.warning,
            f"{len(facts.sessions)} sessions, past the plan's expected maximum "
            f"of {facts.max_sessions}.",
            {"sessions": len(facts.sessions), "max_sessions": facts.max_sessions},
        )
    ]


def stalled(facts: PlanFacts, t: AuditThresholds) -> list[Finding]:
    if not facts.active:
        return []
    findings = []
    since = facts.reassessed_at
    for series in facts.series:
        points = [p for p in series.points if since is None or p[0] >= since]
        latest = points[-t.stalled_observations :]
        if series.mcid is None or len(latest) < t.stalled_observations:
            continue
        span = (latest[-1][0] - latest[0][0]).days
        values = [v for _, v in latest]
        moved = max(values) - min(values)
        if span >= t.stalled_min_days and moved < series.mcid:
            findings.append(
                Finding(
                    "STALLED",
                    Severity.critical,
                    f"{series.code} moved {moved:g} over {span} days, less than its minimal "
                    f"clinically important difference ({series.mcid:g}): reassess the driver.",
                    {
                        "measure_id": series.measure_id,
                        "moved": moved,
                        "mcid": series.mcid,
                        "days": span,
                    },
                )
            )
    return findings


def no_recent_measurement(facts: PlanFacts, t: AuditThresholds) -> list[Finding]:
    if not facts.active or not facts.current_criteria_measures:
        return []
    start = facts.reassessed_at.date() if facts.reassessed_at else date.min
    counted = [s for s in facts.sessions if s.occurred_on >= start]
    recent = sorted(counted, key=lambda s: s.number)[-t.no_recent_measurement_sessions :]
    if len(recent) < t.no_recent_measurement_sessions:
        return []
    if any(s.measured & facts.current_criteria_measures for s in recent):
        return []
    return [
        Finding(
            "NO_RECENT_MEASUREMENT",
            Severity.warning,
            f"The last {len(recent)} sessions recorded none of the measures the current stage's "
            "criteria need.",
            {"session_ids": [s.id for s in recent]},
        )
    ]


RULES = (
    passive_only,
    not_progressing,
    not_individualised,
    pain_only_discharge,
    no_plan,
    milestone_overdue,
    over_session_estimate,
    stalled,
    no_recent_measurement,
)
