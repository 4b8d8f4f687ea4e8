"""Both try-on wire shapes translate into the same internal request."""

from __future__ import annotations

import pytest

from tryon.errors import ApiError
from tryon.generations.schemas import parse_try_on
from tryon.image_sources import ImageSource


def test_old_and_new_shapes_mean_the_same() -> None:
    old = parse_try_on(
        {
            "product": {
                "externalId": "sku-1",
                "title": "Tee",
                "images": [{"url": "https://x/a.jpg"}],
            },
            "customer": {"id": "img-1"},
            "customerId": "c-1",
            "retentionDays": 3,
            "useWatermark": False,
        }
    )
    new = parse_try_on(
        {
            "products": [
                {
                    "externalId": "sku-1",
                    "title": "Tee",
                    "images": [{"source": {"url": "https://x/a.jpg"}}],
                }
            ],
            "person": {"image": {"source": {"id": "img-1"}}},
            "externalUserId": "c-1",
            "output": {"watermark": False, "keepForDays": 3},
        }
    )
    for request in (old, new):
        assert request.customer_image == ImageSource(image_id="img-1")
        assert request.product.images == [ImageSource(url="https://x/a.jpg")]
        assert request.customer_id == "c-1"
        assert request.retention_days == 3
        assert request.use_watermark is False


def test_one_point_three_customer_source_is_accepted() -> None:
    request = parse_try_on(
        {"product": {"externalId": "sku"}, "customer": {"source": {"fileKey": "me"}}}
    )
    assert request.customer_image == ImageSource(file_key="me")
    assert request.product.is_reference


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ({"product": {"externalId": "s"}}, "CUSTOMER_IMAGE_REQUIRED"),
        ({"product": {"externalId": "s"}, "customer": {}}, "INVALID_IMAGE_INPUT"),
        (
            {"product": {"externalId": "s"}, "customer": {"id": "a", "url": "https://x"}},
            "INVALID_IMAGE_INPUT",
        ),
        ({"product": {"images": [{}]}, "customer": {"id": "a"}}, "INVALID_IMAGE_INPUT"),
        ({"customer": {"id": "a"}}, "VALIDATION_FAILED"),
        ({"products": [], "customer": {"id": "a"}}, "VALIDATION_FAILED"),
        (
            {"product": {"externalId": "s"}, "customer": {"id": "a"}, "retentionDays": 5},
            "VALIDATION_FAILED",
        ),
        (
            {"product": {"images": [{"url": "ftp://x/a.jpg"}]}, "customer": {"id": "a"}},
            "VALIDATION_FAILED",
        ),
    ],
)
def test_mistakes_get_their_contract_code(document: dict, code: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ApiError) as caught:
        parse_try_on(document)
    assert caught.value.code == code
    if code == "VALIDATION_FAILED":
        assert caught.value.body()["details"], "validation errors name the field"


REFERENCE = {"product": {"externalId": "s"}}


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"customer": {"id": "a"}, "person": {"image": {"source": {"id": "b"}}}}, "person"),
        ({"customer": {"id": "a"}, "customerId": "c-1", "externalUserId": "c-2"}, "externalUserId"),
        (
            {"customer": {"id": "a"}, "retentionDays": 1, "output": {"keepForDays": 7}},
            "output.keepForDays",
        ),
        (
            {"customer": {"id": "a"}, "useWatermark": True, "output": {"watermark": False}},
            "output.watermark",
        ),
    ],
)
def test_a_field_given_under_both_its_names_must_agree(extra: dict, path: str) -> None:  # type: ignore[type-arg]
    """Old and new names of one field (or two customer images): refused, never one silently
    winning over the other."""
    with pytest.raises(ApiError) as caught:
        parse_try_on(REFERENCE | extra)
    assert caught.value.code == "VALIDATION_FAILED"
    assert [detail.path for detail in caught.value.details] == [path]


def test_both_names_saying_the_same_are_fine() -> None:
    request = parse_try_on(
        REFERENCE
        | {
            "customer": {"id": "a"},
            "customerId": "c-1",
            "externalUserId": "c-1",
            "retentionDays": 3,
            "useWatermark": False,
            "output": {"keepForDays": 3, "watermark": False},
        }
    )
    assert (request.customer_id, request.retention_days, request.use_watermark) == ("c-1", 3, False)


def test_a_customer_that_is_not_an_object_names_every_accepted_source() -> None:
    with pytest.raises(ApiError) as caught:
        parse_try_on(REFERENCE | {"customer": "me.jpg"})
    assert caught.value.code == "INVALID_IMAGE_INPUT"
    assert "url or fileKey or id" in caught.value.message
