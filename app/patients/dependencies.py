from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.auth import CurrentActor, SessionDep
from app.patients import service as patients_service
from app.patients.models import Patient


async def patient_or_404(
    patient_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Patient:
    return patients_service.get(session, actor, patient_id)


PatientDep = Annotated[Patient, Depends(patient_or_404)]
