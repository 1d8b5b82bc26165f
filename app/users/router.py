from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool

from app.auth.security import hash_password
from app.core.auth import AdminActor, SessionDep
from app.core.concurrency import IfMatch, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.core.types import Role
from app.users import service as users_service
from app.users.dependencies import AdminBeforeWrite, IdempotencyBeforeWrite, UserDep
from app.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=Page[UserRead], responses=READ_RESPONSES)
async def list_users(
    session: SessionDep,
    actor: AdminActor,
    page: PageDep,
    role: Role | None = None,
    is_active: bool | None = None,
) -> Page[UserRead]:
    """List the clinic's users."""
    items, next_cursor = users_service.search(session, actor, page, role=role, is_active=is_active)
    return Page(items=[UserRead.model_validate(u) for u in items], next_cursor=next_cursor)


@router.post(
    "", response_model=UserRead, status_code=status.HTTP_201_CREATED, responses=CREATE_RESPONSES
)
async def create_user(
    session: SessionDep,
    actor: AdminBeforeWrite,
    data: UserCreate,
    idempotency: IdempotencyBeforeWrite,
) -> Response:
    """Create a user in the clinic."""
    # argon2 takes ~50 ms: hash in the threadpool before the write transaction begins, which
    # the key's claim opens (so a replay, rare, costs one wasted hash).
    password_hash = await run_in_threadpool(hash_password, data.password)
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    user = users_service.create(session, actor, data, password_hash)
    location = f"/api/v1/users/{user.id}"
    return idempotency.created(UserRead.model_validate(user), location, user.version)


@router.get("/{user_id}", response_model=UserRead, responses=READ_RESPONSES)
async def read_user(user: UserDep, response: Response) -> UserRead:
    """Read one user."""
    set_etag(response, user.version)
    return UserRead.model_validate(user)


@router.patch("/{user_id}", response_model=UserRead, responses=WRITE_RESPONSES)
async def update_user(
    session: SessionDep,
    actor: AdminActor,
    user: UserDep,
    data: UserUpdate,
    version: IfMatch,
    response: Response,
) -> UserRead:
    """Change a user's role, active flag or display name."""
    user = users_service.update(session, actor, user, data, version)
    set_etag(response, user.version)
    return UserRead.model_validate(user)
