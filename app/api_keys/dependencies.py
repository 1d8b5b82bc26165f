from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.api_keys import service as api_keys_service
from app.api_keys.models import ApiKey
from app.core.auth import AdminActor, SessionDep


async def api_key_or_404(api_key_id: uuid.UUID, session: SessionDep, actor: AdminActor) -> ApiKey:
    return api_keys_service.get(session, actor, api_key_id)


ApiKeyDep = Annotated[ApiKey, Depends(api_key_or_404)]
