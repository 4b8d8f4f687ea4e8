"""Fuzzing the image intake with mutated JPEG/PNG/WebP/HEIC bytes: a catalog error or an image,
never another exception, never a hang, and bounded memory."""

from __future__ import annotations

import contextlib
import io
import resource
import time

import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tryon.errors import ApiError
from tryon.images.intake import IntakeLimits, process_customer_image

ALLOWED_CODES = {"INVALID_IMAGE", "UNSUPPORTED_IMAGE_TYPE", "FILE_TOO_LARGE"}
SECONDS_PER_INPUT = 2.0
MAX_GROWTH_MB = 200


def _seed(fmt: str) -> bytes:
    image = Image.new("RGB", (96, 120))
    for x in range(96):
        for y in range(0, 120, 7):
            image.putpixel((x, y), (x * 2, y * 2, 128))
    buffer = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif.from_pillow(image).save(buffer, quality=60)
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue()


SEEDS = {fmt: _seed(fmt) for fmt in ("JPEG", "PNG", "WEBP", "HEIF")}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "header"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        elif kind == "header" and len(data) > 32:
            # Rewrite bytes where dimensions and chunk lengths live: the classic bomb spots.
            spot = draw(st.integers(0, 31))
            data[spot : spot + 4] = draw(st.binary(min_size=4, max_size=4))
    return bytes(data)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def rss_before() -> float:
    # Warm up the decoders once so their own start-up allocations do not count as growth.
    for seed in SEEDS.values():
        process_customer_image(seed, crop=False)
    return _rss_mb()


def test_seeds_are_accepted() -> None:
    for fmt, seed in SEEDS.items():
        assert process_customer_image(seed, crop=False).width == 96, fmt


@given(data=mutated())
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_mutated_images_get_a_catalog_answer_quickly(data: bytes) -> None:
    started = time.perf_counter()
    try:
        processed = process_customer_image(data, crop=False, limits=IntakeLimits())
    except ApiError as error:
        assert error.code in ALLOWED_CODES, error.code
    else:
        decoded = Image.open(io.BytesIO(processed.jpeg))
        assert decoded.format == "JPEG" and decoded.mode == "RGB"
    assert time.perf_counter() - started < SECONDS_PER_INPUT


def test_memory_stays_bounded_after_fuzzing(rss_before: float) -> None:
    @given(data=mutated())
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    def run(data: bytes) -> None:
        with contextlib.suppress(ApiError):
            process_customer_image(data, crop=False)

    run()
    assert _rss_mb() - rss_before < MAX_GROWTH_MB
