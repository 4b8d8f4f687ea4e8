"""The contact sheet of an evaluation: one row per pair, person | garment | result."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw, ImageOps

PANEL_HEIGHT = 360
PANEL_WIDTH = 270
CAPTION_HEIGHT = 22
GAP = 6
BACKDROP = (255, 255, 255)
MISSING = (225, 225, 225)


def _panel(image: Image.Image | None, width: int, height: int) -> Image.Image:
    if image is None:
        return Image.new("RGB", (width, height), MISSING)
    return ImageOps.pad(image.convert("RGB"), (width, height), color=BACKDROP)


def _caption(pair: Any) -> str:
    if pair.status != "completed":
        return f"{pair.person} x {pair.garment}: {pair.status} {pair.code}"

    def f(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    return (
        f"{pair.person} x {pair.garment}   iou {f(pair.placement_iou)}  "
        f"id {f(pair.identity_delta)}  bg {f(pair.background_delta)}  "
        f"dE {f(pair.color_delta_e, 1)}  {f(pair.seconds)} s"
    )


def contact_sheet(
    rows: list[tuple[Image.Image, Image.Image, Image.Image | None, Any]],
    panel_height: int = PANEL_HEIGHT,
    panel_width: int = PANEL_WIDTH,
) -> Image.Image:
    """Stack (person, garment, result or None, pair) rows into one image.

    A refused or crashed pair shows a grey result panel with its code in the caption.
    """
    width = 3 * panel_width + 4 * GAP
    row_height = panel_height + CAPTION_HEIGHT + GAP
    sheet = Image.new("RGB", (width, GAP + row_height * max(1, len(rows))), BACKDROP)
    draw = ImageDraw.Draw(sheet)
    for index, (person, garment, result, pair) in enumerate(rows):
        top = GAP + index * row_height
        for column, image in enumerate((person, garment, result)):
            left = GAP + column * (panel_width + GAP)
            sheet.paste(_panel(image, panel_width, panel_height), (left, top))
        if result is None and pair is not None and pair.reason:
            left = GAP + 2 * (panel_width + GAP) + 8
            text = _wrap(str(pair.reason), 40)
            draw.multiline_text((left, top + 12), text, fill=(90, 30, 30))
        if pair is not None:
            draw.text((GAP, top + panel_height + 4), _caption(pair), fill=(0, 0, 0))
    return sheet


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return "\n".join(lines)
