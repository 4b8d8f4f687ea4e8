"""``POST /try-on``: both request shapes, JSON and multipart, every customer and product source,
and every refusal with its code (and nothing spent or stored for a refused call)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from e2e_helpers import (
    accepted,
    assert_error,
    blob_files,
    check_each,
    credits,
    decode,
    fetch_jpeg,
    make_jpeg,
    one_shot,
    post_multipart,
    upload,
    wait_for,
)

GARMENT = make_jpeg(200, 240, seed=7)
PERSON = make_jpeg(256, 320, seed=8)


@pytest.fixture
def garment_url(image_server) -> str:  # type: ignore[no-untyped-def]
    return image_server.add("/garment.jpg", GARMENT)


@pytest.fixture
def image_id(shop) -> str:  # type: ignore[no-untyped-def]
    return upload(shop.live, PERSON)["imageId"]


def completed(client, response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    generation = wait_for(client, accepted(response))
    assert generation["status"] == "COMPLETED", generation
    result = decode(fetch_jpeg(generation["resultImageUrl"]))
    assert result.size == (256, 320)
    return generation


# ------------------------------------------------------------------------------------------------
# Accepted shapes
# ------------------------------------------------------------------------------------------------


def test_old_shape_json_with_stored_image_and_one_shot_product(shop, image_id, garment_url) -> None:
    body = {
        "product": {"title": "Shirt", "description": "Blue", "images": [{"url": garment_url}]},
        "customer": {"id": image_id},
        "customerId": "cust-1",
        "retentionDays": 3,
        "useWatermark": False,
    }
    response = shop.live.post("/try-on", json=body)
    product_id = response.json()["productExternalId"]
    assert product_id.startswith("_anon_")
    generation = completed(shop.live, response)
    assert generation["productExternalId"] == product_id
    assert credits(shop.live) == 9


def test_old_shape_with_image_urls_alias_and_inline_product(shop, image_id, garment_url) -> None:
    body = {
        "product": {"externalId": "sku-1", "title": "Shirt", "imageUrls": [garment_url]},
        "customer": {"id": image_id},
    }
    response = shop.live.post("/try-on", json=body)
    assert response.json()["productExternalId"] == "sku-1"
    completed(shop.live, response)
    product = shop.live.get("/products/sku-1").json()
    assert product["images"] == [{"sourceUrl": garment_url, "order": 0}]
    assert product["validForDays"] == 15


def test_new_shape_1_4_json(shop, image_id, garment_url) -> None:
    body = {
        "products": [
            {
                "externalId": "sku-new",
                "title": "Jacket",
                "description": "Warm",
                "images": [{"source": {"url": garment_url}}],
            }
        ],
        "person": {"image": {"source": {"id": image_id}}},
        "externalUserId": "user-9",
        "output": {"watermark": False, "keepForDays": 1},
    }
    response = shop.live.post("/try-on", json=body)
    assert response.json()["productExternalId"] == "sku-new"
    completed(shop.live, response)
    assert shop.live.get("/products/sku-new").json()["title"] == "Jacket"


def test_new_shape_1_3_customer_source(shop, image_id, garment_url) -> None:
    body = {
        "products": [{"title": "Jacket", "images": [{"source": {"url": garment_url}}]}],
        "customer": {"source": {"id": image_id}},
        "externalUserId": "user-9",
        "customerId": "user-9",
    }
    completed(shop.live, shop.live.post("/try-on", json=body))


def test_multipart_old_shape_with_customer_and_product_file_keys(shop) -> None:
    document = {
        "product": {"title": "Shirt", "images": [{"fileKey": "garment"}]},
        "customer": {"fileKey": "selfie"},
        "customerId": "cust-2",
    }
    response = post_multipart(
        shop.live, "/try-on", document, {"garment": GARMENT, "selfie": PERSON}
    )
    completed(shop.live, response)


def test_multipart_new_shape_with_source_file_keys(shop) -> None:
    document = {
        "products": [{"externalId": "sku-mp", "images": [{"source": {"fileKey": "g"}}]}],
        "person": {"image": {"source": {"fileKey": "p"}}},
    }
    response = post_multipart(shop.live, "/try-on", document, {"g": GARMENT, "p": PERSON})
    completed(shop.live, response)
    product = shop.live.get("/products/sku-mp").json()
    assert product["images"][0]["sourceUrl"].startswith("upload://")


def test_customer_by_url_is_downloaded_at_every_call(shop, image_server, garment_url) -> None:
    person_url = image_server.add("/people/me.jpg", PERSON)
    body = {"product": {"imageUrls": [garment_url]}, "customer": {"url": person_url}}
    first = shop.live.post("/try-on", json=body)
    # Downloaded while accepting, before the answer (not later by the worker).
    assert image_server.hits["/people/me.jpg"] == 1
    completed(shop.live, first)
    completed(shop.live, shop.live.post("/try-on", json=body))
    assert image_server.hits["/people/me.jpg"] == 2


def test_person_image_url_in_new_shape(shop, image_server, garment_url) -> None:
    person_url = image_server.add("/p.jpg", PERSON)
    body = {
        "products": [{"imageUrls": [garment_url]}],
        "person": {"image": {"source": {"url": person_url}}},
    }
    completed(shop.live, shop.live.post("/try-on", json=body))


def test_one_shot_product_can_be_referenced_again(shop, image_id, garment_url) -> None:
    first = shop.live.post(
        "/try-on",
        json={"product": {"imageUrls": [garment_url]}, "customer": {"id": image_id}},
    )
    anon = first.json()["productExternalId"]
    completed(shop.live, first)
    again = shop.live.post(
        "/try-on", json={"product": {"externalId": anon}, "customer": {"id": image_id}}
    )
    assert again.json()["productExternalId"] == anon
    completed(shop.live, again)


def test_stored_product_by_reference(shop, image_id, garment_url) -> None:
    created = shop.live.post(
        "/products", json={"externalId": "sku-ref", "title": "T", "images": [{"url": garment_url}]}
    )
    assert created.status_code == 200
    body = {"product": {"externalId": "sku-ref"}, "customer": {"id": image_id}}
    completed(shop.live, shop.live.post("/try-on", json=body))


def test_test_key_costs_no_credit(shop, garment_url) -> None:
    image = upload(shop.test, PERSON)["imageId"]
    body = {"product": {"imageUrls": [garment_url]}, "customer": {"id": image}}
    completed(shop.test, shop.test.post("/try-on", json=body))
    assert credits(shop.live) == 10
    assert credits(shop.test) == 10


# ------------------------------------------------------------------------------------------------
# Refusals
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def nothing_spent(shop, blob_root):  # type: ignore[no-untyped-def]
    """Every refused call in the test leaves the balance and the blob folder as they were."""
    before = blob_files(blob_root)
    yield
    assert credits(shop.live) == 10
    assert blob_files(blob_root).keys() == before.keys()


def test_no_customer_is_customer_image_required(shop, garment_url, nothing_spent) -> None:
    product = {"imageUrls": [garment_url]}
    for body in (
        {"product": product},
        {"product": product, "customer": None},
        {"products": [product], "person": {}},
        {"products": [product], "person": {"image": None}},
    ):
        assert_error(shop.live.post("/try-on", json=body), 400, "CUSTOMER_IMAGE_REQUIRED")


def test_customer_without_exactly_one_source_is_invalid_image_input(
    shop, garment_url, nothing_spent
) -> None:
    def check(case: tuple[Any, str]) -> None:
        customer, path = case
        body = {"product": {"imageUrls": [garment_url]}, "customer": customer}
        response = shop.live.post("/try-on", json=body)
        assert_error(response, 400, "INVALID_IMAGE_INPUT", paths=[path])

    cases = [
        ({}, "customer"),
        ({"id": "a", "url": "http://example.com/x.jpg"}, "customer"),
        ({"fileKey": "a", "id": "b"}, "customer"),
        ({"source": {}}, "customer.source"),
        ({"source": {"id": "x"}, "url": "http://example.com/x.jpg"}, "customer"),
        ("just-a-string", "customer"),
    ]
    check_each(cases, check)


def test_product_image_without_exactly_one_source_is_invalid_image_input(
    shop, image_id, nothing_spent
) -> None:
    def check(case: tuple[list[Any], str]) -> None:
        images, path = case
        body = {"product": {"title": "T", "images": images}, "customer": {"id": image_id}}
        response = shop.live.post("/try-on", json=body)
        assert_error(response, 400, "INVALID_IMAGE_INPUT", paths=[path])

    cases = [
        ([{}], "product.images.0"),
        ([{"url": "http://example.com/a.jpg", "fileKey": "g"}], "product.images.0"),
        ([{"source": {}}], "product.images.0.source"),
        ([{"title": "not an image"}], "product.images.0"),
    ]
    check_each(cases, check)


def test_file_key_without_its_part_is_multipart_file_not_found(
    shop, image_id, nothing_spent
) -> None:
    # The customer's part is missing.
    document = {"product": one_shot("garment"), "customer": {"fileKey": "selfie"}}
    response = post_multipart(shop.live, "/try-on", document, {"garment": GARMENT})
    assert_error(response, 400, "MULTIPART_FILE_NOT_FOUND")
    # The product's part is missing.
    document = {"product": one_shot("other"), "customer": {"id": image_id}}
    response = post_multipart(shop.live, "/try-on", document, {"garment": GARMENT})
    assert_error(response, 400, "MULTIPART_FILE_NOT_FOUND")
    # A JSON body has no parts at all.
    body = {"product": one_shot("garment"), "customer": {"id": image_id}}
    assert_error(shop.live.post("/try-on", json=body), 400, "MULTIPART_FILE_NOT_FOUND")


def test_unknown_product_reference_is_product_not_found(shop, image_id, nothing_spent) -> None:
    body = {"product": {"externalId": "nope"}, "customer": {"id": image_id}}
    assert_error(shop.live.post("/try-on", json=body), 404, "PRODUCT_NOT_FOUND")
    body = {"products": [{"externalId": "_anon_0123"}], "person": {"image": {"id": image_id}}}
    assert_error(shop.live.post("/try-on", json=body), 404, "PRODUCT_NOT_FOUND")


def test_product_without_images_is_product_images_required(shop, image_id, nothing_spent) -> None:
    for product in (
        {"title": "One-shot without images"},
        {"title": "Empty list", "images": []},
        {"externalId": "new-sku", "title": "Inline without images"},
        {"externalId": "new-sku", "imageUrls": []},
    ):
        body = {"product": product, "customer": {"id": image_id}}
        assert_error(shop.live.post("/try-on", json=body), 400, "PRODUCT_IMAGES_REQUIRED")
    assert_error(shop.live.get("/products/new-sku"), 404, "PRODUCT_NOT_FOUND")


def test_unknown_image_id_is_image_not_found(shop, garment_url, nothing_spent) -> None:
    for image_id in ("retention-7d/0000/customer/0000.jpeg", "nope"):
        body = {"product": {"imageUrls": [garment_url]}, "customer": {"id": image_id}}
        assert_error(shop.live.post("/try-on", json=body), 404, "IMAGE_NOT_FOUND")


def test_customer_url_that_fails_is_customer_image_fetch_failed(
    shop, image_server, garment_url, nothing_spent
) -> None:
    from tryon.server import free_port

    for url in (image_server.url("/missing.jpg"), f"http://127.0.0.1:{free_port()}/x.jpg"):
        body = {"product": {"imageUrls": [garment_url]}, "customer": {"url": url}}
        assert_error(shop.live.post("/try-on", json=body), 400, "CUSTOMER_IMAGE_FETCH_FAILED")


def test_customer_url_to_a_private_address_is_refused(
    shop, image_server, garment_url, nothing_spent
) -> None:
    # Only 127.0.0.1 is allowed in tests (TRYON_FETCH_ALLOW); other inner addresses are not.
    port = image_server.base_url.rsplit(":", 1)[1]
    for url in (
        f"http://127.0.0.2:{port}/people/me.jpg",
        f"http://[::1]:{port}/people/me.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x.jpg",
        f"http://0.0.0.0:{port}/people/me.jpg",
    ):
        body = {"product": {"imageUrls": [garment_url]}, "customer": {"url": url}}
        assert_error(shop.live.post("/try-on", json=body), 400, "CUSTOMER_IMAGE_FETCH_FAILED")


def test_product_url_to_a_private_address_fails_the_generation(shop, image_id) -> None:
    body = {
        "product": {"imageUrls": ["http://169.254.169.254/latest/meta-data/x.jpg"]},
        "customer": {"id": image_id},
    }
    generation = wait_for(shop.live, accepted(shop.live.post("/try-on", json=body)))
    assert (generation["status"], generation["errorCode"]) == (
        "FAILED",
        "PRODUCT_IMAGE_FETCH_FAILED",
    )
    assert credits(shop.live) == 10


def test_bad_customer_bytes_are_refused_with_the_upload_codes(
    shop, image_server, garment_url, nothing_spent
) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"></svg>'
    cases = [
        (b"not an image" * 20, 400, "INVALID_IMAGE"),
        (PERSON[:1500], 400, "INVALID_IMAGE"),
        (svg, 415, "UNSUPPORTED_IMAGE_TYPE"),
        (PERSON + bytes(11 * 1024 * 1024), 413, "FILE_TOO_LARGE"),
    ]
    for data, status, code in cases:
        document = {"product": one_shot("garment"), "customer": {"fileKey": "me"}}
        response = post_multipart(shop.live, "/try-on", document, {"garment": GARMENT, "me": data})
        assert_error(response, status, code)
    # A URL that serves something that is not an image.
    url = image_server.add("/page.html", b"<html>hello</html>" * 10, "text/html")
    body = {"product": {"imageUrls": [garment_url]}, "customer": {"url": url}}
    assert_error(shop.live.post("/try-on", json=body), 400, "INVALID_IMAGE")


def test_bad_product_file_is_invalid_image(shop, image_id, nothing_spent) -> None:
    document = {"product": one_shot("garment"), "customer": {"id": image_id}}
    response = post_multipart(shop.live, "/try-on", document, {"garment": b"junk" * 100})
    assert_error(response, 400, "INVALID_IMAGE")


OLD_SHAPE_INVALID = [
    ({"product": None}, ["product"]),
    ({"product": "sku"}, ["product"]),
    ({"retentionDays": 2}, ["retentionDays"]),
    ({"retentionDays": "forever"}, ["retentionDays"]),
    ({"useWatermark": "no"}, ["useWatermark"]),
    ({"customerId": ""}, ["customerId"]),
    ({"customerId": "x" * 201}, ["customerId"]),
    ({"customerId": 42}, ["customerId"]),
    ({"customerId": "a", "externalUserId": "b"}, ["externalUserId"]),
    ({"output": {"keepForDays": 5}}, ["output.keepForDays"]),
    ({"output": {"watermark": "yes"}}, ["output.watermark"]),
    ({"output": "x"}, ["output"]),
    ({"product": {"title": 5, "imageUrls": ["http://x/y.jpg"]}}, ["product.title"]),
    ({"product": {"imageUrls": ["ftp://x/y.jpg"]}}, ["product.imageUrls.0"]),
    ({"product": {"imageUrls": "http://x/y.jpg"}}, ["product.imageUrls"]),
    ({"product": {"images": [{"url": "not a url"}]}}, ["product.images.0.url"]),
    ({"product": {"images": [{"url": ""}]}}, ["product.images.0.url"]),
    ({"product": {"images": {"url": "http://x/y.jpg"}}}, ["product.images"]),
    ({"product": {"imageUrls": ["http://x/y.jpg"] * 11}}, ["product.images"]),
    ({"product": {"externalId": "", "imageUrls": ["http://x/y.jpg"]}}, ["product.externalId"]),
    (
        {"product": {"externalId": "_anon_mine", "imageUrls": ["http://x/y.jpg"]}},
        ["product.externalId"],
    ),
]


def test_invalid_fields_are_validation_failed_with_their_path(
    shop, image_id, nothing_spent
) -> None:
    def check(case: tuple[dict[str, Any], list[str]]) -> None:
        change, paths = case
        body: dict[str, Any] = {
            "product": {"imageUrls": ["http://127.0.0.1:9/g.jpg"]},
            "customer": {"id": image_id},
        }
        body.update(change)
        response = shop.live.post("/try-on", json=body)
        assert_error(response, 400, "VALIDATION_FAILED", paths=paths)

    check_each(OLD_SHAPE_INVALID, check)


NEW_SHAPE_INVALID = [
    ({"products": []}, ["products"]),
    ({"products": [{"imageUrls": ["http://x/a.jpg"]}] * 2}, ["products"]),
    ({"products": {"imageUrls": ["http://x/a.jpg"]}}, ["products"]),
    (
        {
            "product": {"imageUrls": ["http://x/a.jpg"]},
            "products": [{"imageUrls": ["http://x/a.jpg"]}],
        },
        ["products"],
    ),
    (
        {"products": [{"images": [{"source": {"url": "file:///etc/passwd"}}]}]},
        ["products.0.images.0.source.url"],
    ),
    (
        {"products": [{"externalId": "_anon_x", "title": "T", "imageUrls": ["http://x/a"]}]},
        ["products.0.externalId"],
    ),
    ({"products": [{"imageUrls": ["http://x/a.jpg"]}], "person": "me"}, ["person"]),
    (
        {"products": [{"imageUrls": ["http://x/a.jpg"]}], "person": {"image": "me"}},
        ["person.image"],
    ),
]


def test_invalid_new_shape_fields_are_validation_failed_with_their_path(
    shop, image_id, nothing_spent
) -> None:
    def check(case: tuple[dict[str, Any], list[str]]) -> None:
        body, paths = case
        body = {"person": {"image": {"source": {"id": image_id}}}, **body}
        response = shop.live.post("/try-on", json=body)
        assert_error(response, 400, "VALIDATION_FAILED", paths=paths)

    check_each(NEW_SHAPE_INVALID, check)


def test_multipart_data_must_be_a_json_object(shop, nothing_spent) -> None:
    response = shop.live.post(
        "/try-on",
        data={"data": json.dumps(["product"])},
        files={"garment": ("g.jpg", GARMENT, "image/jpeg")},
    )
    assert_error(response, 400, "VALIDATION_FAILED", paths=["body"])
