"""Blend the warped garment into the person photo.

The garment may only replace pixels of the person's clothing: it is clipped to the person mask
(background stays bit-identical) minus the protected regions (face, hair, neck skin, hands, feet),
with edges softened *inwards* so the transition never spills outside the allowed area.
"""

from __future__ import annotations

import cv2
import numpy as np

# Below this opacity the garment is dropped (8-bit rounding would leave the pixel unchanged
# anyway); where it is dropped the photo's pixel is kept bit-identical.
_MIN_ALPHA = 1.0 / 512.0


def allowed_region(person: np.ndarray, protected: np.ndarray, feather: float) -> np.ndarray:
    """Soft mask in [0, 1] of where a garment may be drawn; exactly 0 outside the hard region."""
    hard = (person >= 0.5) & ~protected
    if feather <= 0:
        return hard.astype(np.float32)
    # Soften only the outermost pixel or two: eroding further would leave a rim of the old
    # clothes along the silhouette, which MediaPipe's mask already follows to a pixel or two.
    soft = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), feather / 2.0)
    return np.minimum(soft * 2.0, 1.0) * hard


def composite(person_rgb: np.ndarray, garment_rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend ``garment_rgb`` over ``person_rgb`` (same size) with the final opacity ``alpha``.

    The garment keeps the colours and shading of its product photo: carrying the photo's shading
    over was tried, but it also carries the edges of the old clothes (a white shirt under a dark
    jacket) through the new garment. Pixels where ``alpha`` is (almost) zero are copied, so they
    stay bit-identical.
    """
    # A weighted blend in one pass; where alpha is 0 the result is exactly the photo's pixel.
    weight = np.where(alpha > _MIN_ALPHA, alpha, 0.0).astype(np.float32)
    return cv2.blendLinear(garment_rgb, person_rgb, weight, 1.0 - weight)
