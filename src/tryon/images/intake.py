"""Image intake: turn untrusted upload bytes into a clean, upright, sRGB JPEG.

Pipeline: size check -> sniff the type from the bytes -> lazy open (header only) -> pixel cap ->
decode the first frame -> 8-bit RGB/L/CMYK with alpha flattened on white (16-bit, palette) ->
[downscale] -> EXIF orientation -> sRGB via the embedded ICC profile -> fresh image without
metadata -> [4:5 crop around the person] -> JPEG. The process_* functions downscale before the
per-pixel steps (a 12 MP photo costs about half as much); decode_image keeps full resolution.

Every failure surfaces as an ``ApiError``: FILE_TOO_LARGE (413), UNSUPPORTED_IMAGE_TYPE (415) or
INVALID_IMAGE (400); parser exceptions never escape.
"""

from __future__ import annotations

import functools
import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image, ImageCms

from tryon.errors import ApiError

log = logging.getLogger(__name__)

# HEIC/HEIF come from pillow_heif; AVIF from Pillow's own plugin (Pillow >= 11.2 ships it, and
# pillow_heif >= 1.0 no longer decodes AVIF). Registered once, at import.
pillow_heif.register_heif_opener()


@dataclass(frozen=True)
class IntakeLimits:
    """Limits applied to every upload."""

    max_bytes: int = 10 * 1024 * 1024  # FILE_TOO_LARGE above this (413)
    max_pixels: int = 40_000_000  # decompression-bomb cap, checked from the header BEFORE decoding
    min_side: int = 64  # INVALID_IMAGE when the short side is smaller
    max_side_out: int = 2048  # stored images are downscaled so the long side is at most this


@dataclass(frozen=True)
class ProcessedImage:
    """A stored image: JPEG bytes (8-bit sRGB RGB, no metadata) and its size."""

    jpeg: bytes
    width: int
    height: int


_DEFAULT_LIMITS = IntakeLimits()

# Pillow's own bomb guard is a backstop behind our header check: it warns above this and raises
# DecompressionBombError (inside Image.open, before any pixel is allocated) above twice this.
# Only ever lowered, so a stricter setting made elsewhere in the process is kept.
_pillow_cap = Image.MAX_IMAGE_PIXELS
if _pillow_cap is None or _pillow_cap > _DEFAULT_LIMITS.max_pixels:
    Image.MAX_IMAGE_PIXELS = _DEFAULT_LIMITS.max_pixels
# Between the cap and twice it Pillow only warns, on stderr, for an image our header check refuses
# right after: an expected refusal, not something for the operator's console. (A filter, not
# warnings.catch_warnings, which is not thread-safe in a threaded server.)
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# Pillow plugin names we let parse uploads. MPO (multi-picture JPEG from many phones) is produced by
# the JPEG plugin's factory, so it is accepted as a result format but is not a plugin to try.
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF")
_ACCEPTED_FORMATS = frozenset({*_OPEN_FORMATS, "MPO"})
_ACCEPTED_HUMAN = "JPEG, PNG, WebP, HEIC/HEIF or AVIF"

# ISO-BMFF brands of still HEIF/AVIF images (the `ftyp` major or compatible brands).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
)

_16BIT_GREY_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_WHITE = 255

# Crop geometry: 4:5 (width:height); pose detection runs on a copy at most this long.
_CROP_W, _CROP_H = 4, 5
_POSE_MAX_SIDE = 1024


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def decode_image(data: bytes, limits: IntakeLimits = _DEFAULT_LIMITS) -> Image.Image:
    """Validate and decode to an upright 8-bit sRGB RGB image with no metadata; raises ApiError."""
    return _normalise(_read(data, limits, draft_side=None))


def process_customer_image(
    data: bytes, *, crop: bool, limits: IntakeLimits = _DEFAULT_LIMITS
) -> ProcessedImage:
    """decode_image + optional 4:5 crop around the detected person + JPEG encode."""
    source = _read(data, limits, draft_side=limits.max_side_out)
    width, height = source.upright_size
    if crop:
        left, top, right, bottom = crop_box_4x5(width, height, None)
        kept_long_side = max(right - left, bottom - top)
    else:
        kept_long_side = max(width, height)
    # Downscale before the per-pixel work (orientation, ICC, copies) so that the part we keep
    # ends up at most max_side_out long; on a 12 MP photo this roughly halves the time.
    image = _normalise(source, scale=min(1.0, limits.max_side_out / kept_long_side))
    if crop:
        image = crop_to_person_4x5(image)
    return _finish(image, limits)


def process_product_image(data: bytes, limits: IntakeLimits = _DEFAULT_LIMITS) -> ProcessedImage:
    """decode_image + JPEG encode (no crop)."""
    source = _read(data, limits, draft_side=limits.max_side_out)
    scale = min(1.0, limits.max_side_out / max(source.upright_size))
    return _finish(_normalise(source, scale=scale), limits)


def encode_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """Encode as a baseline JPEG carrying no metadata (no EXIF, ICC, XMP or comment).

    Non-RGB images go through the same conversion as uploads (alpha is flattened on white).
    """
    clean = _strip_metadata(_to_srgb_rgb(image) if image.mode != "RGB" else image)
    buffer = io.BytesIO()
    # Only what is passed here is written: Pillow would otherwise copy a `comment` from info,
    # which _strip_metadata has emptied anyway.
    clean.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def crop_box_4x5(
    width: int, height: int, person: tuple[float, float, float, float] | None
) -> tuple[int, int, int, int]:
    """The largest 4:5 window (l, t, r, b) inside width x height, placed around `person`.

    The window spans the full image along one axis and slides along the other: centred on the
    person horizontally; vertically it holds the whole person box centred when it fits, else starts
    at the top of the box (the head matters more than the feet). No person: a centred window.
    """
    if width * _CROP_H > height * _CROP_W:  # wider than 4:5: keep the full height
        crop_w, crop_h = max(1, min(width, round(height * _CROP_W / _CROP_H))), height
    else:
        crop_w, crop_h = width, max(1, min(height, round(width * _CROP_H / _CROP_W)))
    if (crop_w, crop_h) == (width, height):
        return 0, 0, width, height

    if person is None:
        left, top = (width - crop_w) // 2, (height - crop_h) // 2
    else:
        p_left, p_top, p_right, p_bottom = person
        left = round((p_left + p_right) / 2 - crop_w / 2)
        if p_bottom - p_top <= crop_h:
            top = round((p_top + p_bottom) / 2 - crop_h / 2)
        else:
            top = round(p_top)
    left = min(max(left, 0), width - crop_w)
    top = min(max(top, 0), height - crop_h)
    return left, top, left + crop_w, top + crop_h


def crop_to_person_4x5(image: Image.Image) -> Image.Image:
    """Crop an RGB image to 4:5 around the detected person (centred when nobody is found)."""
    width, height = image.size
    if crop_box_4x5(width, height, None) == (0, 0, width, height):
        return image  # already 4:5: skip the (comparatively slow) pose detection
    box = crop_box_4x5(width, height, _person_box(image))
    return image.crop(box)


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _invalid(message: str) -> ApiError:
    return ApiError("INVALID_IMAGE", message)


def _unsupported(kind: str) -> ApiError:
    return ApiError(
        "UNSUPPORTED_IMAGE_TYPE", f"{kind} files are not supported; send {_ACCEPTED_HUMAN}"
    )


@dataclass(frozen=True)
class _Source:
    """A decoded upload before normalisation: pixels still in the stored orientation and in the
    source colour space, but already reduced to mode RGB, L or CMYK (alpha flattened on white)."""

    image: Image.Image
    icc: bytes | None
    orientation: int

    @property
    def upright_size(self) -> tuple[int, int]:
        width, height = self.image.size
        return (height, width) if self.orientation >= 5 else (width, height)


def _read(data: bytes, limits: IntakeLimits, draft_side: int | None) -> _Source:
    """Validate and decode `data`; every failure becomes an ApiError."""
    # The length check comes first: nothing else is looked at for an oversized body.
    if len(data) > limits.max_bytes:
        raise ApiError(
            "FILE_TOO_LARGE",
            f"image is {len(data)} bytes; the maximum is {limits.max_bytes} bytes",
        )
    if not data:
        raise _invalid("the image file is empty")

    kind = _sniff(data)
    if kind is not None and kind not in _ACCEPTED_FORMATS:
        raise _unsupported(kind)

    try:
        return _open_and_decode(data, limits, kind, draft_side)
    except ApiError:
        raise
    except Image.DecompressionBombError as exc:
        message = f"image dimensions are too large (at most {limits.max_pixels} pixels)"
        raise _invalid(message) from exc
    except Exception as exc:
        # Any parser failure (OSError, ValueError, SyntaxError, struct.error, EOFError,
        # MemoryError, libheif errors, ...) means the bytes are not a usable image.
        log.debug("image decode failed: %r", exc)
        raise _invalid("the image could not be decoded (corrupt or truncated)") from exc


def _open_and_decode(
    data: bytes, limits: IntakeLimits, kind: str | None, draft_side: int | None
) -> _Source:
    try:
        # Only the accepted plugins may parse the upload; this is lazy (header only).
        image = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except Image.UnidentifiedImageError:
        if kind is None:
            other = _probe_other_format(data)
            if other is not None:
                raise _unsupported(other) from None
        raise _invalid("the file is not a readable image") from None

    # No `with`: closing would invalidate pixels we hand on, and a BytesIO holds no OS resource.
    if image.format not in _ACCEPTED_FORMATS:  # defensive: a plugin we did not ask for
        raise _unsupported(image.format or "this")
    width, height = image.size
    # Refuse on the header's claim, before load() allocates anything.
    if width * height > limits.max_pixels:
        raise _invalid(
            f"image is {width}x{height} pixels; the maximum is {limits.max_pixels} pixels"
        )
    if min(width, height) < limits.min_side:
        raise _invalid(
            f"image is {width}x{height} pixels; each side must be at least {limits.min_side}"
        )
    if draft_side is not None and image.format in ("JPEG", "MPO"):
        # DCT-domain downscaling (1/2, 1/4, 1/8) while both sides stay >= draft_side, so a
        # later crop + resize to draft_side loses nothing; big photos decode much faster.
        image.draft(None, (draft_side, draft_side))
    # Image.open is positioned on frame 0 and load() decodes only that frame: animated inputs
    # yield their first frame. Truncated data raises here (LOAD_TRUNCATED_IMAGES stays off).
    image.load()
    return _Source(
        image=_flatten_mode(image),
        icc=image.info.get("icc_profile") or None,
        orientation=_exif_orientation(image),
    )


def _sniff(data: bytes) -> str | None:
    """Name the format from magic numbers; None when unknown (Pillow gets a say after)."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {
            head[i : i + 4] for i in range(16, min(max(box_size, 16), len(head)) - 3, 4)
        }
        if brands & {b"avif", b"avis"}:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
        return "ISO media"
    for magic, name in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            return name
    if _looks_like_svg(data):
        return "SVG"
    return None


_UNSUPPORTED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
    (b"%PDF-", "PDF"),
    (b"%!PS", "PostScript"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\xff\x0a", "JPEG XL"),
    (b"qoif", "QOI"),
)


def _looks_like_svg(data: bytes) -> bool:
    """Text that opens like XML/SVG and mentions an <svg element near the start."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in head


def _probe_other_format(data: bytes) -> str | None:
    """Let all Pillow plugins look at the header (lazy) to tell 'other image format' from junk."""
    try:
        with Image.open(io.BytesIO(data)) as other:
            return other.format or "this"
    except Exception:  # unidentified, a bomb, or a broken header: not a recognisable image
        return None


def _exif_orientation(image: Image.Image) -> int:
    """EXIF orientation (1-8); broken EXIF is ignored rather than failing a good photo."""
    try:
        value = image.getexif().get(0x0112, 1)
        return int(value) if 1 <= int(value) <= 8 else 1
    except Exception:
        return 1


# Same table as ImageOps.exif_transpose; applied to the converted RGB image so the metadata of the
# source never travels along.
_ORIENTATION_OPS: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    op = _ORIENTATION_OPS.get(orientation)
    return image.transpose(op) if op is not None else image


# --------------------------------------------------------------------------------------------
# Colour conversion
# --------------------------------------------------------------------------------------------


def _normalise(source: _Source, scale: float = 1.0) -> Image.Image:
    """Optional downscale -> upright -> sRGB RGB -> a fresh image without any metadata."""
    image = source.image
    if scale < 1.0:
        width, height = image.size
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    image = _apply_orientation(image, source.orientation)
    return _strip_metadata(_to_srgb(image, source.icc))


def _to_srgb_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB in sRGB; alpha is flattened on white."""
    return _to_srgb(_flatten_mode(image), image.info.get("icc_profile") or None)


def _flatten_mode(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB, L or CMYK (8-bit, same colour space); alpha flattened on white."""
    mode = image.mode

    if mode in _16BIT_GREY_MODES:
        image, mode = _scale_16bit_grey(image), "L"
    elif mode == "F":
        image, mode = image.convert("L"), "L"  # float data: Pillow clips to 0-255
    elif mode == "1":
        image, mode = image.convert("L"), "L"

    if mode in ("P", "PA"):
        # Palette transparency (tRNS or an alpha palette) becomes a real alpha channel.
        has_alpha = mode == "PA" or "transparency" in image.info or image.has_transparency_data
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode in ("L", "RGB") and "transparency" in image.info:
        image = image.convert("LA" if mode == "L" else "RGBA")  # colour-key transparency
    elif mode == "RGBa":
        image = image.convert("RGBA")  # un-premultiply
    elif mode == "La":
        image = image.convert("LA")
    mode = image.mode

    if mode in ("RGBA", "LA"):
        # Flatten in the source colour space: its white maps to sRGB white in the ICC step.
        base_mode = mode[:-1]
        base = Image.new(base_mode, image.size, (_WHITE,) * len(base_mode))
        base.paste(image.convert(base_mode), mask=image.getchannel("A"))
        return base
    if mode not in ("RGB", "L", "CMYK"):
        return image.convert("RGB")  # anything exotic (YCbCr, LAB, HSV, ...)
    return image


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB, L or CMYK in the colour space of `icc` (sRGB when None) -> RGB in sRGB."""
    if icc is not None and image.mode in ("RGB", "L", "CMYK"):
        converted = _apply_icc(image, icc)
        if converted is not None:
            return converted
    if image.mode != "RGB":
        image = image.convert("RGB")  # plain conversion (CMYK without a profile, L)
    return image


def _scale_16bit_grey(image: Image.Image) -> Image.Image:
    """16-bit (or 32-bit integer) grey -> 8-bit L, scaling 0-65535 onto 0-255 (Pillow clips)."""
    values = np.asarray(image).astype(np.float32)
    scaled = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.lru_cache(maxsize=32)
def _icc_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached transform from the embedded profile to sRGB; None when no conversion is needed."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    space = profile.profile.xcolor_space.strip()
    expected = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK"}[mode]
    if space != expected:
        raise ImageCms.PyCMSError(f"{space} profile on a {mode} image")
    description = ImageCms.getProfileDescription(profile) or ""
    if mode == "RGB" and "srgb" in description.lower():
        return None  # already sRGB (built-in variants differ only in rounding)
    return ImageCms.buildTransform(
        profile, _srgb_profile(), mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
    )


def _apply_icc(image: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert to sRGB with the embedded profile; None to fall back to a plain conversion."""
    try:
        transform = _icc_transform(icc, image.mode)
    except Exception as exc:  # unreadable or mismatched profile: keep the pixels, drop the profile
        log.debug("ignoring unusable ICC profile: %r", exc)
        return None
    if transform is None:
        return image
    return transform.apply(image)


def _strip_metadata(image: Image.Image) -> Image.Image:
    """A fresh copy with empty info; a new object also has no cached EXIF from the source."""
    clean = image.copy()
    clean.info = {}
    return clean


# --------------------------------------------------------------------------------------------
# Crop and output
# --------------------------------------------------------------------------------------------


def _person_box(image: Image.Image) -> tuple[float, float, float, float] | None:
    """The person's box in `image` pixels, detected on a copy at most _POSE_MAX_SIDE long."""
    from tryon.engines.local.pose import detect_pose  # loads MediaPipe: only when cropping

    width, height = image.size
    scale = min(1.0, _POSE_MAX_SIDE / max(width, height))
    small = image
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    try:
        pose = detect_pose(np.asarray(small))
    except Exception:
        # Cropping is a convenience: a model failure must not lose the customer's upload.
        log.warning("pose detection failed; using a centred crop", exc_info=True)
        return None
    if pose is None:
        return None
    box = pose.bounding_box()
    if box is None:
        # Landmarks without a segmentation mask: box the confidently visible landmarks.
        points = pose.landmarks[pose.visibility >= 0.5]
        if points.size == 0:
            return None
        box = (points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max())
    sx, sy = width / small.size[0], height / small.size[1]
    left, top, right, bottom = box
    return (
        float(np.clip(left * sx, 0, width)),
        float(np.clip(top * sy, 0, height)),
        float(np.clip(right * sx, 0, width)),
        float(np.clip(bottom * sy, 0, height)),
    )


def _finish(image: Image.Image, limits: IntakeLimits) -> ProcessedImage:
    """Downscale so the long side is at most max_side_out, then encode."""
    width, height = image.size
    long_side = max(width, height)
    if long_side > limits.max_side_out:
        scale = limits.max_side_out / long_side
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return ProcessedImage(jpeg=encode_jpeg(image), width=image.size[0], height=image.size[1])
