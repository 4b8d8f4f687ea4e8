"""Shading transfer: folds of the old clothes carry over, their edges and colours do not."""

from __future__ import annotations

import cv2
import numpy as np

from tryon.engines.local.shading import apply_shading, shading_ratio


def _region() -> np.ndarray:
    region = np.zeros((600, 400), bool)
    region[100:550, 80:320] = True
    return region


def test_edges_between_old_clothes_do_not_print_through() -> None:
    # A dark jacket open over a white shirt, evenly lit.
    person = np.full((600, 400, 3), 200, np.uint8)
    person[100:550, 80:320] = (30, 35, 60)
    person[100:550, 170:230] = (245, 245, 245)
    ratio = shading_ratio(person, _region())
    inside = ratio[_region()]
    assert np.percentile(np.abs(inside - 1.0), 99) < 0.04
    assert np.all(ratio[~_region()] == 1.0)


def test_a_fold_darkens_the_new_garment_there() -> None:
    person = np.full((600, 400, 3), 200, np.uint8)
    person[100:550, 80:320] = (150, 150, 150)
    # A soft diagonal fold, a quarter darker at its middle.
    yy, xx = np.mgrid[0:600, 0:400].astype(np.float32)
    fold = np.exp(-(((xx - 0.3 * yy - 120) / 16.0) ** 2))
    shaded = person.astype(np.float32) * (1.0 - 0.25 * fold[..., None])
    person = np.clip(shaded, 0, 255).astype(np.uint8)
    ratio = shading_ratio(person, _region())
    on_fold = (fold > 0.9) & _region()
    away = (fold < 0.01) & cv2.erode(_region().astype(np.uint8), np.ones((31, 31))).astype(bool)
    assert ratio[on_fold].mean() < 0.9
    assert abs(float(np.median(ratio[away])) - 1.0) < 0.03
    # The garment keeps its colour overall; only the fold gets darker.
    garment = np.full((600, 400, 3), (40, 90, 200), np.uint8)
    result = apply_shading(garment, ratio)
    assert np.abs(np.median(result[_region()], axis=0) - (40, 90, 200)).max() <= 3
    assert result[on_fold].mean() < garment[on_fold].mean() - 5
