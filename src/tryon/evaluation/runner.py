"""``tryon eval``: every person x garment pair through the local engine, measured.

The engine is called directly (no server, no queue). Each pair ends in one of three states:

- ``completed``: the result is written and measured;
- ``failed``: the engine refused the pair with a typed ``EngineError`` (its code and reason are
  reported; a refusal is an answer, not a crash -- e.g. trousers on a selfie that shows no legs);
- ``crashed``: any other exception, which is a bug.

The product title the engine sees is made from the garment's file name and folders
(``jackets-1-front.jpg`` -> "jackets 1 front"), so name garment photos by what they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from tryon.evaluation import metrics
from tryon.evaluation.regions import Coverage, ReferenceBody, expected_region, reference_body

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# Outside the person mask grown by this share of the photo's long side is background.
BACKGROUND_MARGIN = 0.02


@dataclass
class PairResult:
    """The outcome of one person x garment pair."""

    person: str
    garment: str
    title: str
    status: str  # completed | failed | crashed
    coverage: str | None = None
    code: str | None = None
    reason: str | None = None
    seconds: float | None = None
    placement_iou: float | None = None
    identity_delta: float | None = None
    background_delta: float | None = None
    color_delta_e: float | None = None
    result_path: str | None = None


@dataclass
class Report:
    """All pairs, the means over the completed ones and whether the thresholds hold."""

    pairs: list[PairResult] = field(default_factory=list)
    sheet_path: str | None = None

    def completed(self) -> list[PairResult]:
        return [p for p in self.pairs if p.status == "completed"]

    def summary(self) -> dict[str, Any]:
        done = self.completed()

        def mean(name: str) -> float | None:
            values = [getattr(p, name) for p in done if getattr(p, name) is not None]
            return float(np.mean(values)) if values else None

        def worst(name: str) -> float | None:
            values = [getattr(p, name) for p in done if getattr(p, name) is not None]
            return float(np.max(values)) if values else None

        seconds = [p.seconds for p in done if p.seconds is not None]
        means = {
            name: mean(name)
            for name in (
                "placement_iou",
                "identity_delta",
                "background_delta",
                "color_delta_e",
                "seconds",
            )
        }
        checks = {
            "mean_placement_iou": (means["placement_iou"] or 0.0) >= metrics.MIN_MEAN_PLACEMENT_IOU,
            "identity_delta": (worst("identity_delta") or 0.0) < metrics.MAX_IDENTITY_DELTA,
            "background_delta": (worst("background_delta") or 0.0) < metrics.MAX_BACKGROUND_DELTA,
            "color_delta_e": all(
                p.color_delta_e is not None and p.color_delta_e < metrics.MAX_COLOR_DELTA_E
                for p in done
            ),
            "no_crash": not any(p.status == "crashed" for p in self.pairs),
        }
        return {
            "pairs": len(self.pairs),
            "completed": len(done),
            "failed": sum(p.status == "failed" for p in self.pairs),
            "crashed": sum(p.status == "crashed" for p in self.pairs),
            "mean": means,
            "median_seconds": float(np.median(seconds)) if seconds else None,
            "worst": {
                name: worst(name)
                for name in ("identity_delta", "background_delta", "color_delta_e")
            },
            "checks": checks,
            "passed": bool(done) and all(checks.values()),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": [asdict(p) for p in self.pairs],
            "summary": self.summary(),
            "sheet": self.sheet_path,
        }


def image_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively), in a stable order."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def title_from_path(path: Path, root: Path) -> str:
    """ "jackets-1-front.jpg" -> "jackets 1 front"; "shirts/2_back.jpg" -> "shirts 2 back"."""
    parts = [*path.relative_to(root).parent.parts, path.stem]
    words = " ".join(parts).replace("-", " ").replace("_", " ")
    return " ".join(words.split())


def load_rgb(path: Path) -> Image.Image:
    """A photo as upright RGB (EXIF orientation applied, as the server's intake does)."""
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def garment_coverage(title: str, product_rgb: np.ndarray) -> tuple[Coverage | None, np.ndarray]:
    """What the garment should cover, from its title and shape, and its product-photo mask.

    Returns (None, empty mask) when no garment can be cut out of the photo.
    """
    from tryon.engines.local.category import category_from_text
    from tryon.engines.local.garment import cut_out_garment
    from tryon.engines.local.shape import analyse_bottom, analyse_top, looks_like_bottom

    cutout = cut_out_garment(product_rgb, max_side=max(product_rgb.shape[:2]))
    if cutout is None:
        return None, np.zeros(product_rgb.shape[:2], dtype=bool)
    category = category_from_text(title)
    if category is None:
        category = "bottom" if looks_like_bottom(cutout.mask) else "top"
    if category == "dress":
        return "dress", cutout.mask
    if category == "bottom":
        shape = analyse_bottom(cutout.mask)
        if shape.bib is not None:
            return "overalls", cutout.mask
        long_legs = shape.length > 1.8 * shape.waist_width
        return ("bottom-long" if long_legs else "bottom-short"), cutout.mask
    if category == "top":
        return ("top-long" if analyse_top(cutout.mask).long_sleeves else "top-short"), cutout.mask
    return None, cutout.mask


def measure(
    person: np.ndarray,
    result: np.ndarray,
    body: ReferenceBody,
    coverage: Coverage,
    product: np.ndarray,
    product_mask: np.ndarray,
) -> dict[str, float | None]:
    """The four quality metrics of one result."""
    changed = metrics.changed_mask(person, result)
    expected = expected_region(body, coverage)
    radius = max(1, round(BACKGROUND_MARGIN * max(person.shape[:2])))
    # The garment in the result: changed pixels away from the feathered edge.
    core = cv2.erode(changed.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if core.sum() < 50:
        core = changed
    return {
        "placement_iou": metrics.placement_iou(changed, expected),
        "identity_delta": metrics.identity_delta(person, result, body.face_box),
        "background_delta": metrics.background_delta(person, result, body.person, radius),
        "color_delta_e": metrics.color_delta_e(product, product_mask, result, core),
    }


def run_eval(
    people_dir: Path,
    garments_dir: Path,
    out: Path,
    *,
    progress: Callable[[str], Any] | None = None,
    engine: Any = None,
) -> Report:
    """Run every pair, write results, a contact sheet and ``report.json`` into ``out``."""
    from tryon.engines.base import EngineError, TryOnInput
    from tryon.evaluation.sheet import contact_sheet

    say = progress or (lambda _line: None)
    people = image_files(people_dir)
    garments = image_files(garments_dir)
    if not people:
        raise FileNotFoundError(f"no person photos in {people_dir}")
    if not garments:
        raise FileNotFoundError(f"no garment photos in {garments_dir}")
    if engine is None:
        from tryon.engines.local.engine import LocalEngine

        engine = LocalEngine()
    results_dir = out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)

    report = Report()
    rows = []
    products = {g: load_rgb(g) for g in garments}
    coverages: dict[Path, tuple[Coverage | None, np.ndarray]] = {}
    say(f"{len(people)} people x {len(garments)} garments -> {out}")
    for person_path in people:
        person_image = load_rgb(person_path)
        person = np.asarray(person_image)
        body = reference_body(person)
        for garment_path in garments:
            title = title_from_path(garment_path, garments_dir)
            product_image = products[garment_path]
            pair = PairResult(
                person=person_path.name,
                garment=str(garment_path.relative_to(garments_dir)),
                title=title,
                status="completed",
            )
            result_image = None
            started = time.perf_counter()
            try:
                result_image = engine.generate(TryOnInput(person_image, [product_image], title))
            except EngineError as exc:
                pair.status, pair.code, pair.reason = "failed", exc.code, exc.message
            except Exception as exc:  # a crash is a bug: report it and go on
                pair.status, pair.code, pair.reason = "crashed", type(exc).__name__, str(exc)
            pair.seconds = round(time.perf_counter() - started, 3)
            if result_image is not None:
                name = f"{person_path.stem}__{title.replace(' ', '-')}.png"
                # Fast, lossless: results are looked at, not shipped.
                result_image.save(results_dir / name, compress_level=1)
                pair.result_path = str(results_dir / name)
                product = np.asarray(product_image)
                if garment_path not in coverages:
                    coverages[garment_path] = garment_coverage(title, product)
                coverage, product_mask = coverages[garment_path]
                pair.coverage = coverage
                if body is not None and coverage is not None:
                    values = measure(
                        person, np.asarray(result_image), body, coverage, product, product_mask
                    )
                    for key, value in values.items():
                        setattr(pair, key, None if value is None else round(value, 3))
            report.pairs.append(pair)
            rows.append((person_image, product_image, result_image, pair))
            say(format_pair(pair))
    sheet = contact_sheet(rows)
    sheet_path = out / "contact-sheet.png"
    sheet.save(sheet_path, compress_level=6)
    report.sheet_path = str(sheet_path)
    import json

    (out / "report.json").write_text(json.dumps(report.as_dict(), indent=2))
    return report


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_pair(pair: PairResult) -> str:
    """One line per pair for the progress output and the text report."""
    head = f"{pair.person} x {pair.garment}"
    if pair.status != "completed":
        return f"{head}: {pair.status.upper()} {pair.code}: {pair.reason} ({pair.seconds:.2f} s)"
    return (
        f"{head}: iou {_fmt(pair.placement_iou)}  identity {_fmt(pair.identity_delta)}  "
        f"background {_fmt(pair.background_delta)}  dE {_fmt(pair.color_delta_e, 1)}  "
        f"{_fmt(pair.seconds)} s"
    )


def format_report(report: Report) -> str:
    """The per-pair lines, the means and the threshold checks, as text."""
    summary = report.summary()
    lines = [format_pair(p) for p in report.pairs]
    mean = summary["mean"]
    lines.append(
        f"mean over {summary['completed']} completed (of {summary['pairs']}; "
        f"{summary['failed']} refused with a typed code, {summary['crashed']} crashed): "
        f"iou {_fmt(mean['placement_iou'])}  identity {_fmt(mean['identity_delta'])}  "
        f"background {_fmt(mean['background_delta'])}  dE {_fmt(mean['color_delta_e'], 1)}  "
        f"{_fmt(mean['seconds'])} s (median {_fmt(summary['median_seconds'])} s)"
    )
    checks = ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in summary["checks"].items())
    lines.append(f"thresholds: {checks} -> {'PASS' if summary['passed'] else 'FAIL'}")
    if report.sheet_path:
        lines.append(f"contact sheet: {report.sheet_path}")
    return "\n".join(lines)
