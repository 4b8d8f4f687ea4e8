"""Benchmark: local engine time per try-on on one CPU core. Prints figures only.

    uv run python bench/engine_speed.py [--people DIR] [--garments DIR] [--repeat 2]

Pins the process to one core (``os.sched_setaffinity``), scales every person photo to a 1024 px
long side, loads the engine once (MediaPipe graphs, as a worker process does) and then times
``LocalEngine.generate`` for every person x garment pair. The baseline, measured in the same run
on the same photos, is MediaPipe pose detection alone -- the floor any pose-driven engine pays.
Refused pairs (trousers on a selfie) are timed separately: they stop early.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

# One core: pin before the numeric libraries start their thread pools.
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from tryon.engines.base import EngineError, TryOnInput  # noqa: E402
from tryon.evaluation.runner import image_files, load_rgb, title_from_path  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "tryon" / "demo_samples"
LONG_SIDE = 1024


def _at_long_side(image: Image.Image, side: int) -> Image.Image:
    scale = side / max(image.size)
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


def _stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(values):.3f} s  mean {statistics.fmean(values):.3f} s  "
        f"p90 {p90:.3f} s  max {max(values):.3f} s  (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=Path, default=SAMPLES / "people")
    parser.add_argument("--garments", type=Path, default=SAMPLES / "garments")
    parser.add_argument("--repeat", type=int, default=2, help="Timed runs of every pair.")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    people = [_at_long_side(load_rgb(p), LONG_SIDE) for p in image_files(args.people)]
    garments = [
        (load_rgb(g), title_from_path(g, args.garments)) for g in image_files(args.garments)
    ]
    if not people or not garments:
        sys.exit("no photos found")
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cores: {cores}; {len(people)} people x {len(garments)} garments at {LONG_SIDE} px")

    from tryon.engines.local.engine import LocalEngine
    from tryon.engines.local.pose import detect_pose

    engine = LocalEngine()
    started = time.perf_counter()
    # The first call loads the MediaPipe graphs (once per worker process).
    with contextlib.suppress(EngineError):
        engine.generate(TryOnInput(people[0], [garments[0][0]], garments[0][1]))
    print(f"first call (models loading): {time.perf_counter() - started:.3f} s")

    baseline = []
    for _ in range(args.repeat):
        for person in people:
            rgb = np.asarray(person)
            started = time.perf_counter()
            detect_pose(rgb)
            baseline.append(time.perf_counter() - started)

    completed, refused = [], []
    for _ in range(args.repeat):
        for person in people:
            for product, title in garments:
                started = time.perf_counter()
                try:
                    engine.generate(TryOnInput(person, [product], title))
                    completed.append(time.perf_counter() - started)
                except EngineError:
                    refused.append(time.perf_counter() - started)

    print(f"baseline, pose detection alone: {_stats(baseline)}")
    print(f"engine, completed try-ons:      {_stats(completed)}")
    print(f"engine, refused pairs:          {_stats(refused)}")
    if baseline and completed:
        ratio = statistics.median(completed) / statistics.median(baseline)
        print(f"median try-on / median pose detection: {ratio:.1f}x (target: median <= 1.5 s)")


if __name__ == "__main__":
    main()
