"""Serve stored objects behind signed, expiring URLs (no API key: the signature is the grant)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from tryon.context import AppContext
from tryon.deps import get_context
from tryon.errors import ApiError
from tryon.storage import deletions

router = APIRouter()


def served_object(context: AppContext, key: str) -> bytes | None:
    """The bytes a valid signed URL of ``key`` gets: None when the object is gone, or due for
    deletion (erased or deleted data whose bytes the store has not let go of yet)."""
    with context.sessions() as session:
        if deletions.is_pending(session, key):
            return None
    return context.blobs.get(key)


# HEAD too: link checkers and some image loaders ask before they fetch.
@router.api_route("/files/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
def get_file(
    key: str,
    request: Request,
    expires: int = Query(0),
    signature: str = Query("", max_length=100),
) -> Response:
    context = get_context(request)
    now = int(context.clock.now().timestamp())
    if not context.signer.verify(key, expires, signature, now):
        raise ApiError("NOT_FOUND", "This link is invalid or has expired.")
    data = served_object(context, key)
    if data is None:
        raise ApiError("NOT_FOUND", "This link is invalid or has expired.")
    return Response(
        content=data,
        media_type="image/png" if key.endswith(".png") else "image/jpeg",
        headers={
            # Personal images: no cache keeps them, shared (proxies, CDNs) or the browser's own,
            # so an erased photo is not shown again from a cache after the erasure.
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
