from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.assessments import service as assessments_service
from app.assessments.models import Assessment
from app.core.auth import CurrentActor, SessionDep


async def assessment_or_404(
    assessment_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Assessment:
    return assessments_service.get(session, actor, assessment_id)


AssessmentDep = Annotated[Assessment, Depends(assessment_or_404)]
