"""Blend the warped garment into the person photo.

The garment may only replace pixels of the person's clothing: it is clipped to the person mask
(background stays bit-identical) minus the protected regions (face, hair, neck skin, hands, feet),
with edges feathered *inwards* so the soft transition never spills outside the allowed area.
A little of the photo's own shading is carried over so the flat product shot picks up the
folds and lighting of the body it now sits on.
"""

from __future__ import annotations

import cv2
import numpy as np

# Blend only where the garment is at least this opaque (below, 8-bit rounding would leave the
# pixel unchanged anyway, and skipping it guarantees untouched pixels stay bit-identical).
_MIN_ALPHA = 1.0 / 512.0
# Strength of the shading transfer (0 = flat product photo, 1 = full photo shading).
_SHADING = 0.45
# Long side of the copy the shading is estimated on.
_SHADING_SIDE = 256


def allowed_region(person: np.ndarray, protected: np.ndarray, feather: float) -> np.ndarray:
    """Soft mask in [0, 1] of where a garment may be drawn; exactly 0 outside the hard region."""
    hard = (person >= 0.5) & ~protected
    if feather <= 0:
        return hard.astype(np.float32)
    radius = max(1, round(feather))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    core = cv2.erode(hard.astype(np.uint8), kernel).astype(np.float32)
    soft = cv2.GaussianBlur(core, (0, 0), feather / 2.0)
    return np.minimum(soft * 1.5, 1.0) * hard


def _shading(person_rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Relative brightness of the photo around each pixel (1 = average), for the garment area.

    Large-scale light falloff and fold shadows of the clothing underneath survive, while small
    detail (prints, seams, old textures) is smoothed away so it does not ghost through. Computed
    on a small copy (it is smooth anyway) and scaled back up.
    """
    height, width = person_rgb.shape[:2]
    factor = max(1.0, max(height, width) / _SHADING_SIDE)
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    grey = cv2.cvtColor(person_rgb, cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, small_size, interpolation=cv2.INTER_AREA).astype(np.float32) + 8.0
    weight = cv2.resize(alpha, small_size, interpolation=cv2.INTER_AREA)
    weight = (weight > 0.5).astype(np.float32)
    detail = cv2.GaussianBlur(grey, (0, 0), 2.0)
    # The reference brightness is an edge-preserving (bilateral) average: it follows the edge
    # between, say, a white shirt and a dark jacket worn over it, so such colour boundaries of the
    # old clothes cancel out and only the soft shading within each of them is carried over.
    local_mean = cv2.bilateralFilter(detail, 9, 18.0, 0.03 * _SHADING_SIDE)
    for _ in range(2):
        local_mean = cv2.bilateralFilter(local_mean, 9, 18.0, 0.03 * _SHADING_SIDE)
    ratio = np.clip(detail / np.maximum(local_mean, 1.0), 0.75, 1.2) ** _SHADING
    ratio = np.where(weight > 0, ratio, 1.0).astype(np.float32)
    return cv2.resize(ratio, (width, height), interpolation=cv2.INTER_LINEAR)


def composite(person_rgb: np.ndarray, garment_rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend ``garment_rgb`` over ``person_rgb`` (same size) with the final opacity ``alpha``.

    Pixels where ``alpha`` is (almost) zero are copied, so they stay bit-identical.
    """
    shade = _shading(person_rgb, alpha)[..., None]
    dressed = np.clip(garment_rgb.astype(np.float32) * shade, 0, 255)
    out = person_rgb.copy()
    idx = alpha > _MIN_ALPHA
    a = alpha[idx][:, None]
    blended = person_rgb[idx].astype(np.float32) * (1.0 - a) + dressed[idx] * a
    out[idx] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return out
