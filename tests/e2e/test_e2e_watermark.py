"""The account's logo on results, unless the call turns it off."""

from __future__ import annotations

import io

import numpy as np
from e2e_helpers import accepted, decode, fetch_jpeg, make_jpeg, post_multipart, upload, wait_for
from PIL import Image

from tryon.accounts import service as accounts_service
from tryon.db import transaction
from tryon.storage import keys

GARMENT = make_jpeg(200, 240, seed=72)


def set_logo(context, account_id: str) -> None:  # type: ignore[no-untyped-def]
    logo = Image.new("RGBA", (120, 60), (255, 0, 0, 255))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    key = keys.logo_key(account_id)
    context.blobs.put(key, buffer.getvalue())
    with transaction(context.sessions) as session:
        accounts_service.set_logo(session, account_id, key)


def result_pixels(client, image_id: str, **document_extra) -> np.ndarray:  # type: ignore[no-untyped-def]
    document = {
        "product": {"title": "Shirt", "images": [{"fileKey": "garment"}]},
        "customer": {"id": image_id},
        **document_extra,
    }
    response = post_multipart(client, "/try-on", document, {"garment": GARMENT})
    generation = wait_for(client, accepted(response))
    assert generation["status"] == "COMPLETED"
    image = decode(fetch_jpeg(generation["resultImageUrl"]))
    assert image.size == (400, 500)
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def corner_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean absolute difference in the bottom-right corner and in the top-left corner."""
    bottom_right = np.abs(a[-90:, -110:] - b[-90:, -110:]).mean()
    top_left = np.abs(a[:150, :150] - b[:150, :150]).mean()
    return float(bottom_right), float(top_left)


def test_results_carry_the_logo_unless_turned_off(shop, context) -> None:
    set_logo(context, shop.account_id)
    image_id = upload(shop.live, make_jpeg(400, 500, seed=71))["imageId"]
    marked = result_pixels(shop.live, image_id)
    plain = result_pixels(shop.live, image_id, useWatermark=False)
    corner, elsewhere = corner_difference(marked, plain)
    assert corner > 20, corner
    assert elsewhere < 1, elsewhere
    # The logo is red: where it sits (18 % of the width, 3 % margin), green drops.
    logo_box = (slice(455, 485), slice(320, 385))
    assert marked[logo_box][..., 1].mean() < plain[logo_box][..., 1].mean() - 40
    # The 1.3/1.4 spelling does the same.
    new_shape_plain = result_pixels(shop.live, image_id, output={"watermark": False})
    assert corner_difference(new_shape_plain, plain)[0] < 1
    explicit = result_pixels(shop.live, image_id, useWatermark=True)
    assert corner_difference(explicit, marked)[0] < 1


def test_without_a_logo_the_watermark_is_a_no_op(shop) -> None:
    image_id = upload(shop.live, make_jpeg(400, 500, seed=71))["imageId"]
    default = result_pixels(shop.live, image_id)
    plain = result_pixels(shop.live, image_id, useWatermark=False)
    assert corner_difference(default, plain) == (0.0, 0.0)


def test_the_logo_is_per_account(make_shop, context) -> None:
    branded, other = make_shop(), make_shop()
    set_logo(context, branded.account_id)
    image_id = upload(other.live, make_jpeg(400, 500, seed=71))["imageId"]
    default = result_pixels(other.live, image_id)
    plain = result_pixels(other.live, image_id, useWatermark=False)
    assert corner_difference(default, plain)[0] == 0.0
