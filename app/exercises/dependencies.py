from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.auth import CurrentActor, SessionDep
from app.exercises import service as exercises_service
from app.exercises.models import Exercise


async def exercise_or_404(
    exercise_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Exercise:
    return exercises_service.get(session, actor, exercise_id)


ExerciseDep = Annotated[Exercise, Depends(exercise_or_404)]
