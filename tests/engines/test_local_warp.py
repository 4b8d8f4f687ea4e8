"""The thin-plate-spline warp."""

from __future__ import annotations

import numpy as np

from tryon.engines.local.warp import ThinPlateSpline, warp_to_body


def test_spline_interpolates_its_points_and_is_affine_for_affine_data() -> None:
    rng = np.random.default_rng(1)
    source = rng.uniform(0, 500, (9, 2))
    matrix = np.array([[1.2, 0.1], [-0.2, 0.9]])
    target = source @ matrix.T + np.array([30.0, -12.0])
    spline = ThinPlateSpline(source, target)
    assert np.allclose(spline(source), target, atol=1e-6)
    probe = rng.uniform(0, 500, (20, 2))
    assert np.allclose(spline(probe), probe @ matrix.T + np.array([30.0, -12.0]), atol=1e-6)


def test_warp_moves_a_square() -> None:
    garment = np.zeros((100, 100, 3), np.uint8)
    garment[20:60, 20:60] = (200, 50, 50)
    alpha = np.zeros((100, 100), np.float32)
    alpha[20:60, 20:60] = 1.0
    corners_g = np.array([[20, 20], [60, 20], [60, 60], [20, 60]], np.float32)
    # Twice the size, 100 px to the right and 50 down.
    corners_b = corners_g * 2 + np.array([100, 50], np.float32)
    rgb, out_alpha = warp_to_body(garment, alpha, corners_b, corners_g, (300, 250))
    assert out_alpha.shape == (250, 300)
    assert out_alpha[95:165, 145:215].min() > 0.99
    assert out_alpha[:40].max() == 0.0
    assert tuple(rgb[100, 180]) == (200, 50, 50)
