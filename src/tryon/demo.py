"""``tryon demo``: the main job on real photos, end to end through the HTTP API.

Starts the server with embedded defaults in a fresh data folder, creates an account and a key,
uploads each person photo, runs a try-on with each garment photo, polls to a final status and
writes, per pair, the result and a side-by-side sheet (person | garment | result).
"""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw, ImageOps

from tryon.accounts import service as accounts_service
from tryon.clock import SystemClock
from tryon.config import Settings
from tryon.context import build_context
from tryon.db import transaction
from tryon.server import start_server

SAMPLES = Path(__file__).parent / "demo_samples"
# The demo dresses each person in each top; bottoms are left out (see docs for the engine).
TOP_PREFIXES = ("jackets-", "shirts-")
SHEET_HEIGHT = 512
POLL_SECONDS = 0.2
GENERATION_TIMEOUT = 180.0
# The demo account's own request rate: it polls faster than the 2 s a shop would, and a few dozen
# pairs at the default 100 a minute would run into 429s halfway.
DEMO_RATE_LIMIT = 1000
# A 429 is waited out (Retry-After) this many times per request before the pair is given up.
RATE_LIMIT_RETRIES = 3


def sample_pairs() -> tuple[list[Path], list[Path]]:
    people = sorted((SAMPLES / "people").glob("*.jpg"))
    garments = sorted(
        p for p in (SAMPLES / "garments").glob("*.jpg") if p.name.startswith(TOP_PREFIXES)
    )
    return people, garments


class DemoError(Exception):
    """A demo that cannot start (a photo that is not one, an unusable output folder)."""


def run_demo(
    out: Path,
    *,
    people: list[Path] | None = None,
    garments: list[Path] | None = None,
    engine: str = "local",
    progress: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Raises DemoError before anything starts for a missing photo or an unusable ``out``, and
    pydantic's ValidationError for an unknown ``engine`` (or a bad ``TRYON_*`` value)."""
    say = progress or (lambda _message: None)
    default_people, default_garments = sample_pairs()
    people = people or default_people
    garments = garments or default_garments
    for path in [*people, *garments]:
        if not path.exists():
            raise DemoError(f"no such photo: {path}")
        if not path.is_file():
            raise DemoError(f"{path} is not a file (give a photo, not a folder)")
    out = out.resolve()
    data_dir = out / "data"
    settings = Settings(data_dir=data_dir, engine=engine)
    _prepare(out, data_dir)
    say(f"Starting the server (data folder {data_dir}) ...")
    context = build_context(settings, SystemClock())
    with transaction(context.sessions) as session:
        now = context.clock.now()
        account = accounts_service.create_account(
            session,
            now,
            "Demo shop",
            credits=len(people) * len(garments),
            rate_limit=DEMO_RATE_LIMIT,
        )
        api_key = accounts_service.create_key(session, now, account.id, live=True)
    pairs: list[dict[str, Any]] = []
    with (
        start_server(context) as server,
        httpx.Client(
            base_url=server.base_url + "/tryon/v1", headers={"x-api-key": api_key}, timeout=120
        ) as client,
    ):
        say(f"Server up at {server.base_url}; {len(people)} people x {len(garments)} garments.")
        for person_path in people:
            try:
                person_id = _upload(client, person_path)
            except (RuntimeError, httpx.HTTPError) as exc:
                say(f"  {person_path.name}: upload refused: {exc}")
                pairs += [
                    {
                        "status": "ERROR",
                        "person": str(person_path),
                        "garment": str(g),
                        "errorMessage": str(exc),
                    }
                    for g in garments
                ]
                continue
            for garment_path in garments:
                started = time.monotonic()
                say(f"  {person_path.stem} + {garment_path.stem}: try-on ...")
                try:
                    pair = _try_on(client, person_id, garment_path)
                except (RuntimeError, httpx.HTTPError) as exc:
                    # One failing pair is reported and the demo goes on with the others.
                    pair = {"status": "ERROR", "errorMessage": str(exc)}
                pair |= {"person": str(person_path), "garment": str(garment_path)}
                pair["seconds"] = round(time.monotonic() - started, 2)
                if pair["status"] == "COMPLETED":
                    stem = f"{person_path.stem}__{garment_path.stem}"
                    result_path = out / f"{stem}.result.jpg"
                    result_path.write_bytes(pair.pop("result_bytes"))
                    sheet_path = out / f"{stem}.sheet.jpg"
                    _sheet([person_path, garment_path, result_path]).save(sheet_path, quality=90)
                    pair |= {"result": str(result_path), "sheet": str(sheet_path)}
                    say(f"    COMPLETED in {pair['seconds']} s -> {sheet_path}")
                else:
                    code = pair.get("errorCode") or pair["status"]
                    say(f"    {pair['status']} ({code}): {pair.get('errorMessage')}")
                pairs.append(pair)
    context.close()
    contact = out / "contact-sheet.jpg"
    rows = [
        [Path(p["person"]), Path(p["garment"]), Path(p["result"])] for p in pairs if "result" in p
    ]
    if rows:
        _contact_sheet(rows).save(contact, quality=88)
    report = {
        "completed": sum(1 for p in pairs if p["status"] == "COMPLETED"),
        "failed": sum(1 for p in pairs if p["status"] != "COMPLETED"),
        "pairs": pairs,
        "contactSheet": str(contact) if rows else None,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    say(f"Done: {report['completed']} completed, {report['failed']} failed.")
    if rows:
        say(f"Contact sheet: {contact}")
    say(f"Results and side-by-side sheets are in {out}")
    return report


def _prepare(out: Path, data_dir: Path) -> None:
    """Make the output folder, with a fresh (empty) data folder for the demo server."""
    if out.exists() and not out.is_dir():
        raise DemoError(f"cannot write the demo to {out}: it exists and is not a folder")
    try:
        if data_dir.exists():
            shutil.rmtree(data_dir)  # a fresh data folder every run
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
        raise DemoError(f"cannot prepare the output folder {out}: {reason}{where}") from exc


def _upload(client: httpx.Client, person_path: Path) -> str:
    response = send(
        client,
        "POST",
        "/images/upload",
        files={"file": (person_path.name, person_path.read_bytes(), "image/jpeg")},
        data={"crop": "false"},
    )
    return str(response.json()["imageId"])


def _try_on(client: httpx.Client, person_id: str, garment_path: Path) -> dict[str, Any]:
    title = garment_path.stem.split("-")[0].rstrip("s").replace("_", " ").title()
    document = {
        "product": {"title": title, "images": [{"fileKey": "garment"}]},
        "customer": {"id": person_id},
    }
    response = send(
        client,
        "POST",
        "/try-on",
        data={"data": json.dumps(document)},
        files={"garment": (garment_path.name, garment_path.read_bytes(), "image/jpeg")},
    )
    generation_id = response.json()["generationId"]
    deadline = time.monotonic() + GENERATION_TIMEOUT
    while time.monotonic() < deadline:
        body = send(client, "GET", f"/generations/{generation_id}").json()
        if body["status"] == "COMPLETED":
            result = httpx.get(body["resultImageUrl"], timeout=60)
            _check(result)
            return {
                "status": "COMPLETED",
                "generationId": generation_id,
                "result_bytes": result.content,
            }
        if body["status"] == "FAILED":
            return {
                "status": "FAILED",
                "generationId": generation_id,
                "errorCode": body.get("errorCode"),
                "errorMessage": body.get("errorMessage"),
            }
        time.sleep(POLL_SECONDS)
    return {"status": "TIMEOUT", "generationId": generation_id}


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    **request: Any,
) -> httpx.Response:
    """One API call the way a well-behaved client makes it: a 429 is waited out for the
    ``Retry-After`` seconds it names (a few times), any other error raises RuntimeError."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        response = client.request(method, url, **request)
        if response.status_code != 429 or attempt == RATE_LIMIT_RETRIES:
            break
        sleep(_retry_after_seconds(response))
    _check(response)
    return response


def _retry_after_seconds(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(60.0, max(1.0, seconds))


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )


def _fit(path: Path, height: int) -> Image.Image:
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    return image.resize((max(1, round(image.width * height / image.height)), height))


def _sheet(paths: list[Path], height: int = SHEET_HEIGHT) -> Image.Image:
    tiles = [_fit(p, height) for p in paths]
    gap = 8
    sheet = Image.new(
        "RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), height), "white"
    )
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width + gap
    return sheet


def _contact_sheet(rows: list[list[Path]], height: int = 256) -> Image.Image:
    sheets = [_sheet(row, height) for row in rows]
    width = max(s.width for s in sheets)
    contact = Image.new("RGB", (width, sum(s.height + 8 for s in sheets)), "white")
    y = 0
    for sheet in sheets:
        contact.paste(sheet, (0, y))
        y += sheet.height + 8
    ImageDraw.Draw(contact)
    return contact


def image_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
