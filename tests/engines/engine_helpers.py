"""Helpers for the engine tests: sample photos (skipped when absent) and synthetic garments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SAMPLES = Path("/work/shared/samples")


def sample_image(kind: str, name: str) -> Image.Image:
    """A photo from the shared samples folder, or skip the test when it is not there."""
    path = SAMPLES / kind / name
    if not path.is_file():
        pytest.skip(f"sample {kind}/{name} is not available")
    return Image.open(path).convert("RGB")


def tee_shape(size: int = 512) -> np.ndarray:
    """Polygon (N, 2) of a flat-laid T-shirt filling about half of a square image."""
    s = size / 512.0
    points = [
        (200, 70),
        (230, 85),
        (282, 85),
        (312, 70),  # collar
        (380, 90),
        (450, 180),
        (400, 215),
        (365, 185),  # right shoulder, sleeve, armpit
        (365, 450),
        (147, 450),  # hem
        (147, 185),
        (112, 215),
        (62, 180),
        (132, 90),  # left armpit, sleeve, shoulder
    ]
    return (np.array(points, dtype=np.float32) * s).round().astype(np.int32)


def trousers_shape(size: int = 512) -> np.ndarray:
    """Polygon (N, 2) of flat-laid trousers (two legs, a crotch at about a third)."""
    s = size / 512.0
    points = [
        (180, 40),
        (332, 40),
        (345, 470),
        (275, 470),
        (256, 190),
        (237, 470),
        (167, 470),
    ]
    return (np.array(points, dtype=np.float32) * s).round().astype(np.int32)
