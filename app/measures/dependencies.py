from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.auth import CurrentActor, SessionDep
from app.measures import service as measures_service
from app.measures.models import Measure


async def measure_or_404(
    measure_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Measure:
    return measures_service.get(session, actor, measure_id)


MeasureDep = Annotated[Measure, Depends(measure_or_404)]
