"""The ``placeholder`` engine: instant and deterministic, for test keys and unit tests.

It pastes the product photo, scaled down, in the middle of the person photo. It is no try-on;
it exists so that integrations can be tested without spending time or credits.
"""

from __future__ import annotations

from PIL import Image, ImageOps

from tryon.engines.base import EngineError, TryOnInput


class PlaceholderEngine:
    name = "placeholder"

    def generate(self, request: TryOnInput) -> Image.Image:
        if not request.product_images:
            raise EngineError("PRODUCT_IMAGE_UNUSABLE", "The product has no image.")
        person = request.person_image.convert("RGB")
        box = (max(1, person.width // 2), max(1, person.height // 3))
        garment = ImageOps.contain(request.product_images[0].convert("RGB"), box)
        result = person.copy()
        result.paste(
            garment, ((person.width - garment.width) // 2, (person.height - garment.height) // 3)
        )
        return result
