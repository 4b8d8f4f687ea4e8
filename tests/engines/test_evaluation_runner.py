"""``tryon eval``'s runner: typed refusals are reported, crashes are counted, files are written."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from engine_helpers import tee_shape
from PIL import Image
from typer.testing import CliRunner

from tryon.engines.base import EngineError, TryOnInput
from tryon.evaluation.regions import ReferenceBody, expected_region
from tryon.evaluation.runner import run_eval, title_from_path


class _FakeEngine:
    """Paints a rectangle for tees, refuses caps, and crashes on anything called 'bomb'."""

    def generate(self, request: TryOnInput) -> Image.Image:
        title = request.product_title or ""
        if "cap" in title:
            raise EngineError("PRODUCT_IMAGE_UNUSABLE", "accessories are not dressed")
        if "bomb" in title:
            raise RuntimeError("boom")
        result = np.asarray(request.person_image).copy()
        result[100:200, 60:140] = (40, 90, 200)
        return Image.fromarray(result)


def _write_inputs(root: Path) -> tuple[Path, Path]:
    people, garments = root / "people", root / "garments"
    people.mkdir()
    (garments / "tops").mkdir(parents=True)
    Image.new("RGB", (200, 300), (200, 200, 200)).save(people / "blank.jpg")
    tee = np.full((256, 256, 3), 238, np.uint8)
    cv2.fillPoly(tee, [tee_shape(256)], (40, 90, 200))
    for name in ("tee.png", "cap.png", "bomb.png"):
        Image.fromarray(tee).save(garments / "tops" / name)
    return people, garments


def test_refusals_and_crashes_are_reported_not_raised(tmp_path: Path) -> None:
    people, garments = _write_inputs(tmp_path)
    report = run_eval(people, garments, tmp_path / "out", engine=_FakeEngine())
    by_garment = {p.garment: p for p in report.pairs}
    assert by_garment["tops/cap.png"].status == "failed"
    assert by_garment["tops/cap.png"].code == "PRODUCT_IMAGE_UNUSABLE"
    assert by_garment["tops/cap.png"].reason == "accessories are not dressed"
    assert by_garment["tops/bomb.png"].status == "crashed"
    assert by_garment["tops/tee.png"].status == "completed"
    assert Path(by_garment["tops/tee.png"].result_path).is_file()
    summary = report.summary()
    assert (summary["completed"], summary["failed"], summary["crashed"]) == (1, 1, 1)
    assert not summary["checks"]["no_crash"]
    assert not summary["passed"]
    assert (tmp_path / "out" / "contact-sheet.png").is_file()
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert len(saved["pairs"]) == 3


def test_cli_eval_prints_json_and_exits_1_on_a_crash(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tryon import cli
    from tryon.evaluation import runner

    people, garments = _write_inputs(tmp_path)
    original = runner.run_eval
    monkeypatch.setattr(
        runner, "run_eval", lambda *a, **k: original(*a, **{**k, "engine": _FakeEngine()})
    )
    result = CliRunner().invoke(
        cli.app, ["eval", str(people), str(garments), "--out", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["summary"]["crashed"] == 1


def test_title_from_path() -> None:
    root = Path("/g")
    assert title_from_path(Path("/g/jackets-1-front.jpg"), root) == "jackets 1 front"
    assert title_from_path(Path("/g/shirts/2_back.jpg"), root) == "shirts 2 back"


def _standing_body() -> ReferenceBody:
    """A synthetic frontal person, 400 x 800, arms hanging."""
    lm = np.zeros((33, 2))
    points = {
        0: (200, 100),
        11: (250, 200),
        12: (150, 200),
        13: (265, 300),
        14: (135, 300),
        15: (270, 390),
        16: (130, 390),
        23: (230, 420),
        24: (170, 420),
        25: (232, 580),
        26: (168, 580),
        27: (234, 740),
        28: (166, 740),
    }
    for i in range(1, 11):
        lm[i] = (200 + (i % 3 - 1) * 15, 95)
    for index, point in points.items():
        lm[index] = point
    visibility = np.zeros(33)
    visibility[list(points)] = 1.0
    person = np.zeros((800, 400), bool)
    person[60:780, 100:300] = True
    return ReferenceBody(lm, visibility, person, (170, 70, 230, 130), 400, 800)


def test_expected_regions_follow_the_category() -> None:
    body = _standing_body()
    top = expected_region(body, "top-long")
    bottom = expected_region(body, "bottom-long")
    # A top covers the chest, not the shins; trousers the shins, not the chest; neither the face.
    assert top[300, 200] and not top[650, 200]
    assert bottom[650, 168] and not bottom[300, 200]
    assert not top[100, 200] and not bottom[100, 200]
    # They are far from each other: a top drawn where trousers belong scores badly.
    overlap = (top & bottom).sum() / (top | bottom).sum()
    assert overlap < 0.3
    short = expected_region(body, "top-short")
    assert short.sum() < top.sum()
    assert top[350, 132] and not short[350, 132]  # the forearm
