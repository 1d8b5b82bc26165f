from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.auth import CurrentActor, SessionDep
from app.sessions import service as sessions_service
from app.sessions.models import TreatmentSession


async def treatment_session_or_404(
    session_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> TreatmentSession:
    return sessions_service.get(session, actor, session_id)


TreatmentSessionDep = Annotated[TreatmentSession, Depends(treatment_session_or_404)]
