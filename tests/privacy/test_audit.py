"""``tryon audit storage``: each kind of finding is detected, the command's exit code and JSON."""

from __future__ import annotations

import json

import pytest
from privacy_helpers import accepted, assert_clean, audit, make_jpeg, try_on, upload
from typer.testing import CliRunner

from tryon.cli import app
from tryon.generations import tasks
from tryon.retention.service import sweep
from tryon.storage import keys


@pytest.fixture
def cli(context):  # type: ignore[no-untyped-def]
    """``tryon audit storage ARGS --data-dir <the test's data folder>`` -> (exit code, output)."""
    runner = CliRunner()
    data_dir = str(context.settings.resolved_data_dir())

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["audit", "storage", *args, "--data-dir", data_dir])
        return result.exit_code, result.output

    return run


def test_a_healthy_system_audits_clean(shop, context, cli) -> None:
    image = upload(shop.live, make_jpeg(seed=1), customerId="c-1")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-1"))
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    code, output = cli("--json")
    report = json.loads(output)
    assert code == 0, output
    assert report["clean"] is True
    # photo, person copy, product copy, result, the one-shot product's image
    assert report["objects"] == report["referencedObjects"] == 5
    assert report["orphans"] == report["missing"] == report["expired"] == []
    code, text = cli()
    assert code == 0 and text.strip().endswith("clean")


def test_an_orphan_is_reported_and_fails_the_command(shop, context, cli) -> None:
    orphan = keys.customer_image_key(shop.account_id, True)
    context.blobs.put(orphan, make_jpeg(seed=2))
    code, output = cli("--json")
    assert code == 1
    assert [o["key"] for o in json.loads(output)["orphans"]] == [orphan]
    code, text = cli()
    assert code == 1 and orphan in text and "FINDINGS" in text
    # Written just now: on a running server it may be an upload in progress.
    assert cli("--grace-seconds", "3600")[0] == 0
    context.blobs.delete(orphan)
    assert cli()[0] == 0


def test_a_row_pointing_at_a_missing_object_is_reported(shop, context, cli) -> None:
    image = upload(shop.live, make_jpeg(seed=3), customerId="c-3")
    (key,) = context.blobs.keys()
    context.blobs.delete(key)  # lost behind the server's back
    code, output = cli("--json")
    assert code == 1
    missing = json.loads(output)["missing"]
    assert missing == [{"key": key, "owner": f"customer_image {image['imageId']}"}]
    # Erasing the customer removes the dangling row too.
    assert shop.live.delete("/customers/c-3").status_code == 204
    assert cli()[0] == 0


def test_data_past_its_retention_is_reported_until_the_sweeper_removes_it(shop, context) -> None:
    image = upload(shop.live, make_jpeg(seed=4), customerId="c-4", retentionDays=1)
    generation_id = accepted(
        try_on(shop.live, {"id": image["imageId"]}, headers={"Idempotency-Key": "k-1"})
    )
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    assert_clean(context)
    context.clock.advance(days=1, seconds=1)
    owners = {e["owner"].split(" ")[0] for e in audit(context).expired}
    assert owners == {"customer_image", "generation", "idempotency_record"}
    context.clock.advance(days=7)  # the one-shot product too
    owners = {e["owner"].split(" ")[0] for e in audit(context).expired}
    assert owners == {"customer_image", "generation", "idempotency_record", "product"}
    sweep(context)
    report = assert_clean(context)
    assert report.objects == 0


def test_the_audit_does_not_mistake_an_erasure_in_progress_for_findings(
    shop, context, monkeypatch
) -> None:
    # An erasure that deletes objects while the audit looks: rows read before the listing
    # still link them, and they are gone when the audit confirms. Neither missing nor orphan.
    image = upload(shop.live, make_jpeg(seed=5), customerId="c-5")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-5"))
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    original = context.blobs.objects

    def listing_then_erasure(prefix=None):  # type: ignore[no-untyped-def]
        listed = list(original(prefix))
        assert shop.live.delete("/customers/c-5").status_code == 204
        return iter(listed)

    monkeypatch.setattr(context.blobs, "objects", listing_then_erasure)
    report = audit(context)
    assert report.clean, report.as_text()
