"""Retention: moving the clock expires images, generations and products exactly on time; the
sweeper then removes the bytes. Expired data answers exactly like data that never existed."""

from __future__ import annotations

from typing import Any

from e2e_helpers import (
    accepted,
    assert_error,
    blob_files,
    fetch,
    fetch_jpeg,
    make_jpeg,
    post_multipart,
    start_try_on,
    upload,
    wait_for,
)

from tryon.retention.service import sweep

PERSON = make_jpeg(seed=51)
GARMENT = make_jpeg(200, 240, seed=52)


def try_on_with_file(client, product: dict[str, Any], **extra: Any):  # type: ignore[no-untyped-def]
    """A try-on whose person photo is a fresh multipart part (never expired)."""
    document = {"product": product, "customer": {"fileKey": "me"}, **extra}
    return post_multipart(client, "/try-on", document, {"me": PERSON, "garment": GARMENT})


def use_product(client, external_id: str) -> None:  # type: ignore[no-untyped-def]
    response = try_on_with_file(client, {"externalId": external_id})
    assert wait_for(client, accepted(response))["status"] == "COMPLETED"


def test_uploaded_image_expires_after_its_retention(shop, context, blob_root) -> None:
    image = upload(shop.live, PERSON, retentionDays="1")
    stored = fetch_jpeg(image["imageUrl"])
    key = next(k for k in blob_files(blob_root) if "/customer-images/" in k)
    context.clock.advance(hours=23, minutes=59)
    # A try-on just before the end: without its own retention, it goes with the photo.
    late = wait_for(shop.live, accepted(start_try_on(shop.live, image["imageId"])))
    context.clock.advance(minutes=1, seconds=1)
    # Expired before any sweep: unusable and unreadable.
    assert_error(start_try_on(shop.live, image["imageId"]), 404, "IMAGE_NOT_FOUND")
    assert fetch(image["imageUrl"]).status_code == 404
    response = shop.live.get(f"/generations/{late['generationId']}")
    assert_error(response, 404, "GENERATION_NOT_FOUND")
    assert fetch(late["resultImageUrl"]).status_code == 404
    assert key in blob_files(blob_root)
    counts = sweep(context)
    assert counts["customer_images"] == 1
    files = blob_files(blob_root)
    assert key not in files
    assert all(stored not in data for data in files.values())


def test_keep_for_days_alias_and_the_account_default(make_shop, context) -> None:
    shop = make_shop(retention_days=3)
    three = upload(shop.live, PERSON, keepForDays="3")
    default = upload(shop.live, PERSON)  # the account's default: 3 days
    seven = upload(shop.live, PERSON, retentionDays="7")
    context.clock.advance(days=3, seconds=1)
    for image in (three, default):
        assert_error(start_try_on(shop.live, image["imageId"]), 404, "IMAGE_NOT_FOUND")
    assert start_try_on(shop.live, seven["imageId"]).status_code == 200
    context.clock.advance(days=4)
    assert_error(start_try_on(shop.live, seven["imageId"]), 404, "IMAGE_NOT_FOUND")


def test_generation_expires_with_its_retention(shop, context, blob_root) -> None:
    response = try_on_with_file(
        shop.live, {"title": "T", "images": [{"fileKey": "garment"}]}, retentionDays=1
    )
    generation = wait_for(shop.live, accepted(response))
    result = fetch_jpeg(generation["resultImageUrl"])
    generation_id = generation["generationId"]
    context.clock.advance(days=1, seconds=1)
    assert_error(shop.live.get(f"/generations/{generation_id}"), 404, "GENERATION_NOT_FOUND")
    assert fetch(generation["resultImageUrl"]).status_code == 404
    assert sweep(context)["generations"] == 1
    files = blob_files(blob_root)
    assert not [k for k in files if f"/generations/{generation_id}/" in k]
    assert all(result not in data for data in files.values())


def test_generation_follows_the_image_retention_then_the_account_default(
    make_shop, context
) -> None:
    shop = make_shop(retention_days=7)
    image = upload(shop.live, PERSON, retentionDays="3")
    from_image = wait_for(shop.live, accepted(start_try_on(shop.live, image["imageId"])))
    overridden = wait_for(
        shop.live, accepted(start_try_on(shop.live, image["imageId"], retentionDays=1))
    )
    # Asking for longer than the photo has left does not keep what was made from it.
    longer = wait_for(
        shop.live, accepted(start_try_on(shop.live, image["imageId"], retentionDays=7))
    )
    new_shape = wait_for(
        shop.live,
        accepted(
            post_multipart(
                shop.live,
                "/try-on",
                {
                    "products": [{"images": [{"fileKey": "garment"}]}],
                    "person": {"image": {"source": {"fileKey": "me"}}},
                    "output": {"keepForDays": 1},
                },
                {"me": PERSON, "garment": GARMENT},
            )
        ),
    )
    default = wait_for(
        shop.live,
        accepted(try_on_with_file(shop.live, {"images": [{"fileKey": "garment"}]})),
    )

    def visible(generation: dict[str, Any]) -> bool:
        response = shop.live.get(f"/generations/{generation['generationId']}")
        return response.status_code == 200

    context.clock.advance(days=1, seconds=1)
    assert not visible(overridden) and not visible(new_shape)
    assert visible(from_image) and visible(longer) and visible(default)
    context.clock.advance(days=2)
    assert not visible(from_image) and not visible(longer) and visible(default)
    context.clock.advance(days=4)
    assert not visible(default)


def test_one_shot_product_lives_7_days_from_last_use(shop, context) -> None:
    response = try_on_with_file(shop.live, {"title": "Once", "images": [{"fileKey": "garment"}]})
    anon = response.json()["productExternalId"]
    wait_for(shop.live, accepted(response))
    context.clock.advance(days=6)
    use_product(shop.live, anon)  # a use restarts the 7 days
    context.clock.advance(days=6, hours=23)
    assert shop.live.get(f"/products/{anon}").status_code == 200
    context.clock.advance(hours=1, seconds=1)
    assert_error(shop.live.get(f"/products/{anon}"), 404, "PRODUCT_NOT_FOUND")
    assert_error(try_on_with_file(shop.live, {"externalId": anon}), 404, "PRODUCT_NOT_FOUND")
    assert sweep(context)["products"] == 1


def test_inline_product_lives_15_days_from_last_use(shop, context, image_server) -> None:
    url = image_server.add("/g.jpg", GARMENT)
    product = {"externalId": "inline-1", "title": "Inline", "imageUrls": [url]}
    wait_for(shop.live, accepted(try_on_with_file(shop.live, product)))
    created = shop.live.get("/products/inline-1").json()
    assert created["validForDays"] == 15 and created["expiresAt"] is not None
    context.clock.advance(days=14)
    use_product(shop.live, "inline-1")
    used = shop.live.get("/products/inline-1").json()
    assert used["lastUsedAt"] > created["lastUsedAt"]
    assert used["expiresAt"] > created["expiresAt"]
    context.clock.advance(days=14, hours=23)
    listed = shop.live.get("/products").json()["items"]
    assert [p["externalId"] for p in listed] == ["inline-1"]
    context.clock.advance(hours=1, seconds=1)
    assert_error(shop.live.get("/products/inline-1"), 404, "PRODUCT_NOT_FOUND")
    assert shop.live.get("/products").json()["count"] == 0
    # An upsert after expiry starts afresh (PRODUCT_IMAGES_REQUIRED without images).
    response = shop.live.post("/products", json={"externalId": "inline-1", "title": "again"})
    assert_error(response, 400, "PRODUCT_IMAGES_REQUIRED")


def test_stored_product_valid_for_days_and_forever(shop, context, blob_root) -> None:
    document = {"externalId": "short", "validForDays": 2, "images": [{"fileKey": "front"}]}
    response = post_multipart(shop.live, "/products", document, {"front": GARMENT})
    assert response.status_code == 200
    assert (
        shop.live.post(
            "/products", json={"externalId": "forever", "imageUrls": ["https://x.example/a.jpg"]}
        ).json()["expiresAt"]
        is None
    )
    context.clock.advance(days=1, hours=23)
    use_product(shop.live, "short")  # a use restarts the lifetime
    context.clock.advance(days=1, hours=23)
    assert shop.live.get("/products/short").status_code == 200
    context.clock.advance(hours=1, seconds=1)
    assert_error(shop.live.get("/products/short"), 404, "PRODUCT_NOT_FOUND")
    assert [k for k in blob_files(blob_root) if "/product-images/" in k]
    assert sweep(context)["products"] == 1
    assert not [k for k in blob_files(blob_root) if "/product-images/" in k]
    context.clock.advance(days=400)
    assert shop.live.get("/products/forever").status_code == 200


def test_signed_urls_expire_after_their_ttl(shop, context) -> None:
    image = upload(shop.live, PERSON)
    context.clock.advance(seconds=context.settings.signed_url_ttl_seconds - 5)
    fetch_jpeg(image["imageUrl"])
    context.clock.advance(seconds=10)
    assert fetch(image["imageUrl"]).status_code == 404
    # The image itself is still there: a fresh try-on works and gives fresh URLs.
    generation = wait_for(shop.live, accepted(start_try_on(shop.live, image["imageId"])))
    fetch_jpeg(generation["resultImageUrl"])
