"""The plan summary a patient reads: each answer as data and as a plain-language sentence."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from app.assessments.models import DriverKind, Onset
from app.core.schemas import Schema
from app.core.types import Side
from app.plans.models import PlanStatus
from app.plans.progress_schemas import StageState
from app.rules.criteria import Comparator, Mode, Status
from app.rules.progression import LoadUnit
from app.rules.timeline import StageTiming

Text = str  # a sentence written for the patient, not a code

DRIVER_KIND_LABELS = {
    DriverKind.capacity_deficit: "Strength or capacity below what your activities need",
    DriverKind.load_tolerance_gap: "Tissues not yet used to the load your activities put on them",
    DriverKind.movement_pattern: "A way of moving that puts extra strain on the painful area",
    DriverKind.other: "Another factor that keeps the problem going",
}
ONSET_LABELS = {
    Onset.acute: "Recent (acute)",
    Onset.chronic: "Long-standing (chronic)",
}
STATUS_LABELS = {
    Status.met: "Achieved",
    Status.not_met: "Not yet",
    Status.no_data: "Not measured yet",
}
STAGE_STATE_LABELS = {
    StageState.completed: "Completed",
    StageState.current: "Current stage",
    StageState.pending: "Coming up",
}
PLAN_STATUS_LABELS = {
    PlanStatus.draft: "Being prepared by your clinician",
    PlanStatus.active: "Under way",
    PlanStatus.on_hold: "On hold",
    PlanStatus.discharged: "Completed",
    PlanStatus.cancelled: "Stopped",
}
COMPARATOR_WORDS = {
    Comparator.gte: "at least",
    Comparator.lte: "at most",
    Comparator.gt: "more than",
    Comparator.lt: "less than",
}


class SummaryPatient(Schema):
    display_name: str


class SummaryFinding(Schema):
    finding_id: uuid.UUID
    name: str
    side: Side
    value: float | None
    unit: str | None
    result: str | None
    text: Text = Field(examples=["Single-leg squat repetitions, left: 8 reps"])


class SummaryDriver(Schema):
    driver_id: uuid.UUID
    kind: DriverKind
    kind_label: Text = Field(examples=[DRIVER_KIND_LABELS[DriverKind.capacity_deficit]])
    description: str
    addressed_by_plan: bool = Field(description="The plan targets this driver.")
    findings: list[SummaryFinding] = Field(description="The findings that support it.")


class SummaryGoal(Schema):
    statement: str
    target: Text | None = Field(examples=["10 km"])


class SummaryExamination(Schema):
    assessment_id: uuid.UUID
    assessed_at: datetime
    presenting_complaint: str
    body_region: str
    onset: Onset
    onset_label: Text
    pain_now: int | None
    pain_worst: int | None
    drivers: list[SummaryDriver]
    goals: list[SummaryGoal]


class ChartPoint(Schema):
    at: datetime
    value: float


class SummaryChart(Schema):
    """The criterion's measure over time, in the terms its target is set in: the measure's own
    values, or the limb symmetry index (%) for a limb symmetry criterion."""

    label: Text = Field(examples=["Single-leg hop for distance, left as % of right"])
    unit: str
    unit_label: Text
    out_of: float | None = Field(description="A score's maximum, so that 2 reads as 2/10.")
    comparator: Comparator
    target: float | None = Field(description="The value to reach; null until a baseline exists.")
    baseline: float | None
    points: list[ChartPoint]


class SummaryCriterion(Schema):
    criterion_id: uuid.UUID
    statement: str = Field(description="What the patient demonstrates.")
    measure_code: str
    measure_name: str
    mode: Mode
    comparator: Comparator
    target: float
    current: float | None = Field(
        description="The latest value, LSI (%) or change from baseline the target is judged on."
    )
    baseline: float | None
    current_text: Text | None = Field(examples=["85%", "2/10", "+3 points"])
    target_text: Text = Field(examples=["at least 90%"])
    unit: str = Field(description="The unit of `current` and `target` (UCUM).")
    unit_label: Text
    status: Status
    status_label: Text
    met: bool
    progress: float = Field(ge=0, le=1, description="From baseline to target; 1 when met.")
    text: Text = Field(examples=["Now 85%; the target is at least 90%. Not yet."])
    chart: SummaryChart


class SummaryStage(Schema):
    stage_id: uuid.UUID
    position: int
    name: str
    goal: str
    expected_weeks: int
    state: StageState
    state_label: Text
    all_met: bool
    due_on: date | None = Field(description="For the current stage: when it is expected done.")
    criteria: list[SummaryCriterion]


class SummaryTimeline(Schema):
    expected_end_on: date | None
    sessions_min: int | None
    sessions_max: int | None
    suggested: bool = Field(description="A typical estimate, not yet set by the clinician.")
    status: StageTiming | None = Field(description="The current stage's schedule.")
    days_behind: int | None
    text: Text


class SummaryPlan(Schema):
    title: str
    status: PlanStatus
    status_label: Text
    current_stage_id: uuid.UUID | None
    current_stage_name: str | None
    timeline: SummaryTimeline
    stages: list[SummaryStage]


class SummaryDischarge(Schema):
    ready: bool = Field(description="Every discharge criterion met (pain alone never is).")
    met_count: int
    remaining_count: int
    text: Text
    criteria: list[SummaryCriterion]


class HomeExercise(Schema):
    prescription_id: uuid.UUID
    exercise_name: str
    side: Side
    sets: int
    reps: int | None
    reps_min: int | None
    reps_max: int | None
    duration_s: float | None
    distance_m: float | None
    dose: Text = Field(examples=["3 sets of 8 reps"])
    load_unit: LoadUnit
    load_value: float | None
    band: str | None
    load: Text = Field(examples=["40 kg", "Band: medium"])
    tempo: str | None = Field(
        description="Seconds lowering-pause-lifting-pause.", examples=["3-1-1-0"]
    )
    rest_s: int | None
    sessions_per_week: int
    effort: Text | None = Field(examples=["Effort about 7 out of 10"])
    instructions: str | None


class SummaryRead(Schema):
    """The three answers a patient needs about their care, and their home program."""

    plan_id: uuid.UUID
    generated_at: datetime
    patient: SummaryPatient
    examination: SummaryExamination
    plan: SummaryPlan
    discharge: SummaryDischarge
    home_program: list[HomeExercise]
