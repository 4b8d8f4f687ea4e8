"""Put the account's logo on a result image."""

from __future__ import annotations

import io

from PIL import Image

LOGO_WIDTH_FRACTION = 0.18
MARGIN_FRACTION = 0.03
OPACITY = 0.8


def apply_watermark(result: Image.Image, logo_png: bytes) -> Image.Image:
    """Paste the logo, semi-transparent, in the bottom-right corner."""
    logo = Image.open(io.BytesIO(logo_png)).convert("RGBA")
    width = max(16, int(result.width * LOGO_WIDTH_FRACTION))
    height = max(1, round(logo.height * width / logo.width))
    logo = logo.resize((width, height), Image.Resampling.LANCZOS)
    alpha = logo.getchannel("A").point(lambda a: int(a * OPACITY))
    logo.putalpha(alpha)
    margin = int(min(result.size) * MARGIN_FRACTION)
    marked = result.convert("RGBA")
    marked.alpha_composite(logo, (result.width - width - margin, result.height - height - margin))
    return marked.convert("RGB")
