"""Dungarees / overalls: the bib is found, and dressed on the chest with straps to the shoulders."""

from __future__ import annotations

import cv2
import numpy as np
from engine_helpers import sample_image, trousers_shape
from PIL import Image

from tryon.engines.base import TryOnInput
from tryon.engines.local.pose import detect_pose
from tryon.engines.local.shape import analyse_bottom, find_bib


def _dungarees_mask(size: int = 512) -> np.ndarray:
    """Flat-laid dungarees: straps, a bib half as wide as the hips, then trousers."""
    mask = np.zeros((size, size), np.uint8)
    s = size / 512.0
    legs = trousers_shape(size).astype(np.float32)
    legs[:, 1] = 150 * s + (legs[:, 1] - 40 * s) * 0.75  # trousers from y=150 down
    cv2.fillPoly(mask, [legs.round().astype(np.int32)], 1)
    bib = np.array([(215, 70), (297, 70), (310, 155), (202, 155)], np.float32) * s
    cv2.fillPoly(mask, [bib.round().astype(np.int32)], 1)
    for x in (222, 282):  # straps
        cv2.rectangle(
            mask, (round((x - 5) * s), round(20 * s)), (round((x + 5) * s), round(75 * s)), 1, -1
        )
    return mask.astype(bool)


def test_bib_is_found_on_dungarees_only() -> None:
    bib = find_bib(_dungarees_mask())
    assert bib is not None
    assert 140 <= bib.waist_y <= 160
    assert 60 <= bib.top[:, 1].mean() <= 80
    assert bib.straps[0, 0] < 256 < bib.straps[1, 0]
    assert bib.straps[:, 1].max() < 30
    trousers = np.zeros((512, 512), np.uint8)
    cv2.fillPoly(trousers, [trousers_shape()], 1)
    assert find_bib(trousers.astype(bool)) is None
    # The trousers' own landmarks start at the waistband, below the bib.
    shape = analyse_bottom(_dungarees_mask())
    assert shape.bib is not None
    assert shape.waist[:, 1].min() >= bib.waist_y
    assert shape.crotch is not None


def test_dungarees_cover_the_chest_over_the_top(engine) -> None:  # type: ignore[no-untyped-def]
    person = sample_image("people", "3_posture.jpg")
    product = np.full((512, 512, 3), 238, np.uint8)
    product[_dungarees_mask()] = (70, 110, 170)
    result = engine.generate(TryOnInput(person, [Image.fromarray(product)], "Denim dungarees"))
    before = np.asarray(person).astype(np.int16)
    changed = np.abs(np.asarray(result).astype(np.int16) - before).sum(axis=2) > 9
    pose = detect_pose(np.asarray(person))
    assert pose is not None
    shoulder_y = float(pose.landmarks[[11, 12], 1].mean())
    hip_y = float(pose.landmarks[[23, 24], 1].mean())
    cx = round(float(pose.landmarks[[11, 12, 23, 24], 0].mean()))
    # The bib is on the belly and the chest (over the sweater), the legs below the hips.
    chest = changed[
        round(shoulder_y + 0.4 * (hip_y - shoulder_y)) : round(hip_y), cx - 10 : cx + 10
    ]
    assert chest.mean() > 0.8
    assert changed[round(hip_y) + 50 :].sum() > 0.02 * changed.size
