"""``tryon demo`` as a user runs it: a real process, its own server, real sample photos."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from e2e_helpers import SAMPLES
from PIL import Image

from tryon.demo import RATE_LIMIT_RETRIES, send

PERSON = SAMPLES / "people" / "1_posture.jpg"
JACKET = SAMPLES / "garments" / "jackets-1-front.jpg"


def run_demo(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tryon.cli", "demo", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_demo_runs_more_try_ons_than_the_default_rate_limit_allows(tmp_path: Path) -> None:
    """45 pairs poll far more than 100 requests a minute: every pair still completes, and with
    --json stdout is that JSON alone (no log line in between)."""
    garments = [arg for _ in range(45) for arg in ("--garment", str(JACKET))]
    run = run_demo(
        tmp_path, "--engine", "placeholder", "--person", str(PERSON), *garments, "--json"
    )
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-2000:])
    report = json.loads(run.stdout)
    assert (report["completed"], report["failed"]) == (45, 0)
    assert json.loads((tmp_path / "report.json").read_text())["completed"] == 45
    assert Path(report["contactSheet"]).is_file()


def test_demo_with_the_local_engine_writes_result_and_sheet(tmp_path: Path) -> None:
    run = run_demo(tmp_path, "--person", str(PERSON), "--garment", str(JACKET))
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-2000:])
    lines = run.stdout.splitlines()
    assert lines[-1] == f"Results and side-by-side sheets are in {tmp_path.resolve()}"
    assert "Done: 1 completed, 0 failed." in lines
    # Progress lines only: the server's access log is not printed in between.
    assert not [line for line in lines if "request_id" in line or "[info" in line]
    result = Image.open(tmp_path / "1_posture__jackets-1-front.result.jpg")
    person = Image.open(PERSON)
    assert abs(result.width / result.height - person.width / person.height) < 0.01
    sheet = Image.open(tmp_path / "1_posture__jackets-1-front.sheet.jpg")
    assert sheet.height == 512 and sheet.width > 3 * 256
    assert (tmp_path / "contact-sheet.jpg").is_file()


def limited_then(final: int, limited: int) -> tuple[httpx.Client, list[int]]:
    """A client whose server answers 429 (Retry-After: 7) ``limited`` times, then ``final``."""
    answers = [429] * limited + [final]
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if answers else final
        seen.append(status)
        headers = {"Retry-After": "7"} if status == 429 else {}
        return httpx.Response(status, headers=headers, json={"status": status})

    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://t"), seen


def test_send_waits_out_a_429_for_its_retry_after() -> None:
    client, seen = limited_then(200, limited=2)
    waits: list[float] = []
    response = send(client, "GET", "/generations/x", sleep=waits.append)
    assert response.status_code == 200
    assert (seen, waits) == ([429, 429, 200], [7.0, 7.0])


def test_send_gives_up_after_a_few_429s_with_the_answer_in_the_error() -> None:
    client, seen = limited_then(200, limited=RATE_LIMIT_RETRIES + 1)
    with pytest.raises(RuntimeError, match="answered 429"):
        send(client, "GET", "/generations/x", sleep=lambda _seconds: None)
    assert seen == [429] * (RATE_LIMIT_RETRIES + 1)
