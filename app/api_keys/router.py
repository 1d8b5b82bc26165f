from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api_keys import service as api_keys_service
from app.api_keys.dependencies import ApiKeyDep
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.core.auth import AdminActor, SessionDep
from app.core.concurrency import IfMatch, etag, set_etag
from app.core.openapi import CREATE_RESPONSES, READ_RESPONSES, WRITE_RESPONSES
from app.core.pagination import PageDep
from app.core.schemas import Page
from app.idempotency.dependencies import IdempotencyDep

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get("", response_model=Page[ApiKeyRead], responses=READ_RESPONSES)
async def list_api_keys(
    session: SessionDep, actor: AdminActor, page: PageDep, include_revoked: bool = False
) -> Page[ApiKeyRead]:
    """List the clinic's integration keys (never their secrets)."""
    items, next_cursor = api_keys_service.search(
        session, actor, page, include_revoked=include_revoked
    )
    return Page(items=[ApiKeyRead.model_validate(k) for k in items], next_cursor=next_cursor)


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_RESPONSES,
)
async def create_api_key(
    session: SessionDep, actor: AdminActor, data: ApiKeyCreate, idempotency: IdempotencyDep
) -> Response:
    """Issue an integration key; the response shows its secret this once."""
    if (replayed := idempotency.replay(data)) is not None:
        return replayed
    key, secret = api_keys_service.create(session, actor, data)
    created = ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), secret=secret)
    headers = {
        "Location": f"/api/v1/api-keys/{key.id}",
        "ETag": etag(key.version),
        "Cache-Control": "no-store",
    }
    # A replay answers `secret: null`: the stored answer would otherwise keep the secret in
    # the database in clear for the retention, where only its hash may be. The retrying client
    # revokes the key at Location (If-Match: the ETag) and issues another with a new key.
    return idempotency.respond(status.HTTP_201_CREATED, created, headers, withheld=("secret",))


@router.get("/{api_key_id}", response_model=ApiKeyRead, responses=READ_RESPONSES)
async def read_api_key(key: ApiKeyDep, response: Response) -> ApiKeyRead:
    """Read one integration key (never its secret)."""
    set_etag(response, key.version)
    return ApiKeyRead.model_validate(key)


@router.delete("/{api_key_id}", response_model=ApiKeyRead, responses=WRITE_RESPONSES)
async def revoke_api_key(
    session: SessionDep, actor: AdminActor, key: ApiKeyDep, version: IfMatch, response: Response
) -> ApiKeyRead:
    """Revoke an integration key: it stops authenticating at once."""
    key = api_keys_service.revoke(session, actor, key, version)
    set_etag(response, key.version)
    return ApiKeyRead.model_validate(key)
