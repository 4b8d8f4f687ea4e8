"""The local engine end to end: typed errors, and what the try-on does to the sample photos."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest
from engine_helpers import sample_image, tee_shape
from PIL import Image

from tryon.engines.base import EngineError, TryOnInput
from tryon.engines.local import pose as mp_pose
from tryon.engines.local.garment import cut_out_garment
from tryon.engines.local.pose import detect_pose
from tryon.evaluation.regions import landmark_face_box

PEOPLE = ["1_posture.jpg", "1_selfie.jpg", "3_posture.jpg"]
TOPS = [
    ("jackets-1-front.jpg", "Denim trucker jacket"),
    ("jackets-3-front.jpg", "Athletic Dept quarter-zip sweatshirt"),
    ("shirts-1-front.jpg", "Light blue Oxford shirt"),
    ("shirts-1-back.jpg", "Light blue Oxford shirt"),
    ("shirts-3-front.jpg", "White heavyweight T-shirt"),
    ("shirts-4-front.jpg", "Black distressed tee"),
]


def _synthetic_product(colour: tuple[int, int, int] = (40, 90, 200)) -> Image.Image:
    image = np.full((512, 512, 3), 238, np.uint8)
    cv2.fillPoly(image, [tee_shape()], colour)
    return Image.fromarray(image)


def test_blank_person_photo_is_unusable(engine) -> None:  # type: ignore[no-untyped-def]
    person = Image.new("RGB", (600, 800), (200, 200, 200))
    with pytest.raises(EngineError) as error:
        engine.generate(TryOnInput(person, [_synthetic_product()], "T-shirt"))
    assert error.value.code == "CUSTOMER_IMAGE_UNUSABLE"


def test_accessory_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    person = Image.new("RGB", (600, 800), (200, 200, 200))
    with pytest.raises(EngineError) as error:
        engine.generate(TryOnInput(person, [_synthetic_product()], "Baseball cap"))
    assert error.value.code == "PRODUCT_IMAGE_UNUSABLE"


def test_product_photo_without_garment_is_unusable(engine) -> None:  # type: ignore[no-untyped-def]
    person = Image.new("RGB", (600, 800), (200, 200, 200))
    empty = Image.new("RGB", (512, 512), (240, 240, 240))
    with pytest.raises(EngineError) as error:
        engine.generate(TryOnInput(person, [empty], "T-shirt"))
    assert error.value.code == "PRODUCT_IMAGE_UNUSABLE"


def test_no_product_photo_is_unusable(engine) -> None:  # type: ignore[no-untyped-def]
    person = Image.new("RGB", (600, 800), (200, 200, 200))
    with pytest.raises(EngineError) as error:
        engine.generate(TryOnInput(person, [], "T-shirt"))
    assert error.value.code == "PRODUCT_IMAGE_UNUSABLE"


@functools.cache
def _geometry(person_name: str) -> dict[str, object]:
    """Independent reference geometry of a sample photo (MediaPipe directly)."""
    person = np.asarray(sample_image("people", person_name))
    pose = detect_pose(person)
    assert pose is not None
    lm = pose.landmarks
    height, width = person.shape[:2]
    shoulders = lm[[mp_pose.LEFT_SHOULDER, mp_pose.RIGHT_SHOULDER]]
    hips = lm[[mp_pose.LEFT_HIP, mp_pose.RIGHT_HIP]]
    sw = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    hips_seen = all(pose.visible(i) for i in (mp_pose.LEFT_HIP, mp_pose.RIGHT_HIP)) and bool(
        hips[:, 1].max() < height
    )
    hip_y = float(hips[:, 1].mean()) if hips_seen else float(height)
    face_box = landmark_face_box(lm, width, height)
    person_mask = pose.mask >= 0.5
    # "Far outside the person": more than 3 % of the image away from the silhouette.
    grow = int(0.03 * max(height, width)) | 1
    near = cv2.dilate(person_mask.astype(np.uint8), np.ones((grow, grow), np.uint8)) > 0
    return {
        "shoulder_x": (float(shoulders[:, 0].min()), float(shoulders[:, 0].max())),
        "shoulder_y": float(shoulders[:, 1].mean()),
        "sw": sw,
        "hip_y": hip_y,
        "face_box": face_box,
        "far": ~near,
    }


@functools.cache
def _garment_colour(garment_name: str) -> np.ndarray:
    cutout = cut_out_garment(np.asarray(sample_image("garments", garment_name)))
    assert cutout is not None
    return np.median(cutout.rgb[cutout.mask], axis=0).astype(np.float32)


@pytest.mark.parametrize("person_name", PEOPLE)
@pytest.mark.parametrize(("garment_name", "title"), TOPS)
def test_top_sits_on_the_torso(engine, person_name, garment_name, title) -> None:  # type: ignore[no-untyped-def]
    person_image = sample_image("people", person_name)
    product = sample_image("garments", garment_name)
    result = engine.generate(TryOnInput(person_image, [product], title))

    assert result.mode == "RGB"
    assert result.size == person_image.size
    before = np.asarray(person_image).astype(np.int16)
    after = np.asarray(result).astype(np.int16)
    diff = np.abs(after - before).sum(axis=2)
    geo = _geometry(person_name)

    # Background well away from the person and the face are untouched.
    assert diff[geo["far"]].mean() / 3 < 2
    x0, y0, x1, y1 = geo["face_box"]
    assert diff[y0:y1, x0:x1].mean() / 3 < 2

    # The garment is there, and on the torso: between the shoulders and the hips. (Untouched
    # pixels are bit-identical, so a small threshold separates changed ones even for a black
    # tee over a dark sweater.)
    changed = diff > 6
    assert changed.mean() > 0.02
    sw = geo["sw"]
    top = geo["shoulder_y"] - 0.5 * sw
    bottom = geo["hip_y"] + 0.8 * sw
    lo, hi = geo["shoulder_x"]
    ys, xs = np.nonzero(changed)
    in_band = (ys >= top) & (ys <= bottom) & (xs >= lo - 0.6 * sw) & (xs <= hi + 0.6 * sw)
    assert in_band.mean() > 0.9
    # ... covering most of the torso box itself.
    torso_top = int(max(0, geo["shoulder_y"]))
    torso_bottom = int(min(diff.shape[0], geo["hip_y"]))
    torso = changed[torso_top:torso_bottom, int(lo + 0.1 * sw) : int(hi - 0.1 * sw)]
    assert torso.mean() > 0.5

    # The garment keeps its colour: what changed looks like the product.
    pixels = after[changed].astype(np.float32)
    median = np.median(pixels, axis=0)
    assert np.linalg.norm(median - _garment_colour(garment_name)) < 40


def test_trousers_go_on_the_legs(engine) -> None:  # type: ignore[no-untyped-def]
    person_image = sample_image("people", "3_posture.jpg")
    product = sample_image("garments", "pants-2-front.jpg")
    result = engine.generate(TryOnInput(person_image, [product], "Black leggings"))
    assert result.size == person_image.size
    before = np.asarray(person_image).astype(np.int16)
    after = np.asarray(result).astype(np.int16)
    diff = np.abs(after - before).sum(axis=2)
    geo = _geometry("3_posture.jpg")
    assert diff[geo["far"]].mean() / 3 < 2
    changed = diff > 6
    ys, _ = np.nonzero(changed)
    # On the legs: below the waist (a little above the hip joints).
    assert ys.size > 0.02 * diff.size
    assert (ys > geo["hip_y"] - 0.5 * geo["sw"]).mean() > 0.95
    median = np.median(after[changed].astype(np.float32), axis=0)
    assert np.linalg.norm(median - _garment_colour("pants-2-front.jpg")) < 40


def test_skirt_hangs_from_the_waist(engine) -> None:  # type: ignore[no-untyped-def]
    person_image = sample_image("people", "3_posture.jpg")
    skirt = np.full((1024, 1024, 3), 238, np.uint8)
    cv2.fillPoly(
        skirt, [np.array([(380, 150), (644, 150), (720, 600), (304, 600)], np.int32)], (150, 30, 60)
    )
    result = engine.generate(TryOnInput(person_image, [Image.fromarray(skirt)], "Pleated skirt"))
    diff = np.abs(np.asarray(result).astype(np.int16) - np.asarray(person_image)).sum(axis=2)
    geo = _geometry("3_posture.jpg")
    ys, _ = np.nonzero(diff > 6)
    assert ys.size > 0.01 * diff.size
    assert (ys > geo["hip_y"] - 0.5 * geo["sw"]).mean() > 0.95
    assert diff[geo["far"]].mean() / 3 < 2


def test_trousers_need_visible_legs(engine) -> None:  # type: ignore[no-untyped-def]
    person_image = sample_image("people", "1_selfie.jpg")
    product = sample_image("garments", "pants-1-front.jpg")
    with pytest.raises(EngineError) as error:
        engine.generate(TryOnInput(person_image, [product], "Slim jeans"))
    assert error.value.code == "CUSTOMER_IMAGE_UNUSABLE"
    assert "legs" in error.value.message
