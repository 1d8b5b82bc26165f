from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool

from app.auth import service as auth_service
from app.auth.schemas import MeRead, TokenRead
from app.auth.security import issue_token, verify_password
from app.core.auth import CurrentActor, ReadSessionDep, SessionDep
from app.core.config import get_settings
from app.core.errors import Unauthorized
from app.core.openapi import AUTH_RESPONSES, problem_responses

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenRead, responses=problem_responses(401, 422))
async def issue_access_token(
    session: ReadSessionDep,
    username: Annotated[str, Form(max_length=320, description="The user's email.")],
    password: Annotated[str, Form(max_length=1024)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,  # noqa: ARG001
) -> TokenRead:
    """Exchange an email and password for a bearer token (OAuth2 password grant)."""
    # A read session holds no lock, so awaiting the argon2 check in the threadpool is safe.
    login = auth_service.find_login(session, username)
    ok = await run_in_threadpool(verify_password, password, login.password_hash if login else None)
    if login is None or not ok or not login.is_active:
        raise Unauthorized("The email or password is wrong.")
    token, lifetime = issue_token(get_settings(), login.user_id, login.clinic_id)
    return TokenRead(access_token=token, expires_in=lifetime)


@router.get("/me", response_model=MeRead, responses=AUTH_RESPONSES)
async def read_me(session: SessionDep, actor: CurrentActor) -> MeRead:
    """Who the credentials belong to."""
    return auth_service.describe(session, actor)
