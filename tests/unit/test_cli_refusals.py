"""Refusals of the ``tryon`` command: one ``error: ...`` line on stderr, exit code 2, never a
traceback; and the same bounds in the accounts service and the settings it is called with."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from tryon.accounts import service
from tryon.accounts.service import MAX_CREDITS, MAX_NAME_LENGTH, MAX_RATE_LIMIT, AdminError
from tryon.cli import app
from tryon.config import Settings
from tryon.context import AppContext
from tryon.db import transaction

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "tryon" / "demo_samples"
PERSON = SAMPLES / "people" / "1_posture.jpg"
JACKET = SAMPLES / "garments" / "jackets-1-front.jpg"
# One more than fits in SQLite's 64-bit INTEGER, and the largest that does.
HUGE = str(2**63)
SQLITE_MAX = 2**63 - 1


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def tryon(data_dir: Path):  # type: ignore[no-untyped-def]
    """Run ``tryon ARGS --data-dir <tmp>`` (options before a ``--``); returns the result."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        at = args.index("--") if "--" in args else len(args)
        return runner.invoke(app, [*args[:at], "--data-dir", str(data_dir), *args[at:]], env=env)

    return run


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``tryon ARGS`` as given (for ``demo``, which has no --data-dir)."""
    return CliRunner().invoke(app, list(args), env=env)


def refused(result: Result, *fragments: str) -> str:
    """Exit code 2 and one clean ``error: `` line on stderr: no traceback. Returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines)
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None), result.exception
    return lines[0]


def account(tryon, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = tryon("accounts", "create", "Shop", *args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return str(json.loads(result.stdout)["accountId"])


def balance(tryon, account_id: str) -> int:  # type: ignore[no-untyped-def]
    """The balance after a grant of -1 then +1 (there is no balance command)."""
    result = tryon("credits", "grant", account_id, "--json", "--", "-1")
    assert result.exit_code == 0, result.stderr
    result = tryon("credits", "grant", account_id, "--json", "--", "1")
    assert result.exit_code == 0, result.stderr
    return int(json.loads(result.stdout)["creditBalance"])


# --- 1. credit, rate-limit and retention bounds -----------------------------------------------


def test_a_huge_grant_is_refused(tryon) -> None:  # type: ignore[no-untyped-def]
    account_id = account(tryon)
    refused(tryon("credits", "grant", account_id, "99999999999999999999999"), "at most")
    refused(tryon("credits", "grant", account_id, "--", "-99999999999999999999999"), "at most")
    refused(tryon("credits", "grant", account_id, HUGE), "at most")
    refused(tryon("credits", "grant", account_id, str(MAX_CREDITS + 1)), "at most")


def test_a_huge_starting_balance_is_refused(tryon) -> None:  # type: ignore[no-untyped-def]
    refused(tryon("accounts", "create", "X", "--credits", "99999999999999999999"), "at most")
    refused(tryon("accounts", "create", "X", "--credits", str(MAX_CREDITS + 1)), "at most")
    assert balance(tryon, account(tryon, "--credits", str(MAX_CREDITS))) == MAX_CREDITS


def test_a_grant_may_not_take_the_balance_over_the_ceiling(tryon) -> None:  # type: ignore[no-untyped-def]
    account_id = account(tryon, "--credits", str(MAX_CREDITS - 1))
    ok = tryon("credits", "grant", account_id, "1", "--json")
    assert json.loads(ok.stdout)["creditBalance"] == MAX_CREDITS
    refused(tryon("credits", "grant", account_id, "1"), "at most", f"{MAX_CREDITS:,}")


def test_a_grant_on_a_balance_already_at_the_sqlite_maximum_is_refused(
    tryon,  # type: ignore[no-untyped-def]
    data_dir: Path,
) -> None:
    account_id = account(tryon)
    with sqlite3.connect(data_dir / "tryon.db") as db:
        db.execute("UPDATE accounts SET credit_balance = ? WHERE id = ?", (SQLITE_MAX, account_id))
    refused(tryon("credits", "grant", account_id, "1"), "at most")
    # Taking credits back out of such a balance still works.
    taken = tryon("credits", "grant", account_id, "--json", "--", "-5")
    assert taken.exit_code == 0, taken.stderr
    assert json.loads(taken.stdout)["creditBalance"] == SQLITE_MAX - 5


def test_a_huge_rate_limit_or_retention_is_refused(tryon) -> None:  # type: ignore[no-untyped-def]
    refused(tryon("accounts", "create", "X", "--rate-limit", "99999999999999999999"), "rate limit")
    refused(tryon("accounts", "create", "X", "--rate-limit", HUGE), "rate limit")
    refused(tryon("accounts", "create", "X", "--rate-limit", str(MAX_RATE_LIMIT + 1)), "rate limit")
    account(tryon, "--rate-limit", str(MAX_RATE_LIMIT))
    for days in ("99999999999999999999", HUGE):
        refused(tryon("accounts", "create", "X", "--retention-days", days), "retention")


def service_refuses(context: AppContext, match: str, action) -> None:  # type: ignore[no-untyped-def]
    """``action(session, now)`` in one transaction raises AdminError matching ``match``."""
    with pytest.raises(AdminError, match=match), transaction(context.sessions) as session:
        action(session, context.clock.now())


def test_the_service_itself_keeps_the_bounds(context: AppContext) -> None:
    service_refuses(
        context,
        "at most",
        lambda session, now: service.create_account(session, now, "S", credits=MAX_CREDITS + 1),
    )
    service_refuses(
        context,
        "rate limit",
        lambda session, now: service.create_account(session, now, "S", rate_limit=2**64),
    )
    with transaction(context.sessions) as session:
        now = context.clock.now()
        account_id = service.create_account(session, now, "Shop", credits=MAX_CREDITS).id
    for amount in (1, 10**30, -(10**30)):
        service_refuses(
            context,
            "at most",
            lambda session, now, amount=amount: service.grant_credits(
                session, now, account_id, amount
            ),
        )
    with transaction(context.sessions) as session:
        assert service.credit_balance(session, account_id) == MAX_CREDITS


# --- 2. account names -------------------------------------------------------------------------


def test_an_empty_blank_or_overlong_name_is_refused(tryon) -> None:  # type: ignore[no-untyped-def]
    refused(tryon("accounts", "create", ""), "name")
    refused(tryon("accounts", "create", "   "), "name")
    refused(tryon("accounts", "create", "x" * 5000), "name", str(MAX_NAME_LENGTH))
    refused(tryon("accounts", "create", "x" * (MAX_NAME_LENGTH + 1)), "name")
    created = tryon("accounts", "create", "x" * MAX_NAME_LENGTH)
    assert created.exit_code == 0, created.stderr


def test_the_service_refuses_bad_names(context: AppContext) -> None:
    for name in ("", " \t ", "n" * (MAX_NAME_LENGTH + 1)):
        service_refuses(
            context,
            "name",
            lambda session, now, name=name: service.create_account(session, now, name),
        )


# --- 3. the engine setting and bad TRYON_* values ---------------------------------------------


def test_the_engine_setting_only_takes_registered_engines() -> None:
    with pytest.raises(ValidationError, match="unknown engine"):
        Settings(engine="nope")
    assert Settings(engine="placeholder").engine == "placeholder"
    assert Settings(engine="local").engine == "local"


def test_demo_with_an_unknown_engine_refuses_before_starting(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--person", str(PERSON), "--garment", str(JACKET)]
    line = refused(invoke("demo", "--out", str(out), "--engine", "nope", *args), "engine")
    assert "nope" in line and "placeholder" in line
    assert not out.exists()  # no server started, no folder made


def test_serve_with_an_unknown_engine_refuses_at_start(
    tryon,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: served.append(args))
    monkeypatch.setattr("signal.signal", lambda *args: None)
    line = refused(tryon("serve", "--no-worker", env={"TRYON_ENGINE": "nope"}), "TRYON_ENGINE")
    assert "nope" in line and "local" in line
    assert served == []


def test_a_real_worker_process_with_an_unknown_engine_prints_only_the_error(
    data_dir: Path,
) -> None:
    """Nothing is logged before the refusal (the imports that log come after the settings)."""
    run = subprocess.run(
        [sys.executable, "-m", "tryon.cli", "worker", "--data-dir", str(data_dir)],
        env={**os.environ, "TRYON_ENGINE": "nope"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.splitlines() == [
        "error: invalid TRYON_ENGINE 'nope': unknown engine; choose one of local, placeholder"
    ]


@pytest.mark.parametrize(
    "command",
    [("sweep",), ("audit", "storage"), ("accounts", "create", "X"), ("keys", "create", "acc_x")],
)
def test_a_bad_environment_value_is_one_clean_line(tryon, command: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    env = {"TRYON_SIGNED_URL_TTL_SECONDS": "abc"}
    refused(tryon(*command, env=env), "TRYON_SIGNED_URL_TTL_SECONDS", "'abc'", "integer")


def test_a_bad_environment_value_stops_the_demo_too(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("demo", "--out", str(out), env={"TRYON_SYNC_TIMEOUT_SECONDS": "soon"})
    refused(result, "TRYON_SYNC_TIMEOUT_SECONDS")
    assert not out.exists()


# --- 4. the demo's output folder and photos ---------------------------------------------------


def test_demo_out_on_an_existing_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("keep me")
    args = ["--engine", "placeholder", "--person", str(PERSON), "--garment", str(JACKET)]
    refused(invoke("demo", "--out", str(file), *args), str(file), "not a folder")
    assert file.read_text() == "keep me"
    # Below a file: any OSError preparing the folder is a clean line as well.
    refused(invoke("demo", "--out", str(file / "sub"), *args), str(file / "sub"))


def test_demo_person_or_garment_that_is_a_folder_is_not_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    line = refused(invoke("demo", "--out", str(out), "--person", str(tmp_path)), "not a file")
    assert str(tmp_path) in line and "no such" not in line
    line = refused(invoke("demo", "--out", str(out), "--garment", str(tmp_path)), "not a file")
    missing = tmp_path / "missing.jpg"
    refused(invoke("demo", "--out", str(out), "--person", str(missing)), "no such photo")
    assert not out.exists()
