"""ETags and If-Match: two clinicians editing at once never silently overwrite each other."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response

from app.core.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


async def if_match_version(
    if_match: Annotated[
        str | None,
        Header(description="The ETag of the version being changed, from a previous read."),
    ] = None,
) -> int:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired("This write needs an If-Match header with the record's ETag.")
    tag = if_match.strip()
    if tag.startswith("W/"):
        raise PreconditionFailed("If-Match needs a strong ETag.")
    try:
        return int(tag.strip('"'))
    except ValueError as exc:
        raise PreconditionFailed(f"If-Match {tag} matches no version of this record.") from exc


IfMatch = Annotated[int, Depends(if_match_version)]


def check_version(current: int, expected: int) -> None:
    if current != expected:
        raise PreconditionFailed(
            f"The record is at version {current}, not {expected}; read it again.",
            current_etag=etag(current),
        )
