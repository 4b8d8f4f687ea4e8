"""``POST /images/upload``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tryon.accounts.service import Caller
from tryon.deps import get_caller, get_context, public_base_url
from tryon.errors import ApiError, validation_error
from tryon.images import service as images_service
from tryon.openapi_bodies import UPLOAD_BODY
from tryon.storage.urls import signed_url
from tryon.wire import checked_identifier, form_bool, optional_retention, read_upload

router = APIRouter()


@router.post("/images/upload", summary="Upload a customer photo", openapi_extra=UPLOAD_BODY)
async def upload_image(request: Request, caller: Caller = Depends(get_caller)) -> dict[str, str]:
    context = get_context(request)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ApiError("FILE_REQUIRED", "Send the photo as multipart/form-data in a 'file' part.")
    try:
        form = await request.form(max_files=5, max_fields=20)
    except ApiError:
        raise
    except Exception as exc:
        raise validation_error("body", "the multipart body could not be parsed") from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError("FILE_REQUIRED", "The multipart body has no 'file' part.")
    data = await read_upload(upload, context.settings.max_upload_bytes)
    crop = form_bool(_text(form.get("crop")), "crop", default=True)
    # Errors name the field the client sent: the alias when the value came from it.
    customer_field = "customerId" if form.get("customerId") is not None else "externalUserId"
    customer_id = _text(form.get(customer_field))
    # Sent but empty is refused like on /try-on: silently storing the photo unlinked would
    # put it out of reach of that customer's erasure.
    if customer_id is not None:
        checked_identifier(customer_id, customer_field)
    alias = _text(form.get("externalUserId"))
    if customer_field == "customerId" and alias and alias != customer_id:
        raise validation_error("externalUserId", "differs from customerId")
    retention_days = optional_retention(_text(form.get("retentionDays")), "retentionDays")
    keep_for_days = optional_retention(_text(form.get("keepForDays")), "keepForDays")
    if retention_days is not None and keep_for_days is not None and retention_days != keep_for_days:
        raise validation_error("keepForDays", "differs from retentionDays")
    retention_days = retention_days or keep_for_days
    image = await run_in_threadpool(
        images_service.upload_customer_image,
        context,
        caller,
        data,
        crop=crop,
        customer_id=customer_id,
        retention_days=retention_days,
    )
    url = signed_url(context, public_base_url(request), image.storage_key, image.expires_at)
    return {"imageId": image.id, "imageUrl": url}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, UploadFile):
        raise validation_error(getattr(value, "filename", None) or "field", "must be a text field")
    return str(value)
