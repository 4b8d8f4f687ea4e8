"""Bodies built to hurt: nesting deep enough to overflow a recursive walk, oversized metadata,
and the merchant's own ids with slashes in them (``gid://shop/Product/1``)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from e2e_helpers import assert_error, sample_bytes, upload

from tryon.wire import MAX_JSON_DEPTH


def nested(depth: int) -> object:
    """``depth`` levels of lists: [[[...]]]."""
    value: object = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [40, 600, 5000])
def test_deeply_nested_bodies_are_validation_failed_on_every_json_endpoint(shop, depth) -> None:  # type: ignore[no-untyped-def]
    # Built as text: json.dumps itself cannot write 5000 levels.
    deep = "[" * depth + "]" * depth
    try_on = json.dumps({"customerId": "shopper-1", "x": "DEEP"})
    product = json.dumps(
        {"externalId": "deep", "images": [{"url": "https://a.example/a.jpg"}], "metadata": "DEEP"}
    )
    bodies = {
        "/try-on": try_on.replace('"DEEP"', deep),
        "/try-on/sync": try_on.replace('"DEEP"', deep),
        "/products": product.replace('"DEEP"', deep),
    }
    for path, body in bodies.items():
        response = shop.live.post(path, content=body, headers={"content-type": "application/json"})
        body_of = assert_error(response, 400, "VALIDATION_FAILED")
        assert body_of["details"][0]["path"].split(".")[0] in ("body", "x", "metadata"), body_of
        # The connection is still good for the next request (nothing escaped to the server).
        assert shop.live.get("/account/credits").status_code == 200
    # Nothing was stored: the product listing still works and is empty.
    listing = shop.live.get("/products")
    assert listing.status_code == 200 and listing.json()["items"] == []


def test_nesting_up_to_the_limit_is_kept_and_read_back(shop) -> None:  # type: ignore[no-untyped-def]
    # The body is {"metadata": ...}: metadata may nest MAX_JSON_DEPTH - 1 levels.
    metadata = {"m": nested(MAX_JSON_DEPTH - 2)}
    document = {
        "externalId": "nested-ok",
        "images": [{"url": "https://shop.example/a.jpg"}],
        "metadata": metadata,
    }
    created = shop.live.post("/products", json=document)
    assert created.status_code == 200, created.text
    assert shop.live.get("/products/nested-ok").json()["metadata"] == metadata
    document["metadata"] = {"m": nested(MAX_JSON_DEPTH - 1)}
    too_deep = shop.live.post("/products", json=document)
    assert_error(too_deep, 400, "VALIDATION_FAILED")
    assert too_deep.json()["details"][0]["path"].startswith("metadata.m.")


def test_metadata_over_16_kib_is_refused(shop) -> None:  # type: ignore[no-untyped-def]
    document = {
        "externalId": "big-metadata",
        "images": [{"url": "https://shop.example/a.jpg"}],
        "metadata": {"notes": "x" * (16 * 1024)},
    }
    assert_error(
        shop.live.post("/products", json=document), 400, "VALIDATION_FAILED", paths=["metadata"]
    )
    document["metadata"] = {"notes": "x" * (15 * 1024)}
    assert shop.live.post("/products", json=document).status_code == 200


def test_product_ids_with_slashes_can_be_read_and_deleted(shop) -> None:  # type: ignore[no-untyped-def]
    external_id = "gid://shopify/Product/8123"
    document = {"externalId": external_id, "images": [{"url": "https://shop.example/a.jpg"}]}
    assert shop.live.post("/products", json=document).status_code == 200
    for path in (f"/products/{quote(external_id, safe='')}", f"/products/{external_id}"):
        got = shop.live.get(path)
        assert got.status_code == 200, (path, got.text)
        assert got.json()["externalId"] == external_id
    assert shop.live.delete(f"/products/{quote(external_id, safe='')}").status_code == 204
    assert_error(
        shop.live.get(f"/products/{quote(external_id, safe='')}"), 404, "PRODUCT_NOT_FOUND"
    )


def test_a_customer_id_with_slashes_can_be_erased(shop) -> None:  # type: ignore[no-untyped-def]
    customer_id = "gid://shopify/Customer/42"
    image = upload(
        shop.live, sample_bytes("people", "1_posture.jpg"), customerId=customer_id, crop="false"
    )
    held = shop.live.get(f"/customers/{quote(customer_id, safe='')}")
    assert held.status_code == 200, held.text
    assert shop.live.delete(f"/customers/{quote(customer_id, safe='')}").status_code == 204
    assert_error(
        shop.live.get(f"/customers/{quote(customer_id, safe='')}"), 404, "CUSTOMER_NOT_FOUND"
    )
    receipts = shop.live.get(f"/customers/{quote(customer_id, safe='')}/erasures")
    assert receipts.status_code == 200 and receipts.json()["count"] == 1
    assert_error(
        shop.live.post(
            "/try-on",
            json={
                "product": {"title": "Tee", "imageUrls": ["https://shop.example/t.jpg"]},
                "customer": {"id": image["imageId"]},
            },
        ),
        404,
        "IMAGE_NOT_FOUND",
    )
