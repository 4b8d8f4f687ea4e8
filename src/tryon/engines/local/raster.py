"""Small array helpers shared by the local engine and its evaluation."""

from __future__ import annotations

import cv2
import numpy as np


def resize_long_side(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` shrunk (area interpolation) so that its long side is ``side``; never enlarged."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
