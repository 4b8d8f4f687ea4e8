"""Quality metrics of one try-on result, computed from the photos alone.

Each metric compares the person photo, the result and (for colour) the product photo:

- ``placement_iou``: IoU of the pixels the engine changed with the clothing region expected for
  the garment's category (see ``tryon.evaluation.regions``);
- ``identity_delta``: mean absolute difference (0-255) inside the face box;
- ``background_delta``: mean absolute difference outside the dilated person mask;
- ``color_delta_e``: CIEDE2000 between the median Lab colour of the garment in its product photo
  and of the garment's pixels in the result.
"""

from __future__ import annotations

import cv2
import numpy as np

# Thresholds of the Done-when of the engine issue (mean IoU; every pair for the others).
MIN_MEAN_PLACEMENT_IOU = 0.6
MAX_IDENTITY_DELTA = 2.0
MAX_BACKGROUND_DELTA = 2.0
MAX_COLOR_DELTA_E = 10.0

# A pixel counts as changed when its three channels differ by more than this in total. Pixels the
# engine leaves alone are bit-identical; the small margin ignores feathered edges at a few percent
# opacity.
CHANGED_SUM = 9


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB uint8 pixels (..., 3): L in [0, 100], a/b roughly [-128, 127]."""
    flat = np.ascontiguousarray(rgb, dtype=np.uint8).reshape(-1, 1, 3)
    lab = cv2.cvtColor(flat.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return lab.reshape(*rgb.shape[:-1], 3).astype(np.float64)


def ciede2000(
    lab1: np.ndarray, lab2: np.ndarray, kl: float = 1.0, kc: float = 1.0, kh: float = 1.0
) -> np.ndarray:
    """CIEDE2000 colour difference of L*a*b* colours (..., 3), following Sharma, Wu and Dalal
    (2005), "The CIEDE2000 colour-difference formula: implementation notes, supplementary test
    data, and mathematical observations", equations (1)-(22)."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_bar7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p = (1.0 + g) * a1
    a2p = (1.0 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    # Hue angles in degrees in [0, 360); 0 for achromatic colours (a' = b = 0).
    h1p = np.where((a1p == 0) & (b1 == 0), 0.0, np.degrees(np.arctan2(b1, a1p)) % 360.0)
    h2p = np.where((a2p == 0) & (b2 == 0), 0.0, np.degrees(np.arctan2(b2, a2p)) % 360.0)

    dlp = l2 - l1
    dcp = c2p - c1p
    chroma_product = c1p * c2p
    dhp = h2p - h1p
    dhp = np.where(dhp > 180.0, dhp - 360.0, dhp)
    dhp = np.where(dhp < -180.0, dhp + 360.0, dhp)
    dhp = np.where(chroma_product == 0, 0.0, dhp)
    d_hue = 2.0 * np.sqrt(chroma_product) * np.sin(np.radians(dhp) / 2.0)

    l_bar = (l1 + l2) / 2.0
    c_bar = (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) <= 180.0,
        h_sum / 2.0,
        np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0),
    )
    h_bar = np.where(chroma_product == 0, h_sum, h_bar)

    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_bar - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_bar))
        + 0.32 * np.cos(np.radians(3.0 * h_bar + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_bar - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_bar - 275.0) / 25.0) ** 2))
    c_bar7p = c_bar**7
    rc = 2.0 * np.sqrt(c_bar7p / (c_bar7p + 25.0**7))
    sl = 1.0 + 0.015 * (l_bar - 50.0) ** 2 / np.sqrt(20.0 + (l_bar - 50.0) ** 2)
    sc = 1.0 + 0.045 * c_bar
    sh = 1.0 + 0.015 * c_bar * t
    rt = -np.sin(np.radians(2.0 * d_theta)) * rc

    dl = dlp / (kl * sl)
    dc = dcp / (kc * sc)
    dh = d_hue / (kh * sh)
    return np.sqrt(dl**2 + dc**2 + dh**2 + rt * dc * dh)


def changed_mask(before: np.ndarray, after: np.ndarray, threshold: int = CHANGED_SUM) -> np.ndarray:
    """Pixels (bool, H x W) whose RGB values differ by more than ``threshold`` in total."""
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)).sum(axis=2)
    return diff > threshold


def placement_iou(changed: np.ndarray, expected: np.ndarray) -> float:
    """Intersection over union of the changed pixels and the expected clothing region."""
    union = int((changed | expected).sum())
    if union == 0:
        return 0.0
    return float((changed & expected).sum()) / union


def _mean_abs(before: np.ndarray, after: np.ndarray, where: np.ndarray) -> float:
    if not where.any():
        return 0.0
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16))
    return float(diff[where].mean())


def identity_delta(
    before: np.ndarray, after: np.ndarray, face_box: tuple[int, int, int, int]
) -> float:
    """Mean absolute difference (0-255, over pixels and channels) inside the face box."""
    left, top, right, bottom = face_box
    where = np.zeros(before.shape[:2], dtype=bool)
    where[max(0, top) : max(0, bottom), max(0, left) : max(0, right)] = True
    return _mean_abs(before, after, where)


def dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` grown by a disk of ``radius`` pixels."""
    if radius <= 0:
        return mask.copy()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def background_delta(
    before: np.ndarray, after: np.ndarray, person: np.ndarray, radius: int
) -> float:
    """Mean absolute difference (0-255) outside the person mask grown by ``radius`` pixels."""
    return _mean_abs(before, after, ~dilated(person, radius))


def median_lab(rgb: np.ndarray, where: np.ndarray) -> np.ndarray | None:
    """Per-channel median L*a*b* colour of the selected pixels; None when there are none."""
    pixels = rgb[where]
    if len(pixels) == 0:
        return None
    return np.median(rgb_to_lab(pixels[None])[0], axis=0)


def color_delta_e(
    product_rgb: np.ndarray,
    product_mask: np.ndarray,
    result_rgb: np.ndarray,
    garment_pixels: np.ndarray,
) -> float | None:
    """CIEDE2000 between the garment's median colour in its product photo and in the result.

    ``garment_pixels`` selects the garment in the result (typically the changed pixels, eroded
    so that feathered edges, half old clothes, do not count). None when either side is empty.
    """
    reference = median_lab(product_rgb, product_mask)
    worn = median_lab(result_rgb, garment_pixels)
    if reference is None or worn is None:
        return None
    return float(ciede2000(reference, worn))
