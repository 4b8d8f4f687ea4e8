"""Product category from title and description keywords."""

from __future__ import annotations

import pytest

from tryon.engines.local.category import category_from_text


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Baseball cap", "accessory"),
        ("Aviator sunglasses", "accessory"),
        ("Leather belt", "accessory"),
        ("Cap sleeve tee", "top"),
        ("Short sleeve shirt", "top"),
        ("Denim trucker jacket", "top"),
        ("Athletic Dept quarter-zip sweatshirt", "top"),
        ("Classic T shirt", "top"),
        ("Tank top", "top"),
        ("Slim jeans with belt", "bottom"),
        ("Denim shorts", "bottom"),
        ("Black leggings", "bottom"),
        ("Floral midi dress", "dress"),
        ("Item 42", None),
    ],
)
def test_title(title: str, expected: str | None) -> None:
    assert category_from_text(title) == expected


def test_description_is_the_fallback() -> None:
    assert category_from_text("Item 42", "Relaxed chinos in stretch cotton.") == "bottom"
    # The title wins over a styling tip in the description.
    assert category_from_text("Oxford shirt", "Wear it with jeans.") == "top"
    assert category_from_text(None, None) is None
