from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool

from app.auth import rate_limit
from app.auth import service as auth_service
from app.auth.schemas import MeRead, TokenRead
from app.auth.security import issue_token, verify_password
from app.core.auth import CurrentActor, ReadSessionDep, SessionDep
from app.core.config import get_settings
from app.core.errors import Unauthorized
from app.core.openapi import AUTH_RESPONSES, problem_responses
from app.core.types import NoNul

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token", response_model=TokenRead, responses=problem_responses(400, 401, 422, 429)
)
async def issue_access_token(
    request: Request,
    session: ReadSessionDep,
    write_session: SessionDep,
    username: Annotated[str, Form(max_length=320, description="The user's email."), NoNul],
    password: Annotated[str, Form(max_length=1024)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,  # noqa: ARG001
) -> TokenRead:
    """Exchange an email and password for a bearer token (OAuth2 password grant).

    After too many failed attempts for the email or from the client's address, answers 429
    with Retry-After until the window ends, without checking the password.
    """
    settings = get_settings()
    attempt = rate_limit.LoginAttempt.of(username, request.client.host if request.client else None)
    has_failures = rate_limit.check(session, attempt)
    login = auth_service.find_login(session, username)
    # Nothing is open across the argon2 check in the threadpool: the read transaction ends
    # here (its connection goes back to the pool, so a burst of logins cannot exhaust it),
    # and the write session begins only at its first statement, after the await.
    session.commit()
    ok = await run_in_threadpool(verify_password, password, login.password_hash if login else None)
    if login is None or not ok or not login.is_active:
        rate_limit.record_failure(write_session, attempt, settings)
        raise Unauthorized("The email or password is wrong.")
    if has_failures:
        rate_limit.record_success(write_session, attempt)
    token, lifetime = issue_token(settings, login.user_id, login.clinic_id)
    return TokenRead(access_token=token, expires_in=lifetime)


@router.get("/me", response_model=MeRead, responses=AUTH_RESPONSES)
async def read_me(session: SessionDep, actor: CurrentActor) -> MeRead:
    """Who the credentials belong to."""
    return auth_service.describe(session, actor)
