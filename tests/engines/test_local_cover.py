"""Old clothes showing beside or below the new garment are covered with its own texture."""

from __future__ import annotations

import numpy as np
from engine_helpers import sample_image
from PIL import Image

from tryon.engines.base import TryOnInput
from tryon.engines.local import engine as engine_module
from tryon.engines.local.cover import enclosed_gaps, extend_over


def test_extension_takes_the_fabric_inside_the_edge_band() -> None:
    height, width = 200, 100
    layer = np.zeros((height, width, 3), np.uint8)
    layer[:, :] = (200, 40, 40)  # fabric
    layer[95:100] = (10, 10, 10)  # a dark hem seam along the garment's lower edge
    alpha = np.zeros((height, width), np.float32)
    alpha[:100] = 1.0
    hide = np.zeros((height, width), bool)
    hide[100:130, 20:80] = True  # the old, longer top below the hem
    out_layer, out_alpha = extend_over(layer, alpha, hide, shoulder_width=200.0)
    assert out_alpha[100:130, 20:80].min() == 1.0
    assert out_alpha[140:].max() == 0.0  # nothing beyond what was to hide
    # The hem seam is stepped over, not copied downwards.
    assert (out_layer[100:130, 20:80] == (200, 40, 40)).all(axis=2).mean() > 0.95
    assert np.array_equal(out_layer[:100], layer[:100])


def test_extension_reaches_only_near_the_garment() -> None:
    layer = np.full((400, 100, 3), 128, np.uint8)
    alpha = np.zeros((400, 100), np.float32)
    alpha[:100] = 1.0
    hide = np.zeros((400, 100), bool)
    hide[100:400] = True
    _layer, out_alpha = extend_over(layer, alpha, hide, shoulder_width=100.0)
    assert out_alpha[110].min() == 1.0
    assert out_alpha[300].max() == 0.0  # far below: left alone


def test_small_pockets_inside_the_garment_are_closed() -> None:
    covered = np.zeros((100, 100), bool)
    covered[10:90, 10:90] = True
    covered[40:45, 50:53] = False  # a sliver between sleeve and body
    allowed = np.ones((100, 100), bool)
    gaps = enclosed_gaps(covered, allowed)
    assert gaps[40:45, 50:53].all()
    assert not gaps[0:5].any()  # outside the garment: not a pocket
    assert gaps.sum() == 15


def test_a_short_tee_hides_the_long_hoodie_under_its_hem(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    person = sample_image("people", "1_posture.jpg")
    tee = sample_image("garments", "shirts-3-front.jpg")
    # Crop the tee's photo: a cropped tee, much shorter than the hoodie.
    tee = tee.crop((0, 0, tee.width, int(tee.height * 0.62)))
    tee = Image.fromarray(np.vstack([np.asarray(tee), np.full((200, tee.width, 3), 238, np.uint8)]))
    covered_with = engine.generate(TryOnInput(person, [tee], "Cropped tee"))

    monkeypatch.setattr(engine_module, "extend_over", lambda layer, alpha, *_: (layer, alpha))
    without = engine.generate(TryOnInput(person, [tee], "Cropped tee"))
    before = np.asarray(person).astype(np.int16)

    def changed(result: Image.Image) -> int:
        return int((np.abs(np.asarray(result).astype(np.int16) - before).sum(axis=2) > 9).sum())

    assert changed(covered_with) > changed(without) * 1.03
