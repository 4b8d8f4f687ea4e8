"""The ``tryon`` admin commands, run on the data folder of a running server."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from e2e_helpers import (
    accepted,
    assert_error,
    decode,
    fetch_jpeg,
    make_jpeg,
    post_multipart,
    upload,
    wait_for,
)
from PIL import Image
from typer.testing import CliRunner, Result

from tryon.cli import app


@pytest.fixture
def tryon(server):  # type: ignore[no-untyped-def]
    """Run ``tryon ARGS --data-dir <the server's data folder>``; returns the result."""
    runner = CliRunner()
    data_dir = str(server.context.settings.resolved_data_dir())

    def run(*args: str) -> Result:
        # Options go before a "--" (which lets an amount be negative).
        at = args.index("--") if "--" in args else len(args)
        return runner.invoke(app, [*args[:at], "--data-dir", data_dir, *args[at:]])

    return run


def ok_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def refused(result: Result, fragment: str) -> None:
    """Exit code 2 and one clean line on stderr: no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def client(server, key: str) -> httpx.Client:  # type: ignore[no-untyped-def]
    return httpx.Client(
        base_url=server.base_url + "/tryon/v1", headers={"x-api-key": key}, timeout=60
    )


def test_account_and_keys_made_by_the_cli_work_against_the_running_server(server, tryon) -> None:
    account_id = ok_json(tryon("accounts", "create", "Shop one", "--credits", "3", "--json"))[
        "accountId"
    ]
    live_key = ok_json(tryon("keys", "create", account_id, "--json"))["apiKey"]
    test_key = ok_json(tryon("keys", "create", account_id, "--test", "--json"))["apiKey"]
    assert live_key.startswith("gk_live_") and test_key.startswith("gk_test_")
    with client(server, live_key) as live, client(server, test_key) as test:
        assert live.get("/account/credits").json() == {"creditBalance": 3}
        image = upload(live)["imageId"]
        document = {"product": {"images": [{"fileKey": "g"}]}, "customer": {"id": image}}
        response = post_multipart(live, "/try-on", document, {"g": make_jpeg(seed=91)})
        assert wait_for(live, accepted(response))["status"] == "COMPLETED"
        assert live.get("/account/credits").json() == {"creditBalance": 2}

        granted = ok_json(tryon("credits", "grant", account_id, "5", "--json"))
        assert granted == {"accountId": account_id, "creditBalance": 7}
        assert live.get("/account/credits").json() == {"creditBalance": 7}
        taken = ok_json(tryon("credits", "grant", account_id, "-2", "--json"))
        assert taken["creditBalance"] == 5

        revoked = ok_json(tryon("keys", "revoke", live_key[:16], "--json"))
        assert live_key.startswith(revoked["revoked"])
        assert_error(live.get("/account/credits"), 401, "INVALID_API_KEY")
        assert test.get("/account/credits").status_code == 200
        # A whole key also names it.
        ok_json(tryon("keys", "revoke", test_key, "--json"))
        assert_error(test.get("/account/credits"), 401, "INVALID_API_KEY")


def test_a_try_on_scoped_key_and_a_disabled_account(server, tryon) -> None:  # type: ignore[no-untyped-def]
    account_id = ok_json(tryon("accounts", "create", "Shop two", "--credits", "2", "--json"))[
        "accountId"
    ]
    storefront = ok_json(tryon("keys", "create", account_id, "--scope", "try-on", "--json"))
    full = ok_json(tryon("keys", "create", account_id, "--json"))["apiKey"]
    refused(tryon("keys", "create", account_id, "--scope", "admin"), "scope must be one of")
    with client(server, storefront["apiKey"]) as store, client(server, full) as owner:
        upload(store)
        assert_error(store.get("/account/credits"), 403, "FORBIDDEN")
        assert owner.get("/account/credits").json() == {"creditBalance": 2}

        disabled = ok_json(tryon("accounts", "disable", account_id, "--json"))
        assert disabled == {"accountId": account_id, "disabled": True}
        for api in (store, owner):
            assert_error(api.get("/generations/gen_x"), 401, "INVALID_API_KEY")
        ok_json(tryon("accounts", "enable", account_id, "--json"))
        assert owner.get("/account/credits").status_code == 200
    refused(tryon("accounts", "disable", "acc_unknown"), "acc_unknown")


def test_text_output_without_json(tryon) -> None:
    result = tryon("accounts", "create", "Plain")
    assert result.exit_code == 0
    assert result.stdout.startswith("Created account acc_")
    account_id = result.stdout.split()[2]
    result = tryon("keys", "create", account_id)
    assert result.exit_code == 0 and result.stdout.startswith("gk_live_")


def test_set_logo_watermarks_results(server, tryon, tmp_path: Path) -> None:
    account_id = ok_json(tryon("accounts", "create", "Branded", "--credits", "5", "--json"))[
        "accountId"
    ]
    key = ok_json(tryon("keys", "create", account_id, "--json"))["apiKey"]
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (128, 64), (0, 0, 255, 255)).save(logo)
    assert ok_json(tryon("accounts", "set-logo", account_id, str(logo), "--json")) == {
        "accountId": account_id,
        "logo": True,
    }
    with client(server, key) as live:
        image = upload(live, make_jpeg(400, 500, seed=92))["imageId"]
        results = []
        for watermark in (True, False):
            document = {
                "product": {"images": [{"fileKey": "g"}]},
                "customer": {"id": image},
                "useWatermark": watermark,
            }
            response = post_multipart(live, "/try-on", document, {"g": make_jpeg(seed=93)})
            generation = wait_for(live, accepted(response))
            pixels = decode(fetch_jpeg(generation["resultImageUrl"])).convert("RGB")
            results.append(np.asarray(pixels, dtype=np.float32))
    marked, plain = results
    assert np.abs(marked[-90:, -110:] - plain[-90:, -110:]).mean() > 20
    assert np.abs(marked[:150, :150] - plain[:150, :150]).mean() < 1
    # A new logo replaces the old one in storage.
    blobs = server.context.settings.resolved_data_dir() / "blobs" / "accounts" / account_id
    assert len(list(blobs.glob("logo-*.png"))) == 1
    ok_json(tryon("accounts", "set-logo", account_id, str(logo), "--json"))
    assert len(list(blobs.glob("logo-*.png"))) == 1


def test_a_wide_wordmark_logo_is_accepted(tryon, tmp_path: Path) -> None:
    account_id = ok_json(tryon("accounts", "create", "Wordmark", "--json"))["accountId"]
    logo = tmp_path / "wordmark.png"
    Image.new("RGBA", (300, 48), (0, 0, 0, 255)).save(logo)
    ok_json(tryon("accounts", "set-logo", account_id, str(logo), "--json"))


def test_sweep_prints_its_counts(tryon) -> None:
    counts = ok_json(tryon("sweep", "--json"))
    assert {"customer_images", "generations", "products", "deletions_completed"} <= set(counts)
    assert all(isinstance(v, int) for v in counts.values())
    text = tryon("sweep")
    assert text.exit_code == 0 and "customer images: 0" in text.stdout


def test_bad_input_is_a_one_line_error_with_exit_code_2(tryon, tmp_path: Path) -> None:
    refused(tryon("keys", "create", "acc_unknown"), "acc_unknown")
    refused(tryon("credits", "grant", "acc_unknown", "5"), "acc_unknown")
    refused(tryon("accounts", "set-logo", "acc_unknown", str(_png(tmp_path))), "acc_unknown")
    refused(tryon("accounts", "create", "X", "--retention-days", "5"), "retention")
    refused(tryon("accounts", "create", "X", "--credits", "-1"), "negative")
    refused(tryon("accounts", "create", "X", "--rate-limit", "0"), "rate limit")
    refused(tryon("keys", "revoke", "gk_live_"), "12 characters")
    refused(tryon("keys", "revoke", "gk_live_nothing_like_it"), "no active key")
    account_id = ok_json(tryon("accounts", "create", "Y", "--json"))["accountId"]
    refused(tryon("credits", "grant", account_id, "0"), "non-zero")
    refused(tryon("credits", "grant", account_id, "-1"), "below zero")
    refused(tryon("accounts", "set-logo", account_id, str(tmp_path / "missing.png")), "cannot read")
    text = tmp_path / "logo.png"
    text.write_text("not an image")
    refused(tryon("accounts", "set-logo", account_id, str(text)), "not a usable image")


def _png(folder: Path) -> Path:
    path = folder / "ok.png"
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), (1, 2, 3)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path
