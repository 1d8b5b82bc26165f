from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.auth import CurrentActor, SessionDep
from app.observations import service as observations_service
from app.observations.models import Observation


async def observation_or_404(
    observation_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Observation:
    return observations_service.get(session, actor, observation_id)


ObservationDep = Annotated[Observation, Depends(observation_or_404)]
