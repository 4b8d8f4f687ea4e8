"""Products: upsert (create, partial update), list with a cursor, get, delete, validation."""

from __future__ import annotations

import re
from typing import Any

from e2e_helpers import (
    ISO_MS_Z,
    accepted,
    assert_error,
    blob_files,
    check_each,
    fetch_jpeg,
    make_jpeg,
    post_multipart,
    upload,
    wait_for,
)

URL_A = "https://shop.example/a.jpg"
URL_B = "https://shop.example/b.jpg"
PRODUCT_FIELDS = {
    "externalId",
    "title",
    "description",
    "images",
    "metadata",
    "validForDays",
    "lastUsedAt",
    "expiresAt",
    "createdAt",
    "updatedAt",
}


def upsert(client, **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.post("/products", json=fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    return body


def test_create_returns_the_product_object(shop) -> None:
    body = upsert(
        shop.live,
        externalId="sku-1",
        title="Blue shirt",
        description="Cotton",
        images=[{"url": URL_A}, {"url": URL_B}],
        metadata={"color": "blue", "sizes": [1, 2], "nested": {"x": None}},
    )
    assert body["externalId"] == "sku-1"
    assert body["title"] == "Blue shirt" and body["description"] == "Cotton"
    assert body["images"] == [{"sourceUrl": URL_A, "order": 0}, {"sourceUrl": URL_B, "order": 1}]
    assert body["metadata"] == {"color": "blue", "sizes": [1, 2], "nested": {"x": None}}
    assert body["validForDays"] is None and body["expiresAt"] is None
    for name in ("createdAt", "updatedAt"):
        assert re.match(ISO_MS_Z, body[name])
    assert shop.live.get("/products/sku-1").json() == body


def test_image_urls_alias_and_source_entries(shop) -> None:
    body = upsert(shop.live, externalId="sku-2", imageUrls=[URL_A])
    assert body["images"] == [{"sourceUrl": URL_A, "order": 0}]
    body = upsert(shop.live, externalId="sku-3", images=[{"source": {"url": URL_B}}])
    assert body["images"] == [{"sourceUrl": URL_B, "order": 0}]


def test_partial_update_keeps_omitted_fields(shop, context) -> None:
    created = upsert(
        shop.live,
        externalId="sku-1",
        title="Old title",
        description="Keep me",
        images=[{"url": URL_A}],
        metadata={"a": 1},
        validForDays=30,
    )
    context.clock.advance(seconds=5)
    updated = upsert(shop.live, externalId="sku-1", title="New title")
    assert updated["title"] == "New title"
    assert updated["description"] == "Keep me"
    assert updated["images"] == created["images"]
    assert updated["metadata"] == {"a": 1}
    assert updated["validForDays"] == 30
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] > created["updatedAt"]
    # Images replace the list; null clears a field; validForDays null means forever.
    updated = upsert(
        shop.live, externalId="sku-1", images=[{"url": URL_B}], description=None, validForDays=None
    )
    assert updated["images"] == [{"sourceUrl": URL_B, "order": 0}]
    assert updated["description"] is None and updated["title"] == "New title"
    assert updated["validForDays"] is None and updated["expiresAt"] is None


def test_multipart_product_with_uploaded_images(shop, blob_root) -> None:
    document = {"externalId": "sku-mp", "title": "Uploaded", "images": [{"fileKey": "front"}]}
    response = post_multipart(shop.live, "/products", document, {"front": make_jpeg(seed=11)})
    assert response.status_code == 200, response.text
    images = response.json()["images"]
    assert len(images) == 1 and images[0]["sourceUrl"].startswith("upload://")
    stored = [k for k in blob_files(blob_root) if "/product-images/" in k]
    assert len(stored) == 1
    # Replacing the images deletes the stored bytes of the old ones.
    upsert(shop.live, externalId="sku-mp", images=[{"url": URL_A}])
    assert [k for k in blob_files(blob_root) if "/product-images/" in k] == []


def test_multipart_product_errors(shop) -> None:
    document = {"externalId": "sku-mp", "images": [{"fileKey": "front"}]}
    response = post_multipart(shop.live, "/products", document, {"back": make_jpeg()})
    assert_error(response, 400, "MULTIPART_FILE_NOT_FOUND")
    response = post_multipart(shop.live, "/products", document, {"front": b"<svg></svg>" * 9})
    assert_error(response, 415, "UNSUPPORTED_IMAGE_TYPE")
    response = post_multipart(shop.live, "/products", document, {"front": b"junk" * 99})
    assert_error(response, 400, "INVALID_IMAGE")
    big = make_jpeg() + bytes(11 * 1024 * 1024)
    response = post_multipart(shop.live, "/products", document, {"front": big})
    assert_error(response, 413, "FILE_TOO_LARGE")
    assert_error(shop.live.get("/products/sku-mp"), 404, "PRODUCT_NOT_FOUND")


def test_external_id_is_required(shop) -> None:
    response = shop.live.post("/products", json={"title": "No id", "images": [{"url": URL_A}]})
    assert_error(response, 400, "EXTERNAL_ID_REQUIRED")
    response = shop.live.post("/products", json={"externalId": None, "imageUrls": [URL_A]})
    assert_error(response, 400, "EXTERNAL_ID_REQUIRED")


def test_new_product_needs_images(shop) -> None:
    for body in (
        {"externalId": "sku-x", "title": "No images"},
        {"externalId": "sku-x", "images": []},
        {"externalId": "sku-x", "imageUrls": []},
    ):
        assert_error(shop.live.post("/products", json=body), 400, "PRODUCT_IMAGES_REQUIRED")
    upsert(shop.live, externalId="sku-x", imageUrls=[URL_A])
    # An existing product cannot lose all its images either.
    response = shop.live.post("/products", json={"externalId": "sku-x", "images": []})
    assert_error(response, 400, "PRODUCT_IMAGES_REQUIRED")
    assert shop.live.get("/products/sku-x").json()["images"][0]["sourceUrl"] == URL_A


def test_anon_prefix_is_reserved(shop) -> None:
    for body in (
        {"externalId": "_anon_mine", "imageUrls": [URL_A]},
        {"externalId": "_anon_", "title": "x", "imageUrls": [URL_A]},
        {"externalId": "_anon_abc"},
    ):
        response = shop.live.post("/products", json=body)
        assert_error(response, 400, "VALIDATION_FAILED", paths=["externalId"])


def test_valid_for_days_must_be_null_or_1_to_365(shop) -> None:
    def refused(value: Any) -> None:
        body = {"externalId": "sku-v", "imageUrls": [URL_A], "validForDays": value}
        response = shop.live.post("/products", json=body)
        assert_error(response, 400, "VALIDATION_FAILED", paths=["validForDays"])

    def accepted(value: Any) -> None:
        body = upsert(shop.live, externalId="sku-v", imageUrls=[URL_A], validForDays=value)
        assert body["validForDays"] == value

    check_each([0, 366, -1, 1.5, "7", True, [7]], refused)
    check_each([1, 365, None], accepted)


INVALID_FIELDS = [
    ({"externalId": "", "imageUrls": [URL_A]}, ["externalId"]),
    ({"externalId": "x" * 201, "imageUrls": [URL_A]}, ["externalId"]),
    ({"externalId": 12, "imageUrls": [URL_A]}, ["externalId"]),
    ({"externalId": "s", "title": ["x"], "imageUrls": [URL_A]}, ["title"]),
    ({"externalId": "s", "title": "t" * 501, "imageUrls": [URL_A]}, ["title"]),
    ({"externalId": "s", "description": 3, "imageUrls": [URL_A]}, ["description"]),
    ({"externalId": "s", "imageUrls": ["javascript:alert(1)"]}, ["imageUrls.0"]),
    ({"externalId": "s", "images": [{"url": "nope"}]}, ["images.0.url"]),
    ({"externalId": "s", "images": "http://x/y.jpg"}, ["images"]),
]


def test_invalid_fields_are_validation_failed_with_their_path(shop) -> None:
    def check(case: tuple[dict[str, Any], list[str]]) -> None:
        body, paths = case
        response = shop.live.post("/products", json=body)
        assert_error(response, 400, "VALIDATION_FAILED", paths=paths)

    check_each(INVALID_FIELDS, check)
    assert shop.live.get("/products").json()["count"] == 0


def test_image_entry_without_a_source_is_invalid_image_input(shop) -> None:
    body = {"externalId": "s", "images": [{"url": URL_A}, {}]}
    response = shop.live.post("/products", json=body)
    assert_error(response, 400, "INVALID_IMAGE_INPUT", paths=["images.1"])


def test_list_is_newest_first_with_a_cursor(shop, context) -> None:
    for index in range(7):
        upsert(shop.live, externalId=f"sku-{index}", imageUrls=[URL_A])
        context.clock.advance(seconds=1)
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = shop.live.get("/products", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "nextCursor", "hasMore", "count"}
        pages.append(page)
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            break
    assert [p["count"] for p in pages] == [3, 3, 1]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [p["hasMore"] for p in pages] == [True, True, False]
    assert pages[-1]["nextCursor"] is None
    ids = [item["externalId"] for p in pages for item in p["items"]]
    assert ids == [f"sku-{i}" for i in range(6, -1, -1)]
    # The default limit takes them all.
    everything = shop.live.get("/products").json()
    assert everything["count"] == 7 and everything["hasMore"] is False


def test_list_with_equal_creation_times_is_still_complete(shop) -> None:
    # The clock does not move: every product has the same createdAt.
    for index in range(5):
        upsert(shop.live, externalId=f"same-{index}", imageUrls=[URL_A])
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = shop.live.get("/products", params=params).json()
        seen += [item["externalId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            break
    assert sorted(seen) == [f"same-{i}" for i in range(5)]
    assert len(seen) == 5


def test_list_paging_and_cursor_validation(shop) -> None:
    for limit in (0, 201, "ten"):
        response = shop.live.get("/products", params={"limit": limit})
        assert_error(response, 400, "VALIDATION_FAILED", paths=["limit"])
    for cursor in ("garbage", "eyJhIjoxfQ", "x" * 501):
        response = shop.live.get("/products", params={"cursor": cursor})
        assert_error(response, 400, "VALIDATION_FAILED", paths=["cursor"])
    empty = shop.live.get("/products", params={"limit": 200}).json()
    assert empty == {"items": [], "nextCursor": None, "hasMore": False, "count": 0}


def test_one_shot_products_are_not_listed_but_readable(shop) -> None:
    upsert(shop.live, externalId="listed", imageUrls=[URL_A])
    image = upload(shop.live)["imageId"]
    body = {"product": {"title": "One-shot", "imageUrls": [URL_A]}, "customer": {"id": image}}
    anon = shop.live.post("/try-on", json=body).json()["productExternalId"]
    assert anon.startswith("_anon_")
    listed = shop.live.get("/products").json()
    assert [item["externalId"] for item in listed["items"]] == ["listed"]
    product = shop.live.get(f"/products/{anon}")
    assert product.status_code == 200
    assert product.json()["title"] == "One-shot"
    assert product.json()["validForDays"] == 7


def test_unknown_product_is_product_not_found(shop) -> None:
    assert_error(shop.live.get("/products/nope"), 404, "PRODUCT_NOT_FOUND")
    assert_error(shop.live.get("/products/_anon_nope"), 404, "PRODUCT_NOT_FOUND")


def test_delete_is_204_and_idempotent(shop) -> None:
    upsert(shop.live, externalId="sku-del", imageUrls=[URL_A])
    for _ in range(2):
        response = shop.live.delete("/products/sku-del")
        assert response.status_code == 204
        assert response.content == b""
    assert shop.live.delete("/products/never-existed").status_code == 204
    assert_error(shop.live.get("/products/sku-del"), 404, "PRODUCT_NOT_FOUND")
    assert shop.live.get("/products").json()["count"] == 0
    # Deleted means gone: a reference in a try-on is PRODUCT_NOT_FOUND, re-creating starts fresh.
    image = upload(shop.live)["imageId"]
    body = {"product": {"externalId": "sku-del"}, "customer": {"id": image}}
    assert_error(shop.live.post("/try-on", json=body), 404, "PRODUCT_NOT_FOUND")
    fresh = upsert(shop.live, externalId="sku-del", imageUrls=[URL_B])
    assert fresh["images"] == [{"sourceUrl": URL_B, "order": 0}]


def test_delete_keeps_past_generations_and_removes_stored_images(shop, blob_root) -> None:
    document = {"externalId": "sku-g", "title": "Shirt", "images": [{"fileKey": "front"}]}
    response = post_multipart(shop.live, "/products", document, {"front": make_jpeg(seed=12)})
    assert response.status_code == 200
    image = upload(shop.live)["imageId"]
    body = {"product": {"externalId": "sku-g"}, "customer": {"id": image}}
    generation_id = accepted(shop.live.post("/try-on", json=body))
    done = wait_for(shop.live, generation_id)
    assert done["status"] == "COMPLETED"
    assert shop.live.delete("/products/sku-g").status_code == 204
    assert [k for k in blob_files(blob_root) if "/product-images/" in k] == []
    again = shop.live.get(f"/generations/{generation_id}").json()
    assert again["status"] == "COMPLETED" and again["productExternalId"] == "sku-g"
    fetch_jpeg(again["resultImageUrl"])
