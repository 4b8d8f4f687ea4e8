"""Folds and light of the person's own clothes, carried over onto the new garment.

A product photo is lit flat; the person's photo has folds, creases and a side turned from the
light. That shading is the lightness of the old clothes *relative to the cloth's own lightness*:
the cloth's lightness ("base") is a grey-level closing and opening wider than folds, so a white
shirt under a dark jacket each keep their own base while folds are filled in, and the ratio of
the lightly smoothed lightness to it is near 1 on both sides of their edge -- the edge does not
print through the new garment. What is left, a fold darker than the cloth around it, is
multiplied onto the garment. Steep lightness steps (edges of the old clothes, logos, seams) are
masked out and filled from around them, the ratio is clamped and its median kept at 1, so the
garment keeps its colour overall.
"""

from __future__ import annotations

import cv2
import numpy as np

# Folds narrower than about twice this share of the image's long side are measured against the
# cloth around them.
BASE_SCALE = 0.03
# Folds are measured after smoothing over this share of the long side (knit and noise are finer).
DETAIL_SCALE = 0.004
# A lightness step steeper than this (luma per pixel at a 1024 px long side) is an edge of the old
# clothes, not a fold.
EDGE_GRADIENT = 3.0
# Ratios are clamped to this range (deep creases still show, nothing turns black or glows).
RATIO_RANGE = (0.72, 1.15)
# How much of the measured shading is applied.
STRENGTH = 0.8
_DARK_OFFSET = 10.0
# Cloth darker than the first luma (0-100) passes on no shading, lighter than the second all of it.
DARK_CLOTH = (15.0, 40.0)


def shading_ratio(person_rgb: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Multiplicative shading (H, W) float32 of the old clothes in ``region`` (bool); 1 outside."""
    height, width = region.shape
    ratio = np.ones((height, width), dtype=np.float32)
    if region.sum() < 100:
        return ratio
    side = max(height, width)
    ys, xs = np.nonzero(region)
    pad = max(4, int(0.02 * side))
    y0, x0 = max(0, ys.min() - pad), max(0, xs.min() - pad)
    y1, x1 = min(height, ys.max() + 1 + pad), min(width, xs.max() + 1 + pad)
    crop = region[y0:y1, x0:x1]
    rgb = person_rgb[y0:y1, x0:x1].astype(np.float32) / 255.0
    # Luma (0-100) of the gamma-encoded photo: the garment's gamma-encoded colours are multiplied
    # by its ratio, so a fold 20 % darker in the photo makes the garment 20 % darker there.
    lightness = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) * 100.0

    # The cloth's own lightness ("base"): a grey-level closing then opening at a scale wider than
    # folds, which fills narrow dark valleys (folds, creases) and trims narrow highlights but keeps
    # the steps between differently coloured clothes in place. Computed at a quarter of the size;
    # pixels outside the region are filled from the region around them first.
    factor = 4
    small_size = (max(1, (x1 - x0) // factor), max(1, (y1 - y0) // factor))
    small_l = cv2.resize(lightness, small_size, interpolation=cv2.INTER_AREA)
    small_in = (
        cv2.resize(crop.astype(np.float32), small_size, interpolation=cv2.INTER_AREA) > 0.5
    ).astype(np.float32)
    fill_sigma = max(2.0, BASE_SCALE * side / factor)
    filled = cv2.GaussianBlur(small_l * small_in, (0, 0), fill_sigma) / np.maximum(
        cv2.GaussianBlur(small_in, (0, 0), fill_sigma), 1e-4
    )
    small_l = np.where(small_in > 0, small_l, filled).astype(np.float32)
    radius = max(1, int(BASE_SCALE * side / factor))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    base_small = cv2.morphologyEx(small_l, cv2.MORPH_CLOSE, kernel)
    base_small = cv2.morphologyEx(base_small, cv2.MORPH_OPEN, kernel)
    base = cv2.resize(base_small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)

    # Folds: the lightness, lightly smoothed (no knit, no noise), relative to the base.
    weight = crop.astype(np.float32)
    sigma = max(1.0, DETAIL_SCALE * side)
    detail = cv2.GaussianBlur(lightness * weight, (0, 0), sigma) / np.maximum(
        cv2.GaussianBlur(weight, (0, 0), sigma), 1e-4
    )
    raw = (detail + _DARK_OFFSET) / (np.maximum(base, 0.0) + _DARK_OFFSET)

    # Along the edges of the old clothes (a shirt under a jacket, a logo) the base lags behind the
    # step and the ratio is meaningless: mask them out and fill them from around.
    smooth_l = cv2.GaussianBlur(lightness, (0, 0), 1.5)
    gx = cv2.Sobel(smooth_l, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(smooth_l, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    edges = (np.hypot(gx, gy) * (1024.0 / side)) > EDGE_GRADIENT
    band = factor + max(1, int(0.004 * side))
    edges = cv2.dilate(edges.astype(np.uint8), np.ones((2 * band + 1,) * 2, np.uint8)) > 0
    trusted = (crop & ~edges).astype(np.float32)
    clamped = np.clip(raw, *RATIO_RANGE)
    fill_sigma = 3.0 * sigma + band
    blurred = cv2.GaussianBlur(clamped * trusted, (0, 0), sigma)
    norm = cv2.GaussianBlur(trusted, (0, 0), sigma)
    wide = cv2.GaussianBlur(clamped * trusted, (0, 0), fill_sigma) / np.maximum(
        cv2.GaussianBlur(trusted, (0, 0), fill_sigma), 1e-4
    )
    wide_norm = cv2.GaussianBlur(trusted, (0, 0), fill_sigma)
    wide = np.where(wide_norm > 1e-3, wide, 1.0)
    confident = np.clip(norm / 0.6, 0.0, 1.0)
    smooth = blurred / np.maximum(norm, 1e-4) * confident + wide * (1.0 - confident)
    smooth = np.clip(np.where(np.isfinite(smooth), smooth, 1.0), *RATIO_RANGE)
    # Shading moves light around; it must not make the garment darker or lighter overall.
    smooth = smooth / max(float(np.median(smooth[crop])), 1e-3)
    # On dark cloth the ratio is mostly knit and noise (and folds barely show): fade it out.
    trust = np.clip((base - DARK_CLOTH[0]) / (DARK_CLOTH[1] - DARK_CLOTH[0]), 0.0, 1.0)
    trust = cv2.GaussianBlur(trust.astype(np.float32), (0, 0), sigma)
    shaded = 1.0 + STRENGTH * trust * (np.clip(smooth, *RATIO_RANGE) - 1.0)
    ratio[y0:y1, x0:x1] = np.where(crop, shaded, 1.0).astype(np.float32)
    return ratio


def apply_shading(garment_rgb: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Multiply the garment's colours by the shading ratio (uint8 in, uint8 out)."""
    shaded = garment_rgb.astype(np.float32) * ratio[..., None]
    return np.clip(shaded + 0.5, 0, 255).astype(np.uint8)
