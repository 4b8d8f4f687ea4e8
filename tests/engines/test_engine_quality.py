"""The local engine holds the quality thresholds of ``tryon eval`` on real photos.

A subset of the shared samples (every person, a jacket and leggings), and a subset of photos
the engine was not developed on (the sample photos of the ``openvto`` package, a dev dependency;
skipped when it is not installed).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from engine_helpers import SAMPLES

from tryon.evaluation import metrics
from tryon.evaluation.runner import Report, run_eval


def _link(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for path in files:
        (folder / path.name).symlink_to(path)
    return folder


def _check(report: Report) -> None:
    summary = report.summary()
    assert summary["crashed"] == 0, [p for p in report.pairs if p.status == "crashed"]
    for pair in report.pairs:
        if pair.status == "failed":
            # Refusals are typed and explained.
            assert pair.code in ("CUSTOMER_IMAGE_UNUSABLE", "PRODUCT_IMAGE_UNUSABLE")
            assert pair.reason
            continue
        assert pair.identity_delta < metrics.MAX_IDENTITY_DELTA, pair
        assert pair.background_delta < metrics.MAX_BACKGROUND_DELTA, pair
        assert pair.color_delta_e < metrics.MAX_COLOR_DELTA_E, pair
        assert pair.placement_iou > 0.4, pair
    assert summary["mean"]["placement_iou"] >= metrics.MIN_MEAN_PLACEMENT_IOU
    assert summary["passed"]


def test_samples_subset_meets_the_thresholds(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    people = sorted((SAMPLES / "people").glob("*.jpg"))
    garments = [
        SAMPLES / "garments" / name for name in ("jackets-1-front.jpg", "pants-2-front.jpg")
    ]
    if not people or not all(g.is_file() for g in garments):
        pytest.skip("the shared samples are not available")
    report = run_eval(
        _link(people, tmp_path / "people"),
        _link(garments, tmp_path / "garments"),
        tmp_path / "out",
        engine=engine,
    )
    _check(report)
    # Trousers on a selfie that shows no legs are refused, with the reason.
    refused = [p for p in report.pairs if p.status == "failed"]
    assert [(p.person, p.garment, p.code) for p in refused] == [
        ("1_selfie.jpg", "pants-2-front.jpg", "CUSTOMER_IMAGE_UNUSABLE")
    ]


def _openvto_assets() -> Path:
    spec = importlib.util.find_spec("openvto")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("openvto (dev dependency with unseen sample photos) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets"


def test_unseen_photos_meet_the_thresholds(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assets = _openvto_assets()
    # People and garments that are not among the shared samples: a woman walking in a park with
    # other people behind her, a selfie with long hair over the shoulders; a short-sleeved
    # patterned shirt, straight black jeans.
    people = [assets / "people" / name for name in ("2_posture.jpg", "4_selfie.jpg")]
    garments = {
        "shirts-2-front.jpg": assets / "clothes" / "shirts" / "2_front.jpg",
        "pants-3-front.jpg": assets / "clothes" / "pants" / "3_front.jpg",
    }
    garment_dir = tmp_path / "garments"
    garment_dir.mkdir()
    for name, path in garments.items():
        (garment_dir / name).symlink_to(path)
    report = run_eval(
        _link(people, tmp_path / "people"), garment_dir, tmp_path / "out", engine=engine
    )
    _check(report)
    assert len(report.completed()) == 3  # no trousers on the selfie
