"""Benchmark: API latency and end-to-end try-on time on this machine. Prints figures only.

    uv run python bench/api_latency.py [--requests 500] [--uploads 40] [--engine local]

Measures, against a real Uvicorn server on loopback with embedded defaults:
- p50/p99 of GET /generations/:id, with GET /healthz (no auth, no database) measured in the same
  run as the baseline;
- p50/p99 of POST /images/upload of a ~1 MB 12-megapixel phone photo (crop on and off);
- the end-to-end time of one try-on with the chosen engine (accept -> COMPLETED, polled at 50 ms),
  the first one (models loading) and the following ones.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import httpx
import numpy as np
from PIL import Image

from tryon.accounts import service as accounts_service
from tryon.config import Settings
from tryon.context import build_context
from tryon.db import transaction
from tryon.server import start_server

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "tryon" / "demo_samples"


def phone_photo() -> bytes:
    """A ~1 MB 3024x4032 JPEG made from a sample photo (sensor-like noise keeps it realistic)."""
    person = Image.open(SAMPLES / "people" / "3_posture.jpg").convert("RGB")
    big = np.asarray(person.resize((3024, 4032), Image.Resampling.BICUBIC)).astype(np.int16)
    noise = np.random.default_rng(7).normal(0, 2.0, big.shape).astype(np.int16)
    image = Image.fromarray(np.clip(big + noise, 0, 255).astype(np.uint8))
    for quality in (80, 70, 60, 50):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        if buffer.tell() <= 1_150_000:
            break
    return buffer.getvalue()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


def timed(call, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = call()
        samples.append(time.perf_counter() - started)
        if response.status_code >= 400:
            raise SystemExit(f"request failed: {response.status_code} {response.text[:200]}")
    return samples


def wait_done(client: httpx.Client, generation_id: str) -> dict:  # type: ignore[type-arg]
    while True:
        body = client.get(f"/generations/{generation_id}").json()
        if body["status"] in ("COMPLETED", "FAILED"):
            return body
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--tryons", type=int, default=5)
    parser.add_argument("--engine", default="local")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tryon-bench-"))
    context = build_context(
        Settings(data_dir=data_dir, engine=args.engine, default_rate_limit=10**6)
    )
    with transaction(context.sessions) as session:
        now = context.clock.now()
        account = accounts_service.create_account(
            session, now, "bench", credits=10_000, rate_limit=10**6
        )
        key = accounts_service.create_key(session, now, account.id)
    photo = phone_photo()
    garment = (SAMPLES / "garments" / "shirts-3-front.jpg").read_bytes()
    report: dict[str, object] = {"phone_photo_bytes": len(photo), "engine": args.engine}
    print(f"machine: {os.cpu_count()} cores; data folder {data_dir}", file=sys.stderr)
    with (
        start_server(context) as server,
        httpx.Client(
            base_url=server.base_url + "/tryon/v1", headers={"x-api-key": key}, timeout=300
        ) as client,
    ):

        def upload(crop: str):  # type: ignore[no-untyped-def]
            return lambda: client.post(
                "/images/upload",
                files={"file": ("phone.jpg", photo, "image/jpeg")},
                data={"crop": crop},
            )

        first = client.post(
            "/images/upload", files={"file": ("phone.jpg", photo, "image/jpeg")}
        ).json()  # warms the pose model used by the crop
        print("measuring uploads ...", file=sys.stderr)
        report["upload_1mb_crop_false"] = percentiles(timed(upload("false"), args.uploads))
        report["upload_1mb_crop_true"] = percentiles(timed(upload("true"), args.uploads))

        print("measuring try-ons ...", file=sys.stderr)
        durations = []
        generation_id = ""
        for _ in range(args.tryons):
            started = time.perf_counter()
            accepted = client.post(
                "/try-on",
                data={
                    "data": json.dumps(
                        {
                            "product": {"title": "T-shirt", "images": [{"fileKey": "g"}]},
                            "customer": {"id": first["imageId"]},
                        }
                    )
                },
                files={"g": ("g.jpg", garment, "image/jpeg")},
            ).json()
            generation_id = accepted["generationId"]
            final = wait_done(client, generation_id)
            durations.append(time.perf_counter() - started)
            if final["status"] != "COMPLETED":
                print(f"try-on ended {final}", file=sys.stderr)
        report["tryon_end_to_end_first_s"] = round(durations[0], 3)
        if len(durations) > 1:
            report["tryon_end_to_end_median_after_first_s"] = round(
                statistics.median(durations[1:]), 3
            )

        print("measuring GET /generations/:id and the /healthz baseline ...", file=sys.stderr)
        health = httpx.Client(base_url=server.base_url, timeout=30)
        base = percentiles(timed(lambda: health.get("/healthz"), args.requests))
        status = percentiles(
            timed(lambda: client.get(f"/generations/{generation_id}"), args.requests)
        )
        report["healthz_baseline"] = base
        report["get_generation"] = status
        report["get_generation_p50_ratio_to_baseline"] = round(
            status["p50_ms"] / max(base["p50_ms"], 1e-6), 2
        )
    context.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
