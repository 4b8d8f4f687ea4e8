"""The evaluation metrics, each on a case it must pass and a case it must fail."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.evaluation import metrics
from tryon.evaluation.metrics import ciede2000

# Sharma, Wu and Dalal (2005), Table 1: L1 a1 b1, L2 a2 b2, CIEDE2000 (rounded to 4 digits).
SHARMA = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


def test_ciede2000_matches_sharma_reference_pairs() -> None:
    data = np.array(SHARMA)
    computed = ciede2000(data[:, 0:3], data[:, 3:6])
    assert np.allclose(computed, data[:, 6], atol=1e-4)
    # Symmetric, and zero for identical colours.
    assert np.allclose(ciede2000(data[:, 3:6], data[:, 0:3]), data[:, 6], atol=1e-4)
    assert np.allclose(ciede2000(data[:, 0:3], data[:, 0:3]), 0.0)


def test_ciede2000_of_a_scalar_pair() -> None:
    assert float(ciede2000(np.array([50.0, 2.5, 0.0]), np.array([58.0, 24.0, 15.0]))) == (
        pytest.approx(19.4535, abs=1e-4)
    )


def _photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (120, 100, 3), dtype=np.uint8)


def test_placement_iou_passes_on_the_region_and_fails_beside_it() -> None:
    expected = np.zeros((120, 100), bool)
    expected[40:100, 20:80] = True
    assert metrics.placement_iou(expected.copy(), expected) == 1.0
    shifted = np.roll(expected, 45, axis=1)
    assert metrics.placement_iou(shifted, expected) < metrics.MIN_MEAN_PLACEMENT_IOU
    assert metrics.placement_iou(np.zeros_like(expected), np.zeros_like(expected)) == 0.0


def test_changed_mask_ignores_tiny_edits_only() -> None:
    before = _photo()
    after = before.copy()
    after[10, 10] = np.clip(after[10, 10].astype(int) + 2, 0, 255)  # rounding of an edge
    after[50:60, 50:60] = 255 - after[50:60, 50:60]
    changed = metrics.changed_mask(before, after)
    assert not changed[10, 10]
    assert changed[50:60, 50:60].mean() > 0.9
    assert changed.sum() <= 100


def test_identity_delta_passes_when_the_face_is_kept_and_fails_when_painted() -> None:
    before = _photo()
    box = (30, 10, 70, 40)
    after = before.copy()
    after[60:, :] = 0  # the clothes change, the face does not
    assert metrics.identity_delta(before, after, box) == 0.0
    painted = before.copy()
    painted[10:40, 30:70] = (painted[10:40, 30:70] // 2) + 60
    assert metrics.identity_delta(before, painted, box) >= metrics.MAX_IDENTITY_DELTA


def test_background_delta_passes_inside_the_person_and_fails_outside() -> None:
    before = _photo()
    person = np.zeros((120, 100), bool)
    person[20:110, 35:65] = True
    inside = before.copy()
    inside[30:100, 40:60] = 0
    assert metrics.background_delta(before, inside, person, radius=3) == 0.0
    spilled = before.copy()
    spilled[:, :30] = 0  # a garment painted over the background beside the person
    assert metrics.background_delta(before, spilled, person, radius=3) >= (
        metrics.MAX_BACKGROUND_DELTA
    )


def test_color_delta_e_passes_for_the_same_colour_and_fails_for_another() -> None:
    product = np.full((60, 60, 3), 240, np.uint8)
    product[10:50, 10:50] = (40, 90, 200)
    product_mask = np.zeros((60, 60), bool)
    product_mask[10:50, 10:50] = True
    result = np.full((80, 80, 3), 128, np.uint8)
    worn = np.zeros((80, 80), bool)
    worn[20:60, 20:60] = True
    result[worn] = (42, 92, 198)
    assert metrics.color_delta_e(product, product_mask, result, worn) < 2.0
    result[worn] = (200, 60, 40)
    assert metrics.color_delta_e(product, product_mask, result, worn) >= metrics.MAX_COLOR_DELTA_E
    assert metrics.color_delta_e(product, product_mask, result, np.zeros_like(worn)) is None
