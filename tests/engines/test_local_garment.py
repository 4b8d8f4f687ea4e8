"""Garment segmentation and garment landmarks on synthetic product photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from engine_helpers import tee_shape, trousers_shape

from tryon.engines.local.garment import cut_out_garment
from tryon.engines.local.shape import analyse_bottom, analyse_top, looks_like_bottom


def _studio_background(size: int, colour: tuple[int, int, int]) -> np.ndarray:
    """A plain backdrop with the soft vignette of a studio shot and a little sensor noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    falloff = 1.0 - 0.08 * (xx**2 + yy**2)
    image = np.array(colour, np.float32)[None, None, :] * falloff[..., None]
    image += np.random.default_rng(0).normal(0.0, 1.0, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _product_photo(
    polygon: np.ndarray,
    garment: tuple[int, int, int],
    background: tuple[int, int, int] = (236, 236, 232),
    outline: tuple[int, int, int] | None = None,
    size: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a garment on a backdrop; returns (rgb, true mask)."""
    image = _studio_background(size, background)
    truth = np.zeros((size, size), np.uint8)
    cv2.fillPoly(truth, [polygon], 1)
    image[truth.astype(bool)] = garment
    if outline is not None:
        cv2.polylines(image, [polygon], True, outline, 1, lineType=cv2.LINE_AA)
    image = cv2.GaussianBlur(image, (0, 0), 0.7)
    return image, truth.astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


@pytest.mark.parametrize(
    ("garment", "background", "outline"),
    [
        ((190, 40, 45), (236, 236, 232), None),  # red tee on light grey
        ((25, 25, 28), (236, 236, 232), None),  # black tee
        ((120, 150, 190), (245, 245, 245), None),  # light blue on white
        # White tee on an off-white backdrop: a faint cast and a thin seam outline only.
        ((250, 250, 254), (232, 233, 228), (222, 222, 222)),
    ],
)
def test_tee_is_segmented(garment, background, outline) -> None:  # type: ignore[no-untyped-def]
    rgb, truth = _product_photo(tee_shape(), garment, background, outline)
    cutout = cut_out_garment(rgb)
    assert cutout is not None
    assert _iou(cutout.mask, truth) > 0.93
    # The soft matte is opaque inside and transparent on the backdrop.
    assert cutout.alpha[truth].mean() > 0.95
    assert cutout.alpha[~truth].mean() < 0.01


def test_drop_shadow_under_the_hem_is_not_garment() -> None:
    polygon = tee_shape()
    rgb, truth = _product_photo(polygon, (120, 150, 190))
    # A soft grey shadow under the hem, as product shots have.
    shadow = np.zeros(truth.shape, np.float32)
    cv2.fillPoly(shadow, [polygon + np.array([0, 10])], 1.0)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 3.0) * (~truth)
    rgb = (rgb.astype(np.float32) * (1.0 - 0.25 * shadow[..., None])).astype(np.uint8)
    cutout = cut_out_garment(rgb)
    assert cutout is not None
    below_hem = np.zeros_like(truth)
    below_hem[452:470, 150:360] = True
    assert cutout.mask[below_hem].mean() < 0.2
    assert _iou(cutout.mask, truth) > 0.93


def test_blank_product_photo_has_no_garment() -> None:
    assert cut_out_garment(_studio_background(512, (240, 240, 238))) is None


def test_tee_landmarks() -> None:
    _rgb, truth = _product_photo(tee_shape(), (190, 40, 45))
    shape = analyse_top(truth)
    assert not looks_like_bottom(truth)
    # Shoulder corners on the upper outline, symmetric about the centre line.
    (lx, ly), (rx, ry) = shape.shoulders
    assert abs((lx + rx) / 2 - 256) < 6
    assert 100 < lx < 165 and 347 < rx < 412
    assert abs(ly - ry) < 6
    # Hem at the bottom, armpits under the sleeves, short sleeves pointing outwards.
    assert abs(shape.hem_center[1] - 450) < 6
    assert 160 < shape.armpits[0, 1] < 230
    assert not shape.long_sleeves
    left, right = shape.sleeves
    assert left is not None and right is not None
    assert left.end[0] < 120 and right.end[0] > 392


def test_trouser_landmarks() -> None:
    _, truth = _product_photo(trousers_shape(), (40, 60, 110))
    assert looks_like_bottom(truth)
    shape = analyse_bottom(truth)
    assert shape.crotch is not None
    assert abs(shape.crotch[1] - 190) < 10
    assert shape.waist[0, 0] < 190 and shape.waist[1, 0] > 322
    # Each leg end: outer corner outside, inner corner towards the middle.
    assert shape.leg_ends[0, 0, 0] < shape.leg_ends[0, 1, 0] < 256
    assert shape.leg_ends[1, 0, 0] > shape.leg_ends[1, 1, 0] > 256


def test_shorts_are_recognised_by_shape() -> None:
    # About as wide as tall, but two legs under a crotch: trousers, not a top.
    shorts = np.array(
        [(165, 100), (347, 100), (365, 310), (270, 320), (256, 210), (242, 320), (147, 310)],
        np.int32,
    )
    _, truth = _product_photo(shorts, (200, 170, 90))
    assert looks_like_bottom(truth)
    _, tee = _product_photo(tee_shape(), (200, 170, 90))
    assert not looks_like_bottom(tee)
