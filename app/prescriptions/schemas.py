"""Prescription shapes: a version's parameters, the writes that add versions, and the reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.core.errors import field_error
from app.core.schemas import InputSchema, Schema
from app.core.types import Reason, Side
from app.exercises.models import ExerciseCategory
from app.prescriptions.models import PrescriptionStatus, PrescriptionVersion
from app.rules.progression import Action, Dosing, LoadUnit

Sets = Annotated[int, Field(ge=1, le=20)]
Reps = Annotated[int, Field(ge=1, le=100)]
DurationS = Annotated[float, Field(gt=0, le=7200, allow_inf_nan=False, description="Seconds.")]
DistanceM = Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False, description="Metres.")]
LoadValue = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
BandName = Annotated[str, StringConstraints(min_length=1, max_length=30)]
TempoPhase = Annotated[int, Field(ge=0, le=10)]
Tempo = Annotated[
    list[TempoPhase],
    Field(
        min_length=4,
        max_length=4,
        description="Seconds: eccentric, pause, concentric, pause.",
        examples=[[3, 1, 1, 0]],
    ),
]
RestS = Annotated[int, Field(ge=0, le=600, description="Seconds between sets.")]
SessionsPerWeek = Annotated[int, Field(ge=1, le=14)]
TargetRpe = Annotated[float, Field(ge=1, le=10, allow_inf_nan=False)]
TargetRir = Annotated[int, Field(ge=0, le=5)]
Instructions = Annotated[str, StringConstraints(max_length=2000)]

PARAMETERS = (
    "sets",
    "reps",
    "reps_min",
    "reps_max",
    "duration_s",
    "distance_m",
    "load_unit",
    "load_value",
    "band",
    "tempo",
    "rest_s",
    "sessions_per_week",
    "target_rpe",
    "target_rir",
    "side",
    "instructions",
)
_DOSE_FIELD = {Dosing.reps: "reps", Dosing.time: "duration_s", Dosing.distance: "distance_m"}
_DOSE_FIELDS = {
    Dosing.reps: {"reps", "reps_min", "reps_max"},
    Dosing.time: {"duration_s"},
    Dosing.distance: {"distance_m"},
}
_REQUIRED = ("sets", "load_unit", "sessions_per_week", "side")


class ParameterChanges(InputSchema):
    """Parameters of a prescription; on a change, those left out keep their value."""

    sets: Sets | None = None
    reps: Reps | None = Field(default=None, description="Target reps (reps-dosed exercises).")
    reps_min: Reps | None = Field(default=None, description="Bottom of a rep range, e.g. 8.")
    reps_max: Reps | None = Field(default=None, description="Top of a rep range, e.g. 12.")
    duration_s: DurationS | None = None
    distance_m: DistanceM | None = None
    load_unit: LoadUnit | None = None
    load_value: LoadValue | None = None
    band: BandName | None = Field(default=None, description="The band's resistance by name.")
    tempo: Tempo | None = None
    rest_s: RestS | None = None
    sessions_per_week: SessionsPerWeek | None = None
    target_rpe: TargetRpe | None = Field(default=None, description="Target effort, RPE 1-10.")
    target_rir: TargetRir | None = Field(default=None, description="Or reps in reserve, 0-5.")
    side: Side | None = None
    instructions: Instructions | None = None


class PrescriptionCreate(ParameterChanges):
    exercise_id: uuid.UUID
    driver_id: uuid.UUID = Field(description="The plan's targeted driver this addresses.")
    effective_on: date | None = Field(default=None, description="Defaults to today.")
    sets: Sets
    load_unit: LoadUnit
    sessions_per_week: SessionsPerWeek
    side: Side = Side.none


class PrescriptionUpdate(ParameterChanges):
    reason: Reason = Field(description="Why the parameters change.")
    effective_on: date | None = Field(default=None, description="Defaults to today.")


class PrescriptionStop(InputSchema):
    reason: Reason


class ProgressRequest(InputSchema):
    """Either apply the current suggestion, or give the clinician's own parameters."""

    apply_suggestion: bool = False
    parameters: ParameterChanges | None = None
    reason: Reason | None = Field(default=None, description="Defaults to the rule's reason.")
    effective_on: date | None = Field(default=None, description="Defaults to today.")


def parameter_errors(
    values: Mapping[str, Any], dosing: Dosing, bands: Sequence[str], prefix: str = ""
) -> list[dict[str, str]]:
    """What is wrong with a whole set of parameters for an exercise of this dosing."""
    problems = [(name, "required") for name in _REQUIRED if values.get(name) is None]
    problems += [*_dosing_problems(values, dosing), *_load_problems(values, bands)]
    if values.get("target_rpe") is not None and values.get("target_rir") is not None:
        problems.append(("target_rir", "give a target RPE or reps in reserve, not both"))
    return [field_error(f"{prefix}/{name}", detail) for name, detail in problems]


def _dosing_problems(values: Mapping[str, Any], dosing: Dosing) -> Iterator[tuple[str, str]]:
    needed = _DOSE_FIELD[dosing]
    if values.get(needed) is None:
        yield needed, f"required for a {dosing}-dosed exercise"
    for name in ("reps", "reps_min", "reps_max", "duration_s", "distance_m"):
        if name not in _DOSE_FIELDS[dosing] and values.get(name) is not None:
            yield name, f"not used by a {dosing}-dosed exercise"
    if dosing is not Dosing.reps:
        return
    low, high, reps = values.get("reps_min"), values.get("reps_max"), values.get("reps")
    if (low is None) != (high is None):
        yield ("reps_min" if low is None else "reps_max"), "a range needs reps_min and reps_max"
    elif low is not None and high is not None:
        if low > high:
            yield "reps_max", "below reps_min"
        elif reps is not None and not low <= reps <= high:
            yield "reps", f"outside the range {low}-{high}"


def _load_problems(values: Mapping[str, Any], bands: Sequence[str]) -> Iterator[tuple[str, str]]:
    if values.get("load_unit") is None:
        return
    unit, value, band = LoadUnit(values["load_unit"]), values.get("load_value"), values.get("band")
    if unit is LoadUnit.band and band not in bands:
        yield "band", f"one of {', '.join(bands)}"
    if unit is not LoadUnit.band and band is not None:
        yield "band", "only for a band load"
    if unit in (LoadUnit.bodyweight, LoadUnit.band):
        if value is not None:
            yield "load_value", f"not used with a {unit} load"
    elif value is None or value <= 0:
        yield "load_value", f"a load above 0 is needed in {unit}"


class ParametersRead(Schema):
    sets: int
    reps: int | None
    reps_min: int | None
    reps_max: int | None
    duration_s: float | None
    distance_m: float | None
    load_unit: LoadUnit
    load_value: float | None
    band: str | None
    tempo: list[int] | None
    rest_s: int | None
    sessions_per_week: int
    target_rpe: float | None
    target_rir: int | None
    side: Side
    instructions: str | None


def parameters_of(version: PrescriptionVersion) -> dict[str, Any]:
    return {name: getattr(version, name) for name in PARAMETERS}


class VersionRead(Schema):
    number: int
    effective_on: date
    created_at: datetime
    created_by_type: str
    created_by_id: uuid.UUID
    reason: str
    rule: str | None = Field(description="The progression rule applied, or clinician.")
    parameters: ParametersRead

    @classmethod
    def of(cls, version: PrescriptionVersion) -> VersionRead:
        fields = {name: getattr(version, name) for name in cls.model_fields if name != "parameters"}
        return cls(**fields, parameters=ParametersRead.model_validate(version))


class ExerciseSummary(Schema):
    id: uuid.UUID
    name: str
    dosing: Dosing
    body_region: str
    category: ExerciseCategory


class PrescriptionRead(Schema):
    id: uuid.UUID
    plan_id: uuid.UUID
    stage_id: uuid.UUID
    patient_id: uuid.UUID
    exercise: ExerciseSummary
    driver_id: uuid.UUID
    status: PrescriptionStatus
    current: ParametersRead = Field(description="The latest version's parameters.")
    versions: list[VersionRead] = Field(description="Every version, oldest first.")
    stopped_at: datetime | None
    stop_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class SuggestionRead(Schema):
    prescription_id: uuid.UUID
    based_on_version: int = Field(description="The version whose parameters were read.")
    action: Action
    rule: str
    reason: str
    log_ids: list[uuid.UUID] = Field(description="The logs the rule read.")
    before: ParametersRead
    after: ParametersRead
    notes: list[str]


class ProgramEntry(Schema):
    prescription_id: uuid.UUID
    stage_id: uuid.UUID
    exercise: ExerciseSummary
    driver_id: uuid.UUID
    status: PrescriptionStatus
    stopped_at: datetime | None


class InForce(Schema):
    version: int = Field(description="The version in force at the end of the week.")
    effective_on: date
    parameters: ParametersRead


class ProgramItem(ProgramEntry, InForce):
    pass


class ProgramWeekRead(Schema):
    plan_id: uuid.UUID
    week: int = Field(description="Week 1 starts on the day the plan was activated.")
    starts_on: date
    ends_on: date
    items: list[ProgramItem]


class HistoryWeek(InForce):
    week: int
    starts_on: date
    ends_on: date
    changed: bool = Field(description="The parameters differ from the previous week's.")


class PrescriptionHistory(ProgramEntry):
    weeks: list[HistoryWeek]


class ProgramHistoryRead(Schema):
    plan_id: uuid.UUID
    starts_on: date = Field(description="The first day of week 1.")
    current_week: int
    prescriptions: list[PrescriptionHistory]
