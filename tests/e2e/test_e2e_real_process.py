"""The real thing: ``tryon serve`` as its own process, admin commands run beside it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from e2e_helpers import accepted, decode, fetch_jpeg, post_multipart, sample_bytes, wait_for

from tryon.server import free_port

CUSTOMER = "secret-customer-4242"


def cli(data_dir: Path, env: dict[str, str], *args: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "tryon.cli", *args, "--data-dir", str(data_dir), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited early:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).json() == {"status": "ok"}:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not healthy in time:\n{log.read_text()[-3000:]}")


def start(data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    """``tryon serve`` on a free port; returns the process, its base URL and environment."""
    port = free_port()
    command = [sys.executable, "-m", "tryon.cli", "serve", "--port", str(port)]
    env = {**os.environ, "TRYON_ENGINE": "placeholder"}
    env.pop("TRYON_DATA_DIR", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--data-dir", str(data_dir)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, log)
    except BaseException:
        stop(process, signal.SIGKILL)
        raise
    return process, base_url, env


def stop(process: subprocess.Popen[bytes], sig: int) -> int:
    process.send_signal(sig)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def test_serve_as_a_process_with_the_cli_beside_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    process, base_url, env = start(data_dir, log)
    try:
        # Admin commands on the same data folder while the server runs.
        account_id = cli(data_dir, env, "accounts", "create", "Real shop", "--credits", "2")[
            "accountId"
        ]
        api_key = cli(data_dir, env, "keys", "create", account_id)["apiKey"]
        with httpx.Client(
            base_url=f"{base_url}/tryon/v1", headers={"x-api-key": api_key}, timeout=120
        ) as client:
            response = client.post(
                "/images/upload",
                files={"file": ("me.jpg", sample_bytes("people", "1_posture.jpg"), "image/jpeg")},
                data={"customerId": CUSTOMER},
            )
            assert response.status_code == 200, response.text
            photo = decode(fetch_jpeg(response.json()["imageUrl"]))
            assert abs(photo.width / photo.height - 0.8) < 0.01
            document = {
                "product": {"title": "Shirt", "images": [{"fileKey": "shirt"}]},
                "customer": {"id": response.json()["imageId"]},
                "customerId": CUSTOMER,
            }
            garment = sample_bytes("garments", "shirts-3-front.jpg")
            generation_id = accepted(
                post_multipart(client, "/try-on", document, {"shirt": garment})
            )
            generation = wait_for(client, generation_id, timeout=90)
            assert generation["status"] == "COMPLETED", generation
            assert decode(fetch_jpeg(generation["resultImageUrl"])).size == photo.size
            assert client.get("/account/credits").json() == {"creditBalance": 1}
            response = client.delete(f"/customers/{CUSTOMER}")
            assert response.status_code == 204
    finally:
        code = stop(process, signal.SIGINT)  # Ctrl+C, as the server's banner says
    output = log.read_text(errors="replace")
    # Graceful: uvicorn finished, then the worker stopped, and the exit status says success.
    assert code == 0, output[-3000:]
    assert "Finished server process" in output
    assert "All workers have stopped" in output
    assert "Traceback" not in output
    # Neither the customer id nor the key is ever written to the logs in clear.
    assert CUSTOMER not in output
    assert api_key not in output and api_key[:16] not in output


def test_sigterm_stops_the_server_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    process, _, _ = start(tmp_path / "data", log)
    assert stop(process, signal.SIGTERM) == 0, log.read_text()[-2000:]
