"""Cut the garment out of a product photo with classical segmentation.

Product photos show one garment on a plain, light background that is rarely perfectly flat (a soft
vignette of 20-40 grey levels is common) and is often close to the garment itself (white tee on
light grey). So the background is modelled as a smooth surface fitted to the image border, the
garment is everything that differs from it in colour *or* is enclosed by strong edges, and the
result is cleaned with morphology, the largest component and hole filling.

When that is unsure -- the border is not a plain backdrop (a garment photographed on a floor, a
bed, a patterned wall) or nothing plausible stands out -- a small neural matte (U^2-Net-p, see
``matte``) cuts the garment out instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.engines.local import matte
from tryon.engines.local.raster import resize_long_side

# Long side of the image the mask is computed on; masks are smooth, so this is plenty and fast.
_MASK_SIDE = 512
# Width of the border frame (at mask resolution) used to estimate the background.
_BORDER = 6
# Gradient (Sobel of Lab at mask resolution) above which a pixel is an outline, not a shadow.
_SHADOW_MAX_GRADIENT = 60.0
# Above this noise of the border (Lab units; studio backdrops have 0.5-3) the backdrop is not
# plain and the classical cut-out is unsure: the neural matte decides instead.
UNSURE_NOISE = 8.0
# A garment whose median colour distance to the backdrop is below this (Lab units) is faint (white
# on white); its outline is smoothed along its length over this share of the photo's long side.
_FAINT_GARMENT = 12.0
_FAINT_OUTLINE_SIGMA = 0.008


@dataclass(frozen=True)
class GarmentCutout:
    """A garment cut out of its product photo."""

    rgb: np.ndarray  # (H, W, 3) uint8 product photo at working resolution
    alpha: np.ndarray  # (H, W) float32 in [0, 1], soft garment matte
    mask: np.ndarray  # (H, W) bool, hard garment mask (holes filled)

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """Box (left, top, right, bottom) of the mask."""
        ys, xs = np.nonzero(self.mask)
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _border_mask(height: int, width: int, band: int) -> np.ndarray:
    frame = np.zeros((height, width), dtype=bool)
    frame[:band] = frame[-band:] = True
    frame[:, :band] = frame[:, -band:] = True
    return frame


def _fit_background(lab: np.ndarray, frame: np.ndarray) -> tuple[np.ndarray, float]:
    """Fit a quadratic colour surface to the border pixels; return it and the border noise.

    A quadratic in x/y captures the vignette of studio shots. The fit is repeated once without
    outliers, because garments often touch the border (long sleeves, trouser legs).
    """
    height, width = lab.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = xs / width - 0.5
    ys = ys / height - 0.5
    basis = np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=-1)
    a_all = basis.reshape(-1, 6)
    a = basis[frame]
    b = lab[frame]
    keep = np.ones(len(a), dtype=bool)
    for _ in range(2):
        coef, *_ = np.linalg.lstsq(a[keep], b[keep], rcond=None)
        resid = np.linalg.norm(b - a @ coef, axis=1)
        med = float(np.median(resid[keep]))
        mad = float(np.median(np.abs(resid[keep] - med))) + 1e-3
        keep = resid < med + 4.0 * 1.4826 * mad + 1.0
    surface = (a_all @ coef).reshape(height, width, 3).astype(np.float32)
    noise = float(np.percentile(resid[keep], 95))
    return surface, noise


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every region of the background not connected to the image border."""
    inverse = (~mask).astype(np.uint8)
    _count, labels = cv2.connectedComponents(inverse, connectivity=4)
    border_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, border_labels[border_labels > 0])
    return ~outside


def _shadow_like(difference: np.ndarray) -> np.ndarray:
    """Pixels that are the background darkened by a shadow (from their Lab difference to it):
    lighter or darker grey of the background's own hue."""
    d_light = difference[..., 0]
    chroma = np.hypot(difference[..., 1], difference[..., 2])
    return (d_light < -1.5) & (d_light > -45.0) & (chroma < 2.0 + 0.08 * -d_light)


def _peel_shadows(
    candidate: np.ndarray, difference: np.ndarray, gradient: np.ndarray
) -> np.ndarray:
    """Remove the drop shadows that product photos have under hems and cuffs.

    A shadow is the background, only darker. Left in, it prints a grey band under the hem and
    closes the gap between a hanging sleeve and the body, which then gets filled. Shadow-coloured
    pixels are peeled off from the outside inwards, a limited depth deep. Skipped when the garment
    itself is grey like a shadow (its outline is crisp enough to stand on its own there).
    """
    height, width = candidate.shape
    # A shadow darkens smoothly; the garment's own outline is a sharp step. The peel does not
    # cross sharp steps, so it stops at the hem instead of eating into a garment's shaded parts.
    shadow = _shadow_like(difference) & candidate & (gradient < _SHADOW_MAX_GRADIENT)
    depth = max(3, int(0.03 * max(height, width)))
    core = cv2.erode(candidate.astype(np.uint8), np.ones((2 * depth + 1, 2 * depth + 1), np.uint8))
    if not core.any():
        return candidate
    garment_colour = np.median(difference[core.astype(bool)], axis=0)
    if _shadow_like(garment_colour[None, None, :])[0, 0]:
        return candidate
    # Geodesic growth from the outside through shadow pixels, at most ``depth`` steps.
    kernel = np.ones((3, 3), np.uint8)
    # Outside is the backdrop and also beyond the photo's edge: a shadow may run off the photo.
    outside = ~candidate | _border_mask(height, width, 1)
    peeled = cv2.dilate(outside.astype(np.uint8), kernel).astype(bool) & shadow
    for _ in range(depth):
        grown = cv2.dilate(peeled.astype(np.uint8), kernel).astype(bool) & shadow
        if np.array_equal(grown, peeled):
            break
        peeled = grown
    return candidate & ~peeled


def _background_holes(
    filled: np.ndarray, mask: np.ndarray, smoothed: np.ndarray, level: float
) -> np.ndarray:
    """Enclosed regions that show the background: the gap between a sleeve and the body, or the
    holes of a distressed tee. They stay transparent so the body shows through, as in reality.

    Tiny specks are noise and stay filled; so does a very large enclosed region, which is more
    likely the flat inside of a white garment than a hole.
    """
    holes = filled & ~mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), 8)
    if count <= 1:
        return np.zeros_like(filled)
    area = max(int(filled.sum()), 1)
    sizes = stats[:, cv2.CC_STAT_AREA]
    # Mean colour difference per hole in one pass (a median per hole would need a loop).
    sums = np.bincount(labels.ravel(), weights=smoothed.ravel(), minlength=count)
    means = sums / np.maximum(sizes, 1)
    keep = (sizes >= 0.0005 * area) & (sizes <= 0.08 * area) & (means < level)
    keep[0] = False
    return keep[labels]


def _trim_outline(mask: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Drop outline pixels that are closer to the background than to the garment next to them.

    Only where the garment stands out clearly (a colour distance well above the noise): there the
    edge evidence makes the mask a pixel too wide, which would draw a halo of backdrop colour.
    Faint garments (white on white) keep their edge-based outline.
    """
    inner = cv2.erode(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(np.float32)
    level = cv2.GaussianBlur(distance * inner, (0, 0), 4.0) / np.maximum(
        cv2.GaussianBlur(inner, (0, 0), 4.0), 1e-3
    )
    backdrop_like = (level > 12.0) & (distance < 0.5 * level)
    # Peel from the outside a few layers deep: JPEG blocks of backdrop stuck to the outline
    # (caught by the edge test) are up to 8 pixels wide.
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(4):
        outline = mask & ~cv2.erode(mask.astype(np.uint8), kernel).astype(bool)
        drop = outline & backdrop_like
        if not drop.any():
            break
        mask = mask & ~drop
    return mask


def _smooth_outline(mask: np.ndarray, sigma: float) -> np.ndarray:
    """The mask with its outlines (and those of its holes) smoothed along their length."""
    contours, hierarchy = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE
    )
    if hierarchy is None:
        return mask
    radius = max(1, int(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma, 1e-3)) ** 2)
    taps /= taps.sum()
    out = np.zeros(mask.shape, np.uint8)
    # Outer outlines first, then the holes cut back out of them.
    for want_holes in (False, True):
        for contour, info in zip(contours, hierarchy[0], strict=True):
            if (info[3] >= 0) != want_holes:
                continue
            points = contour[:, 0, :].astype(np.float64)
            if len(points) > 2 * radius + 1:
                padded = np.concatenate([points[-radius:], points, points[:radius]])
                points = np.stack(
                    [np.convolve(padded[:, i], taps, mode="valid") for i in (0, 1)], axis=1
                )
            polygon = np.round(points).astype(np.int32)[:, None, :]
            cv2.fillPoly(out, [polygon], 0 if want_holes else 1)
    return out.astype(bool)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    if count <= 1:
        return np.zeros_like(mask, dtype=bool)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == largest


def garment_mask(rgb: np.ndarray) -> np.ndarray:
    """Return the hard garment mask (bool, same size as ``rgb``) of a product photo.

    The mask may be empty when nothing stands out from the background.
    """
    return _classical_mask(rgb)[0]


def _classical_mask(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The classical garment mask and the noise of the backdrop around it (Lab units)."""
    small = resize_long_side(rgb, _MASK_SIDE)
    height, width = small.shape[:2]
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    frame = _border_mask(height, width, _BORDER)
    background, noise = _fit_background(lab, frame)

    # Colour evidence: distance to the fitted background, above the border's own noise. A second,
    # smoothed test catches white garments on white-ish backgrounds: they differ by only 3-5 dE
    # (mostly a blue vs. yellow cast), far below single-pixel JPEG noise but well above the noise
    # of the averaged difference.
    difference = lab - background
    distance = np.linalg.norm(difference, axis=2)
    smoothed_diff = cv2.GaussianBlur(difference, (0, 0), 2.0)
    smoothed = np.linalg.norm(smoothed_diff, axis=2)
    # The 95th percentile, not the maximum: JPEG blocks leave a few isolated blobs in the border
    # that must not raise the threshold above a white garment's faint cast.
    smooth_noise = float(np.percentile(smoothed[frame], 95))
    smooth_level = max(2.5, 3.5 * smooth_noise)
    # The smoothing spreads a garment's difference a few pixels out onto the backdrop: shrink the
    # smoothed evidence back by that much (the outline itself comes from the sharp tests).
    faint = cv2.erode(
        (smoothed > smooth_level).astype(np.uint8),
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)),
    ).astype(bool)
    colour_fg = (distance > max(7.0, 2.5 * noise)) | faint
    # Edge evidence: white-on-white garments differ from the background mostly by their outline
    # (a thin shadow or seam), so strong gradients also count, thresholded against the border.
    smooth = cv2.GaussianBlur(lab, (0, 0), 1.0)
    grad = np.zeros((height, width), dtype=np.float32)
    for channel in range(3):
        gx = cv2.Sobel(smooth[..., channel], cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(smooth[..., channel], cv2.CV_32F, 0, 1, ksize=3)
        grad = np.maximum(grad, cv2.magnitude(gx, gy))
    inner_frame = frame & ~_border_mask(height, width, 2)  # the very edge has resize artefacts
    edge_level = float(np.percentile(grad[inner_frame], 99.5))
    edges = grad > max(6.0, 2.0 * edge_level)

    candidate = (colour_fg | edges).astype(np.uint8)
    # Close small gaps in the outline so the background flood cannot leak into a white garment.
    candidate = cv2.morphologyEx(
        candidate, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    )
    candidate = _peel_shadows(
        candidate.astype(bool), cv2.GaussianBlur(difference, (0, 0), 1.0), grad
    )
    filled = _fill_holes(candidate)
    filled &= ~_background_holes(filled, candidate, smoothed, smooth_level)
    # Opening removes specks and thin strands that cling to the garment (threads, slivers of
    # background between a hem and the photo's edge); 2 % of the image is thinner than any strap.
    size = max(5, int(0.02 * max(height, width)) | 1)
    opened = cv2.morphologyEx(
        filled.astype(np.uint8),
        cv2.MORPH_OPEN,
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)),
    )
    mask = _largest_component(opened.astype(bool))
    mask = _fill_holes(mask) & ~_background_holes(_fill_holes(mask), mask, smoothed, smooth_level)
    # The edge band straddles the true outline; pull the mask back by about half of it.
    mask = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    mask = _trim_outline(mask, distance)
    # Smooth the outline: blocky JPEG steps and one-pixel notches would show as a ragged edge.
    mask = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5) >= 0.5
    if mask.any() and float(np.median(distance[mask])) < _FAINT_GARMENT:
        # White on white: the outline comes from faint, smoothed evidence and wobbles by a few
        # pixels (a ragged shoulder line once worn). Smooth it along its length.
        mask = _smooth_outline(mask, _FAINT_OUTLINE_SIGMA * max(height, width))

    if mask.shape != rgb.shape[:2]:
        up = cv2.resize(
            mask.astype(np.float32), (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR
        )
        mask = up >= 0.5
    return mask, noise


def _neural_mask(rgb: np.ndarray) -> np.ndarray | None:
    """The garment mask from the neural matte, cleaned like the classical one; None when the
    model is not installed."""
    probability = matte.neural_matte(rgb)
    if probability is None:
        return None
    mask = _largest_component(probability >= 0.5)
    if not mask.any():
        return mask
    # Pinholes inside the garment are noise; the model leaves real gaps (sleeve to body) open.
    area = int(mask.sum())
    holes = _fill_holes(mask) & ~mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), 8)
    small = np.zeros(count, dtype=bool)
    small[1:] = stats[1:, cv2.CC_STAT_AREA] < 0.0005 * area
    return mask | small[labels]


def _plausible(mask: np.ndarray) -> bool:
    """A garment covers a reasonable share of its photo, and not all of it."""
    share = float(mask.mean())
    return 0.02 <= share <= 0.92


def cut_out_garment(rgb: np.ndarray, max_side: int = 1024) -> GarmentCutout | None:
    """Segment the garment of a product photo; None when no plausible garment is found.

    A garment must cover a reasonable share of the photo and must not fill it entirely (then the
    photo is not a product shot on a plain background).
    """
    work = resize_long_side(rgb, max_side)
    mask, noise = _classical_mask(work)
    if not _plausible(mask) or noise > UNSURE_NOISE:
        # No plain backdrop, or nothing sensible found on it: ask the neural matte.
        neural = _neural_mask(work)
        if neural is not None and _plausible(neural):
            mask = neural
    if not _plausible(mask):
        return None
    # A slightly softened matte, pulled in by a pixel: the outermost pixels of the photo are a
    # blend with the background and would draw a light halo round the garment.
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    alpha = cv2.GaussianBlur(inner.astype(np.float32), (0, 0), 1.0)
    alpha[~mask] = 0.0
    return GarmentCutout(rgb=work, alpha=alpha, mask=mask)
