"""Two accounts (and live vs test keys of one account) never see each other's data; another
account's id answers exactly like an id that does not exist."""

from __future__ import annotations

import pytest
from e2e_helpers import (
    accepted,
    assert_error,
    credits,
    fetch_jpeg,
    make_jpeg,
    post_multipart,
    start_try_on,
    upload,
    wait_for,
)

URL = "https://shop.example/a.jpg"


@pytest.fixture
def two(make_shop):  # type: ignore[no-untyped-def]
    return make_shop(), make_shop()


def owned_data(client, sku: str = "sku-1", customer_id: str = "cust-1") -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An upload, a stored product, a completed generation and a one-shot product."""
    image = upload(client, make_jpeg(seed=61), customerId=customer_id)
    document = {"externalId": sku, "title": "Mine", "images": [{"fileKey": "front"}]}
    response = post_multipart(client, "/products", document, {"front": make_jpeg(seed=62)})
    assert response.status_code == 200
    response = start_try_on(client, image["imageId"], customerId=customer_id)
    generation = wait_for(client, accepted(response))
    assert generation["status"] == "COMPLETED"
    return {
        "imageId": image["imageId"],
        "imageUrl": image["imageUrl"],
        "generationId": generation["generationId"],
        "resultImageUrl": generation["resultImageUrl"],
        "anon": generation["productExternalId"],
        "sku": sku,
    }


def assert_invisible(client, data: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Everything of ``data`` answers for ``client`` exactly like an unknown id."""
    unknown_image = start_try_on(client, "retention-7d/ffff/customer/ffff.jpeg")
    other_image = start_try_on(client, data["imageId"])
    assert_error(other_image, 404, "IMAGE_NOT_FOUND")
    assert other_image.json() == unknown_image.json()

    unknown = client.get("/generations/gen_ffffffffffffffffffffffff")
    other = client.get(f"/generations/{data['generationId']}")
    assert_error(other, 404, "GENERATION_NOT_FOUND")
    assert other.json() == unknown.json()

    for external_id in (data["sku"], data["anon"]):
        other = client.get(f"/products/{external_id}")
        assert_error(other, 404, "PRODUCT_NOT_FOUND")
        assert other.json() == client.get("/products/never-existed").json()
        mine = upload(client, make_jpeg(seed=63))["imageId"]
        body = {"product": {"externalId": external_id}, "customer": {"id": mine}}
        assert_error(client.post("/try-on", json=body), 404, "PRODUCT_NOT_FOUND")
    listed = client.get("/products").json()
    assert data["sku"] not in [item["externalId"] for item in listed["items"]]


def assert_intact(client, data: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    fetch_jpeg(data["imageUrl"])
    fetch_jpeg(data["resultImageUrl"])
    generation = client.get(f"/generations/{data['generationId']}").json()
    assert generation["status"] == "COMPLETED"
    fetch_jpeg(generation["resultImageUrl"])
    product = client.get(f"/products/{data['sku']}").json()
    assert product["title"] == "Mine"
    assert client.get(f"/products/{data['anon']}").status_code == 200
    assert start_try_on(client, data["imageId"]).status_code == 200


def test_accounts_cannot_see_or_use_each_others_data(two) -> None:
    a, b = two
    data = owned_data(a.live)
    assert_invisible(b.live, data)
    assert_invisible(b.test, data)
    assert_intact(a.live, data)


def test_accounts_cannot_change_or_delete_each_others_data(two) -> None:
    a, b = two
    data = owned_data(a.live)
    assert b.live.delete("/products/sku-1").status_code == 204
    assert b.live.delete(f"/products/{data['anon']}").status_code == 204
    # The same externalId in B is B's own product.
    response = b.live.post(
        "/products", json={"externalId": "sku-1", "title": "Theirs", "imageUrls": [URL]}
    )
    assert response.status_code == 200
    assert b.live.get("/products/sku-1").json()["title"] == "Theirs"
    assert a.live.get("/products/sku-1").json()["title"] == "Mine"
    # Erasing the same customerId in B leaves A's customer whole.
    assert b.live.delete("/customers/cust-1").status_code == 204
    assert_intact(a.live, data)


def test_credits_are_per_account(two) -> None:
    a, b = two
    owned_data(a.live)
    assert credits(a.live) == 9
    assert credits(b.live) == 10


def test_live_and_test_keys_of_one_account_are_kept_apart(make_shop) -> None:
    shop = make_shop()
    live = owned_data(shop.live)
    assert_invisible(shop.test, live)
    test = owned_data(shop.test, sku="sku-test")
    assert_invisible(shop.live, test)
    # Erasing in test mode leaves the live customer whole, and the other way round.
    assert shop.test.delete("/customers/cust-1").status_code == 204
    assert_intact(shop.live, live)
    # The test key's work cost nothing; the live key paid for its own generations only.
    assert credits(shop.live) == 8
