"""White-on-white product photos get a smooth outline, not a ragged one."""

from __future__ import annotations

import cv2
import numpy as np
from engine_helpers import tee_shape

from tryon.engines.local import garment
from tryon.engines.local.garment import cut_out_garment


def _white_tee(size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    image = np.full((size, size, 3), (233, 233, 229), np.float32)
    truth = np.zeros((size, size), np.uint8)
    cv2.fillPoly(truth, [tee_shape(size)], 1)
    image[truth.astype(bool)] = (247, 247, 251)
    image += rng.normal(0.0, 2.0, image.shape)  # sensor noise and JPEG grain
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), 1.0)
    return image, truth.astype(bool)


def _perimeter(mask: np.ndarray) -> float:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return float(sum(cv2.arcLength(c, True) for c in contours))


def test_white_tee_outline_is_smooth(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    image, truth = _white_tee()
    cutout = cut_out_garment(image)
    assert cutout is not None
    iou = float((cutout.mask & truth).sum() / (cutout.mask | truth).sum())
    assert iou > 0.93
    smooth = _perimeter(cutout.mask) / _perimeter(truth)
    monkeypatch.setattr(garment, "_FAINT_GARMENT", 0.0)
    ragged = _perimeter(cut_out_garment(image).mask) / _perimeter(truth)
    assert smooth < ragged
    assert smooth < 1.12
