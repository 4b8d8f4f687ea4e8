"""The ``tryon`` command: server, worker, admin commands and the demo.

``serve``, ``worker``, the admin commands, ``sweep`` and ``audit storage`` take ``--data-dir`` (else
``TRYON_DATA_DIR``, else ``./.tryon``), so admin commands act on the same data as a server started
with the same setting, also while it runs. ``demo`` makes its own fresh data folder under ``--out``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from tryon.logs import configure_logging

# Quiet MediaPipe / TensorFlow Lite start-up chatter; set before they are imported.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

app = typer.Typer(help="Tryon: self-hosted virtual try-on API server.", no_args_is_help=True)
accounts_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
credits_app = typer.Typer(help="Manage credits.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(credits_app, name="credits")
audit_app = typer.Typer(help="Check what is stored against what should be.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: $TRYON_DATA_DIR, else ./.tryon)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
LOGO_MIN_SIDE = 8
LogLevel = Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")]
LogJson = Annotated[bool, typer.Option("--log-json", help="Write logs as JSON lines.")]


@app.callback()
def _every_command() -> None:
    """Logs go to stderr, warnings and worse, for every command (``serve`` and ``worker`` set
    their own level): unconfigured, structlog would print every event on stdout, in between a
    command's own output and its ``--json``."""
    configure_logging("WARNING")


def _settings(data_dir: Path | None, **overrides: Any):  # type: ignore[no-untyped-def]
    """The settings of every command: flags over ``TRYON_*`` over defaults. A bad value (an
    unknown engine, a number that is not one) is refused here, before anything starts."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from tryon.config import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    try:
        return Settings(**values)
    except ValidationError as exc:
        _fail("; ".join(_setting_problem(error, values) for error in exc.errors()))
    except SettingsError as exc:
        _fail(" ".join(str(exc).split()))


def _setting_problem(error: Any, flags: dict[str, Any]) -> str:
    """One validation error as ``invalid TRYON_X 'value': why`` (or ``--x`` for a flag)."""
    field = str(error["loc"][0]) if error.get("loc") else "setting"
    name = f"--{field.replace('_', '-')}" if field in flags else f"TRYON_{field.upper()}"
    value = repr(error.get("input"))
    if len(value) > 60:
        value = value[:57] + "..."
    reason = str(error.get("msg", "")).removeprefix("Value error, ")
    return " ".join(f"invalid {name} {value}: {reason}".split())


def _context(data_dir: Path | None):  # type: ignore[no-untyped-def]
    settings = _settings(data_dir)  # refused before the imports below log anything
    from tryon.context import build_context

    return build_context(settings)


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    typer.echo(json.dumps(payload) if as_json else text)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _admin(func):  # type: ignore[no-untyped-def]
    """Run an admin action in one transaction, turning refusals into a clean error line."""
    from tryon.accounts.service import AdminError
    from tryon.db import transaction

    def run(data_dir: Path | None, *args: Any) -> Any:
        context = _context(data_dir)
        try:
            with transaction(context.sessions) as session:
                return func(context, session, *args)
        except AdminError as exc:
            _fail(str(exc))
        finally:
            context.close()

    return run


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: DataDir = None,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Run the job worker in this process.")
    ] = True,
    log_level: LogLevel = "INFO",
    log_json: LogJson = False,
) -> None:
    """Run the API server (with an embedded worker unless --no-worker)."""
    import uvicorn

    from tryon.app import create_app
    from tryon.jobs.queue import start_embedded_worker

    configure_logging(log_level, log_json)
    context = _context(data_dir)
    consumer = start_embedded_worker(context, context.settings.worker_threads) if worker else None
    typer.echo(
        f"Tryon listening on http://{host}:{port} (data: {context.settings.resolved_data_dir()})"
    )
    # uvicorn re-raises SIGTERM once it has shut down; exiting through SystemExit instead of the
    # default handler lets the finally below stop the worker and close the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(
            create_app(context),
            host=host,
            port=port,
            access_log=False,
            log_config=None,  # uvicorn logs through our structured handler
        )
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
        context.close()


@app.command()
def worker(
    data_dir: DataDir = None, log_level: LogLevel = "INFO", log_json: LogJson = False
) -> None:
    """Run the job worker (generations and the periodic sweeper) in the foreground."""
    from huey.consumer import Consumer

    configure_logging(log_level, log_json)
    context = _context(data_dir)
    assert context.queue is not None
    Consumer(context.queue.huey, workers=context.settings.worker_threads).run()


@accounts_app.command("create")
def accounts_create(
    name: str,
    credits: Annotated[int, typer.Option(help="Credits to grant now.")] = 0,
    retention_days: Annotated[int, typer.Option(help="Default retention: 1, 3 or 7.")] = 7,
    rate_limit: Annotated[int, typer.Option(help="Requests per minute.")] = 100,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an account (a merchant)."""
    from tryon.accounts import service

    def create(context, session):  # type: ignore[no-untyped-def]
        account = service.create_account(
            session,
            context.clock.now(),
            name,
            credits=credits,
            retention_days=retention_days,
            rate_limit=rate_limit,
        )
        return account.id

    account_id = _admin(create)(data_dir)
    _emit(as_json, {"accountId": account_id}, f"Created account {account_id} ({name}).")


@accounts_app.command("disable")
def accounts_disable(account_id: str, data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Disable an account: its keys answer INVALID_API_KEY; its data stays (and expires)."""
    _set_disabled(account_id, True, data_dir, as_json)


@accounts_app.command("enable")
def accounts_enable(account_id: str, data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Enable a disabled account again."""
    _set_disabled(account_id, False, data_dir, as_json)


def _set_disabled(account_id: str, disabled: bool, data_dir: Path | None, as_json: bool) -> None:
    from tryon.accounts import service

    def apply(context, session):  # type: ignore[no-untyped-def]
        service.set_disabled(session, account_id, disabled)

    _admin(apply)(data_dir)
    state = "disabled" if disabled else "enabled"
    _emit(as_json, {"accountId": account_id, "disabled": disabled}, f"{account_id} {state}.")


@accounts_app.command("set-logo")
def accounts_set_logo(
    account_id: str,
    file: Annotated[Path, typer.Argument(help="PNG/JPEG logo put on results as a watermark.")],
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Set the watermark logo of an account."""
    from tryon.accounts import service
    from tryon.errors import ApiError
    from tryon.images.intake import IntakeLimits, decode_image
    from tryon.storage import keys

    try:
        raw = file.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror}")
    try:
        # Same safety checks as photos, but logos may be small and wide (a 300x48 wordmark).
        decode_image(raw, IntakeLimits(min_side=LOGO_MIN_SIDE))
    except ApiError as exc:
        _fail(f"{file} is not a usable image: {exc.message}")
    import io

    from PIL import Image, ImageOps

    png = io.BytesIO()
    # Decoded again (already checked above) to keep its transparency, which the photo intake
    # flattens on white.
    logo = ImageOps.exif_transpose(Image.open(io.BytesIO(raw)))
    logo.convert("RGBA").save(png, format="PNG")

    def set_logo(context, session):  # type: ignore[no-untyped-def]
        service.get_account(session, account_id)
        key = keys.logo_key(account_id)
        context.blobs.put(key, png.getvalue())
        previous = service.set_logo(session, account_id, key)
        if previous:
            context.blobs.delete(previous)
        return key

    _admin(set_logo)(data_dir)
    _emit(as_json, {"accountId": account_id, "logo": True}, f"Logo set for {account_id}.")


@keys_app.command("create")
def keys_create(
    account_id: str,
    test: Annotated[
        bool, typer.Option("--test", help="A gk_test_ key (placeholder engine).")
    ] = False,
    scope: Annotated[
        str,
        typer.Option(
            help="full (every endpoint) or try-on (upload, try-on and generations only: "
            "for a storefront)."
        ),
    ] = "full",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from tryon.accounts import service

    def create(context, session):  # type: ignore[no-untyped-def]
        return service.create_key(
            session, context.clock.now(), account_id, live=not test, scope=scope
        )

    api_key = _admin(create)(data_dir)
    _emit(as_json, {"apiKey": api_key}, f"{api_key}\n(shown once: store it now)")


@keys_app.command("revoke")
def keys_revoke(key_prefix: str, data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Revoke the key that starts with KEY_PREFIX (at least 12 characters)."""
    from tryon.accounts import service

    def revoke(context, session):  # type: ignore[no-untyped-def]
        return service.revoke_keys(session, context.clock.now(), key_prefix)

    prefix = _admin(revoke)(data_dir)
    _emit(as_json, {"revoked": prefix}, f"Revoked {prefix}…")


# ignore_unknown_options lets a negative AMOUNT through instead of reading "-5" as an option.
@credits_app.command("grant", context_settings={"ignore_unknown_options": True})
def credits_grant(
    account_id: str, amount: int, data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Grant AMOUNT credits to an account (negative to take back)."""
    from tryon.accounts import service

    def grant(context, session):  # type: ignore[no-untyped-def]
        return service.grant_credits(session, context.clock.now(), account_id, amount)

    balance = _admin(grant)(data_dir)
    _emit(
        as_json,
        {"accountId": account_id, "creditBalance": balance},
        f"{account_id} now has {balance} credits.",
    )


@app.command()
def sweep(data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Run the retention sweeper now (it also runs periodically in the worker)."""
    from tryon.retention.service import sweep as run_sweep

    context = _context(data_dir)
    try:
        counts = run_sweep(context)
    finally:
        context.close()
    text = "\n".join(f"{name.replace('_', ' ')}: {count}" for name, count in counts.items())
    _emit(as_json, counts, text)


@audit_app.command("storage")
def audit_storage(
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
    grace_seconds: Annotated[
        float,
        typer.Option(
            "--grace-seconds",
            help="Skip objects younger than this (writes in progress on a running server).",
        ),
    ] = 0,
) -> None:
    """List orphaned, missing and expired objects; exit code 1 when there is any."""
    from tryon.storage.audit import audit_storage as run_audit

    context = _context(data_dir)
    try:
        report = run_audit(context, grace_seconds=grace_seconds)
    finally:
        context.close()
    _emit(as_json, report.as_dict(), report.as_text())
    if not report.clean:
        raise typer.Exit(code=1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the results.")] = Path("tryon-demo"),
    person: Annotated[
        list[Path] | None, typer.Option(help="Person photo(s) to use instead of the samples.")
    ] = None,
    garment: Annotated[
        list[Path] | None, typer.Option(help="Garment photo(s) to use instead of the samples.")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="Engine for the demo: local | placeholder.")
    ] = "local",
    as_json: JsonFlag = False,
) -> None:
    """Run try-ons on real photos through the HTTP API; write results and a contact sheet."""
    from tryon.demo import DemoError, run_demo

    # The demo server's settings (the engine, TRYON_* values) are checked before anything starts.
    _settings(None, engine=engine)
    try:
        report = run_demo(
            out,
            people=person,
            garments=garment,
            engine=engine,
            progress=None if as_json else typer.echo,
        )
    except DemoError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report))
    if report["failed"]:
        raise typer.Exit(code=1)


@app.command("eval")
def evaluate(
    people_dir: Annotated[Path, typer.Argument(help="Folder of person photos.")],
    garments_dir: Annotated[Path, typer.Argument(help="Folder of product photos (recursive).")],
    out: Annotated[Path, typer.Option(help="Folder for results, sheet and report.json.")] = Path(
        "tryon-eval"
    ),
    as_json: JsonFlag = False,
) -> None:
    """Run every person x garment pair through the local engine and measure the results.

    Exits 1 when a pair crashed or a quality threshold is missed.
    """
    from tryon.evaluation.runner import format_report, run_eval

    try:
        report = run_eval(
            people_dir,
            garments_dir,
            out,
            progress=None if as_json else lambda line: typer.echo(line, err=True),
        )
    except FileNotFoundError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(report.as_dict()) if as_json else format_report(report))
    if not report.summary()["passed"]:
        raise typer.Exit(code=1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
