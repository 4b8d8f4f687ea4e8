"""The engine interface every try-on model sits behind.

An engine receives decoded, upright RGB images (the person photo exactly as stored, the product
photos) plus the product's title and description, and returns one RGB image of the person wearing
the product, the same size as the person image. Failures are raised as ``EngineError`` with one of
the generation error codes of the contract, so a worker can store a typed ``errorCode``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from PIL import Image

EngineErrorCode = Literal[
    "CUSTOMER_IMAGE_UNUSABLE",
    "PRODUCT_IMAGE_UNUSABLE",
    "ENGINE_ERROR",
    "ENGINE_TIMEOUT",
]


class EngineError(Exception):
    """A typed failure of an engine; ``code`` becomes the generation's ``errorCode``."""

    def __init__(self, code: EngineErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: EngineErrorCode = code
        self.message = message


@dataclass(frozen=True)
class TryOnInput:
    """What an engine gets for one generation."""

    person_image: Image.Image  # RGB, upright, as stored
    product_images: list[Image.Image]  # RGB, upright; the first is the main product photo
    product_title: str | None = None
    product_description: str | None = None
    options: dict[str, object] = field(default_factory=dict)


class Engine(Protocol):
    """A try-on model. Implementations load their models once and are reused across jobs."""

    name: str

    def generate(self, request: TryOnInput) -> Image.Image:
        """Return the person wearing the product (RGB, same size as ``person_image``).

        Raises ``EngineError`` for every failure a caller should see as a typed code.
        """
        ...
