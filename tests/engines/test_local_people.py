"""Photos with several people: the subject is the clearly prominent or central one, else refused."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import sample_image
from PIL import Image

from tryon.engines.base import EngineError, TryOnInput
from tryon.engines.local.people import Face, choose_subject


def _face(cx: float, width: float) -> Face:
    return Face((cx - width / 2, 100, cx + width / 2, 100 + width), 0.9)


def test_one_prominent_face_is_the_subject_whatever_its_place() -> None:
    passer_by = _face(500, 20)
    subject = _face(150, 60)
    assert choose_subject([passer_by, subject], 1000) is subject
    assert choose_subject([], 1000) is None


def test_the_clearly_central_one_of_several_is_the_subject() -> None:
    centre = _face(510, 60)
    assert choose_subject([_face(150, 60), centre, _face(850, 58)], 1000) is centre


def test_several_people_with_none_central_are_refused() -> None:
    with pytest.raises(EngineError) as error:
        choose_subject([_face(300, 60), _face(700, 60)], 1000)
    assert error.value.code == "CUSTOMER_IMAGE_UNUSABLE"
    assert "2 people" in error.value.message


def _side_by_side(*images: Image.Image) -> Image.Image:
    strip = Image.new("RGB", (sum(i.width for i in images), images[0].height))
    x = 0
    for image in images:
        strip.paste(image, (x, 0))
        x += image.width
    return strip


def test_two_people_side_by_side_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    person = sample_image("people", "1_posture.jpg")
    tee = sample_image("garments", "shirts-3-front.jpg")
    with pytest.raises(EngineError) as error:
        engine.generate(TryOnInput(_side_by_side(person, person), [tee], "White T-shirt"))
    assert error.value.code == "CUSTOMER_IMAGE_UNUSABLE"


def test_the_person_in_the_middle_of_three_is_dressed(engine) -> None:  # type: ignore[no-untyped-def]
    person = sample_image("people", "1_posture.jpg")
    tee = sample_image("garments", "shirts-3-front.jpg")
    group = _side_by_side(person, person, person)
    result = engine.generate(TryOnInput(group, [tee], "White T-shirt"))
    changed = np.abs(np.asarray(result).astype(int) - np.asarray(group)).sum(axis=2) > 9
    _, xs = np.nonzero(changed)
    assert xs.size > 0.01 * changed.size / 3
    assert xs.min() >= person.width and xs.max() < 2 * person.width
