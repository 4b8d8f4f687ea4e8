"""Hide the old clothes where the new garment is shorter or narrower than them.

A new garment rarely covers exactly what the person wears: a tee ends above a long hoodie's hem, a
slim shirt leaves a strip of a baggy sweater at the side, a sleeve warped along the arm leaves a
sliver of the old clothes between itself and the body, new trousers end above the old ones on a
striding leg. Those strips of the old clothes are found by colour (the clothes under the new
garment are sampled, and pixels of that colour connected to them are the old garment) and are
covered by extending the new garment's own texture outwards: every such pixel takes the colour of
the garment found by stepping from it to the nearest garment pixel and on, past the garment's edge
band (so a hem seam is not mirrored), into its fabric.

Only strips near the new garment are covered (up to a share of the shoulder width away), never the
face, hands, feet, hair or background, and never an old long sleeve under a new short one: that
reads as layering, while a tee stretched down the arm would read as a long sleeve.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.engines.local.body import Body, _colour_distance, _lab

# How far from the new garment (in shoulder widths) old clothes are still covered.
REACH = 0.35
# Pixels within this colour distance of a sampled colour of the old clothes belong to them.
COLOUR_TOLERANCE = 10.0
# The texture is taken this far (in shoulder widths) inside the garment's edge.
EDGE_BAND = 0.12
# Strips smaller than this share of the garment's area are not worth covering (noise).
_MIN_SHARE = 0.002
# Uncovered pockets inside the garment smaller than this share of its area are closed.
_MAX_GAP_SHARE = 0.03


def _disk_samples(
    lab: np.ndarray, inside: np.ndarray, points: list[np.ndarray], radius: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """Median colours around ``points`` (within the person) and the union of their disks."""
    height, width = inside.shape
    seeds = np.zeros((height, width), dtype=bool)
    colours = []
    r = max(2, round(radius))
    for point in points:
        x, y = round(float(point[0])), round(float(point[1]))
        if not (0 <= x < width and 0 <= y < height):
            continue
        disk = np.zeros((height, width), np.uint8)
        cv2.circle(disk, (x, y), r, 1, -1)
        area = disk.astype(bool) & inside
        if area.sum() >= 10:
            colours.append(np.median(lab[area], axis=0))
            seeds |= area
    return colours, seeds


def old_clothes(
    body: Body,
    rgb: np.ndarray,
    covered: np.ndarray,
    allowed: np.ndarray,
    kind: str,
    long_sleeves: bool,
) -> np.ndarray:
    """The old clothes (bool mask) that a new garment of ``kind`` ("top" or "bottom") replaces:
    the colours found under the new garment, connected to where they were sampled.

    Only the window the extension can reach (the garment's box grown by ``REACH``) is examined.
    """
    full = np.zeros(covered.shape, dtype=bool)
    ys, xs = np.nonzero(covered)
    if ys.size == 0:
        return full
    grow = int(REACH * body.shoulder_width) + 2
    y0, y1 = max(0, ys.min() - grow), min(covered.shape[0], ys.max() + 1 + grow)
    x0, x1 = max(0, xs.min() - grow), min(covered.shape[1], xs.max() + 1 + grow)
    full[y0:y1, x0:x1] = _old_clothes_in(
        body,
        rgb[y0:y1, x0:x1],
        covered[y0:y1, x0:x1],
        allowed[y0:y1, x0:x1] & (body.person[y0:y1, x0:x1] >= 0.5),
        np.array([x0, y0], dtype=np.float32),
        kind,
        long_sleeves,
    )
    return full


def _old_clothes_in(
    body: Body,
    rgb: np.ndarray,
    covered: np.ndarray,
    inside: np.ndarray,
    offset: np.ndarray,
    kind: str,
    long_sleeves: bool,
) -> np.ndarray:
    """``old_clothes`` in a window whose top-left corner is ``offset`` in the body's pixels."""
    height, width = covered.shape
    sw = body.shoulder_width
    # Knit, weave and noise make single pixels of one cloth stray far from its colour: compare
    # colours smoothed over a few pixels, and close the pinholes left in the result.
    lab = cv2.GaussianBlur(_lab(rgb), (0, 0), max(1.0, 0.012 * sw))
    down, across = body.down, body.across
    torso = body.torso_length
    yy, xx = np.mgrid[0:height, 0:width]
    xx = xx + offset[0]
    yy = yy + offset[1]
    depth = (xx - body.shoulder_center[0]) * down[0] + (yy - body.shoulder_center[1]) * down[1]
    radius = 0.05 * sw
    thighs = [leg.joints[0] + 0.6 * (leg.joints[1] - leg.joints[0]) for leg in body.legs]
    if kind == "bottom":
        points = list(thighs)
        points += [leg.joints[1] + 0.5 * (leg.joints[2] - leg.joints[1]) for leg in body.legs]
        # Below the crotch only: higher up, whatever hangs over the hips (a blazer's flaps, a
        # long top) is not the old trousers, even when it has their colour.
        zone = depth > torso * 1.3
    else:
        points = [
            body.shoulder_center + down * f * torso + across * dx * sw
            for f in (0.35, 0.6, 0.85)
            for dx in (-0.25, 0.0, 0.25)
        ]
        zone = (depth > -0.2 * sw) & (depth < torso * 1.6)
    # Sample only where the new garment will be: that is what it replaces.
    points = [p - offset for p in points if _covered_at(covered, p - offset)]
    colours, seeds = _disk_samples(lab, inside, points, radius)
    if not colours:
        return np.zeros((height, width), dtype=bool)
    legs_colours: list[np.ndarray] = []
    if kind != "bottom" and body.legs_visible():
        legs_colours, _ = _disk_samples(lab, inside, [t - offset for t in thighs], radius)
    similar = np.zeros((height, width), dtype=bool)
    for colour in colours:
        near = _colour_distance(lab, colour) < COLOUR_TOLERANCE
        # A top the colour of the trousers is taken to end at the hip line.
        if any(float(_colour_distance(colour[None, None], c)[0, 0]) < 12.0 for c in legs_colours):
            near &= depth < torso
        similar |= near
    candidate = (similar & zone & inside) | seeds
    if kind != "bottom" and not long_sleeves:
        candidate &= ~_forearms(body, height, width, offset)
    _count, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[seeds & (labels > 0)])
    region = np.isin(labels, touching[touching > 0])
    size = max(3, int(0.03 * sw) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    region = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, kernel).astype(bool)
    return region & inside


def enclosed_gaps(covered: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Small uncovered pockets the new garment surrounds (a sliver of shadow between a sleeve
    and the body, a pinhole): whatever they show, they are inside the new garment."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~covered).astype(np.uint8), 4)
    if count <= 1:
        return np.zeros_like(covered)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    small = stats[:, cv2.CC_STAT_AREA] < _MAX_GAP_SHARE * max(int(covered.sum()), 1)
    small[border] = False
    small[0] = False  # label 0: the garment itself
    return small[labels] & ~covered & allowed


def _covered_at(covered: np.ndarray, point: np.ndarray) -> bool:
    x, y = round(float(point[0])), round(float(point[1]))
    return 0 <= y < covered.shape[0] and 0 <= x < covered.shape[1] and bool(covered[y, x])


def _forearms(body: Body, height: int, width: int, offset: np.ndarray) -> np.ndarray:
    """The arms from a third down the upper arm (where a short sleeve does not reach)."""
    out = np.zeros((height, width), np.uint8)
    r = max(2, round(0.14 * body.shoulder_width))
    for arm in body.arms:
        if not arm.visible[1]:
            continue
        shoulder, elbow, wrist = arm.joints - offset
        start = shoulder + 0.35 * (elbow - shoulder)
        end = wrist if arm.visible[2] else elbow + (elbow - shoulder)
        for a, b in ((start, elbow), (elbow, end)):
            cv2.line(out, _pt(a), _pt(b), 1, 2 * r)
        cv2.circle(out, _pt(end), r, 1, -1)
    return out.astype(bool)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def extend_over(
    layer: np.ndarray,
    alpha: np.ndarray,
    hide: np.ndarray,
    shoulder_width: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Cover ``hide`` (bool) with the garment's texture extended from its nearest pixels.

    Returns the new (layer, alpha); pixels outside ``hide`` keep their values.
    """
    covered = alpha >= 0.5
    if not covered.any():
        return layer, alpha
    distance, labels = cv2.distanceTransformWithLabels(
        (~covered).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    reach = REACH * shoulder_width
    hide = hide & ~covered & (distance <= reach)
    if hide.sum() < _MIN_SHARE * covered.sum():
        return layer, alpha
    # Coordinates of the nearest garment pixel, by label (read off the garment pixels themselves).
    gy, gx = np.nonzero(covered)
    lookup = np.zeros((int(labels.max()) + 1, 2), dtype=np.float32)
    lookup[labels[gy, gx]] = np.stack([gx, gy], axis=1)
    hy, hx = np.nonzero(hide)
    nearest = lookup[labels[hy, hx]]
    step = nearest - np.stack([hx, hy], axis=1).astype(np.float32)
    length = np.maximum(np.linalg.norm(step, axis=1, keepdims=True), 1e-3)
    # Step on past the nearest garment pixel, across its edge band, as far again as we came.
    source = nearest + step / length * (length + EDGE_BAND * shoulder_width)
    height, width = alpha.shape
    sx = np.clip(np.round(source[:, 0]).astype(np.int64), 0, width - 1)
    sy = np.clip(np.round(source[:, 1]).astype(np.int64), 0, height - 1)
    inside = covered[sy, sx]
    nx, ny = nearest[:, 0].astype(np.int64), nearest[:, 1].astype(np.int64)
    sx, sy = np.where(inside, sx, nx), np.where(inside, sy, ny)
    out_layer = layer.copy()
    out_layer[hy, hx] = layer[sy, sx]
    # Soften the outer boundary of the extension a little; inside it the cover is opaque.
    soft = cv2.GaussianBlur(hide.astype(np.float32), (0, 0), 1.0)
    extension = np.where(hide, np.maximum(soft, 0.5) * 2.0, 0.0).clip(0.0, 1.0)
    out_alpha = np.maximum(alpha, extension.astype(np.float32))
    return out_layer, out_alpha
