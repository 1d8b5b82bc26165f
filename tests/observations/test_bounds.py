"""A measure without a range (a clinic's own) still refuses values no measurement can have:
1.7e308 on one side and 1e-300 on the other made every limb symmetry index infinite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.types import Role
from app.measures.models import Measure, MeasureCategory
from app.observations.models import Observation
from app.rules.criteria import Better
from app.users.models import User
from tests.builders import auth_headers, make_patient, make_user

AT = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()


def unbounded_measure(session: Session, user: User, unit: str) -> Measure:
    """A clinic's own measure with no minimum or maximum, as a clinic may define one."""
    measure = Measure(
        clinic_id=user.clinic_id,
        code=f"reach_{uuid.uuid4().hex[:8]}",
        name="Reach",
        category=MeasureCategory.performance,
        unit=unit,
        better=Better.higher,
        bilateral=True,
        patient_reportable=True,
    )
    session.add(measure)
    session.flush()
    return measure


def _setup(session: Session, unit: str = "cm") -> tuple[str, dict[str, str], Measure]:
    clinician = make_user(session)
    patient = make_patient(session, clinic=session.get_one(Clinic, clinician.clinic_id))
    measure = unbounded_measure(session, clinician, unit)
    return f"/api/v1/patients/{patient.id}/observations", auth_headers(clinician), measure


def _obs(measure: Measure, value: float, **extra: Any) -> dict[str, Any]:
    return {"measure_id": str(measure.id), "value": value, "observed_at": AT, **extra}


def _stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Observation)) or 0


@pytest.mark.parametrize(
    ("value", "unit", "why"),
    [
        (1.7e308, None, "is beyond 10,000 m, the largest length a measurement has"),
        (-1.7e308, None, "is beyond 10,000 m, the largest length a measurement has"),
        (1e-300, None, "is below 1e-06 m, the smallest non-zero length a measurement has"),
        (5e-324, "mm", "is below 1e-06 m, the smallest non-zero length a measurement has"),
        (1_000_001, None, "is beyond 10,000 m, the largest length a measurement has"),
    ],
)
def test_a_value_no_measurement_can_have_is_422_naming_the_value(
    client: TestClient, session: Session, value: float, unit: str | None, why: str
) -> None:
    url, headers, measure = _setup(session)
    extra = {"unit": unit} if unit else {}

    response = client.post(url, json=_obs(measure, value, **extra), headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["pointer"] == "/value"
    assert error["detail"].startswith(why)
    assert _stored(session) == 0


def test_a_conversion_that_would_overflow_is_422_not_an_infinite_value(
    client: TestClient, session: Session
) -> None:
    url, headers, measure = _setup(session, unit="s")

    response = client.post(url, json=_obs(measure, 1.7e308, unit="min"), headers=headers)

    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert (error["pointer"], error["detail"]) == (
        "/value",
        "is beyond 604,800 s, the largest time a measurement has",
    )
    assert _stored(session) == 0


def test_a_batch_names_each_refused_item_and_records_nothing(
    client: TestClient, session: Session
) -> None:
    url, headers, measure = _setup(session)
    batch = {
        "observations": [
            _obs(measure, 150, side="right"),
            _obs(measure, 1.7e308, side="left"),
            _obs(measure, 1e-300, side="right"),
        ]
    }

    response = client.post(f"{url}/batch", json=batch, headers=headers)

    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == [
        "/observations/1/value",
        "/observations/2/value",
    ]
    assert _stored(session) == 0


@pytest.mark.parametrize(
    ("value", "unit"), [(0, None), (-30, None), (10_000, "m"), (150.5, None), (0.001, "mm")]
)
def test_a_physical_value_on_a_measure_without_range_is_recorded(
    client: TestClient, session: Session, value: float, unit: str | None
) -> None:
    url, headers, measure = _setup(session)
    extra = {"unit": unit} if unit else {}

    response = client.post(url, json=_obs(measure, value, **extra), headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["recorded_value"] == value


def test_a_unit_the_table_does_not_know_has_a_loose_bound(
    client: TestClient, session: Session
) -> None:
    url, headers, measure = _setup(session, unit="mm[Hg]")

    kept = client.post(url, json=_obs(measure, 120), headers=headers)
    refused = client.post(url, json=_obs(measure, 1e300), headers=headers)

    assert kept.status_code == 201, kept.text
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/value"


def test_a_patient_meets_the_same_bound(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    clinic = session.get_one(Clinic, clinician.clinic_id)
    patient = make_patient(session, clinic=clinic)
    patient_user = make_user(session, clinic=clinic, role=Role.patient, patient=patient)
    measure = unbounded_measure(session, clinician, "cm")
    url = f"/api/v1/patients/{patient.id}/observations"

    response = client.post(url, json=_obs(measure, 1.7e308), headers=auth_headers(patient_user))

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/value"
