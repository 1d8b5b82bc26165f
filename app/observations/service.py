from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.assessments.models import Assessment
from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from app.core.pagination import PageParams, paginate
from app.core.types import Side
from app.measures import service as measures_service
from app.measures.models import Measure
from app.observations.models import Observation, ObservationSource
from app.observations.schemas import ObservationCreate
from app.patients.models import Patient
from app.rules.bounds import out_of_bounds
from app.rules.units import convert

# Devices' clocks drift; a reading a few minutes "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=5)


def readable(actor: Actor) -> Select[Observation]:
    statement = select(Observation).where(Observation.clinic_id == actor.clinic_id)
    if actor.is_patient:
        statement = statement.where(Observation.patient_id == actor.patient_id)
    return statement


def get(session: Session, actor: Actor, observation_id: uuid.UUID) -> Observation:
    found = session.scalars(readable(actor).where(Observation.id == observation_id)).first()
    if found is None:
        raise NotFound("No observation with that id in your clinic.")
    return found


def search(
    session: Session,
    actor: Actor,
    patient: Patient,
    page: PageParams,
    *,
    measure_id: uuid.UUID | None = None,
    side: Side | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_entered_in_error: bool = False,
) -> tuple[list[Observation], str | None]:
    statement = readable(actor).where(Observation.patient_id == patient.id)
    if measure_id:
        statement = statement.where(Observation.measure_id == measure_id)
    if side:
        statement = statement.where(Observation.side == side)
    if since:
        statement = statement.where(Observation.observed_at >= since)
    if until:
        statement = statement.where(Observation.observed_at < until)
    if not include_entered_in_error:
        statement = statement.where(Observation.entered_in_error_at.is_(None))
    return paginate(session, statement, (Observation.observed_at, Observation.id), page)


def _measures_by_reference(
    session: Session, actor: Actor, items: Sequence[ObservationCreate]
) -> tuple[dict[uuid.UUID, Measure], dict[str, Measure]]:
    by_id = measures_service.get_many(session, actor, [i.measure_id for i in items if i.measure_id])
    codes = {i.measure_code for i in items if i.measure_code}
    by_code: dict[str, Measure] = {}
    if codes:
        rows = session.scalars(measures_service.readable(actor).where(Measure.code.in_(codes)))
        # A clinic's own measure never shares a shipped code, so a code names one measure.
        by_code = {m.code: m for m in rows}
    return by_id, by_code


def _assessment_ids(
    session: Session, patient: Patient, items: Sequence[ObservationCreate]
) -> set[uuid.UUID]:
    wanted = {i.assessment_id for i in items if i.assessment_id}
    if not wanted:
        return set()
    rows = session.scalars(
        select(Assessment.id).where(
            Assessment.clinic_id == patient.clinic_id,
            Assessment.patient_id == patient.id,
            Assessment.id.in_(wanted),
        )
    )
    return set(rows)


def create_many(
    session: Session,
    actor: Actor,
    patient: Patient,
    items: Sequence[ObservationCreate],
    *,
    prefix: str = "",
    session_id: uuid.UUID | None = None,
) -> list[Observation]:
    """Validates every item first, so a batch lands whole or not at all. Observations taken
    in a treatment session (`session_id`) are audited with it, by the session's one event."""
    by_id, by_code = _measures_by_reference(session, actor, items)
    assessments = _assessment_ids(session, patient, items)
    errors: list[dict[str, str]] = []
    rows: list[Observation] = []
    for index, item in enumerate(items):
        where = f"{prefix}/{index}" if prefix else ""
        measure = (
            by_id.get(item.measure_id) if item.measure_id else by_code.get(item.measure_code or "")
        )
        problem = _check(actor, item, measure, assessments, where)
        if problem:
            errors.extend(problem)
            continue
        assert measure is not None
        rows.append(_build(actor, patient, item, measure, session_id))
    if errors:
        raise InvalidInput("Some observations are invalid; nothing was recorded.", errors=errors)
    session.add_all(rows)
    session.flush()
    if session_id is None:
        for row in rows:
            audit_service.record(session, actor, "create", "observation", row.id)
    return rows


def _check(
    actor: Actor,
    item: ObservationCreate,
    measure: Measure | None,
    assessments: set[uuid.UUID],
    where: str,
) -> list[dict[str, str]]:
    if measure is None:
        field = "measure_id" if item.measure_id else "measure_code"
        return [field_error(f"{where}/{field}", "no such measure in your clinic's catalog")]
    if actor.is_patient and not measure.patient_reportable:
        raise Forbidden(f"Patients may not record {measure.name}; a clinician measures it.")
    errors = _value_errors(item, measure, where)
    if item.assessment_id and item.assessment_id not in assessments:
        errors.append(field_error(f"{where}/assessment_id", "no such assessment for this patient"))
    if item.observed_at > datetime.now(UTC) + CLOCK_SKEW:
        errors.append(field_error(f"{where}/observed_at", "is in the future"))
    return errors


def _value_errors(item: ObservationCreate, measure: Measure, where: str) -> list[dict[str, str]]:
    """The unit converts to the measure's; the value is a physical magnitude, whatever the
    measure's range (it may have none), so it stays finite in any unit; it is in that range."""
    unit = item.unit or measure.unit
    value = convert(item.value, unit, measure.unit)
    errors = []
    if value is None:
        errors.append(
            field_error(f"{where}/unit", f"{item.unit} cannot be converted to {measure.unit}")
        )
    if implausible := out_of_bounds(item.value, unit):
        errors.append(field_error(f"{where}/value", implausible))
    elif value is not None and not _in_range(value, measure):
        errors.append(
            field_error(f"{where}/value", f"outside {measure.name}'s range {_range(measure)}")
        )
    return errors


def _in_range(value: float, measure: Measure) -> bool:
    low_ok = measure.min_value is None or value >= measure.min_value
    high_ok = measure.max_value is None or value <= measure.max_value
    return low_ok and high_ok


def _range(measure: Measure) -> str:
    return f"{measure.min_value}-{measure.max_value} {measure.unit}"


def _build(
    actor: Actor,
    patient: Patient,
    item: ObservationCreate,
    measure: Measure,
    session_id: uuid.UUID | None = None,
) -> Observation:
    unit = item.unit or measure.unit
    value = convert(item.value, unit, measure.unit)
    assert value is not None
    source = (
        ObservationSource.patient
        if actor.is_patient
        else (item.source or ObservationSource.clinician)
    )
    return Observation(
        clinic_id=actor.clinic_id,
        patient_id=patient.id,
        measure_id=measure.id,
        value=value,
        recorded_value=item.value,
        recorded_unit=unit,
        side=item.side,
        observed_at=item.observed_at,
        source=source,
        assessment_id=item.assessment_id,
        session_id=session_id,
        recorded_by_type=actor.kind,
        recorded_by_id=actor.id,
    )


def mark_entered_in_error(
    session: Session, actor: Actor, observation: Observation, reason: str, expected_version: int
) -> Observation:
    check_version(observation.version, expected_version)
    if observation.entered_in_error_at is not None:
        raise Conflict("The observation is already marked as entered in error.")
    observation.entered_in_error_at = datetime.now(UTC)
    observation.entered_in_error_reason = reason
    session.flush()
    audit_service.record(session, actor, "entered_in_error", "observation", observation.id)
    return observation
