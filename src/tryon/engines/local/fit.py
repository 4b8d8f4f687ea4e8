"""Where each garment landmark goes on the body: control-point pairs for the warp.

A top is placed by a similarity transform of its torso (shoulder corners onto the person's
shoulders, preserving the garment's proportions, the length clamped to a believable range) and
its sleeves are swung around the shoulder onto the arms. Trousers are placed from the waistband
onto the hips and their leg ends onto the ankles. The warp then interpolates smoothly between
these pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.engines.local.body import Body, Limb
from tryon.engines.local.shape import BottomShape, Sleeve, TopShape

# A worn garment's shoulder seams sit at the outer edge of the shoulders, about 10 % of the
# joint-to-joint distance beyond each shoulder joint.
SHOULDER_SPAN = 1.22
# The top of the shoulders lies a little above the joints MediaPipe reports.
SHOULDER_RAISE = 0.12
# Allowed hem depth below the shoulder line, in torso lengths (shoulder line to hip joints):
# from a cropped jacket to a long shirt.
HEM_RANGE = (0.95, 1.4)
# A flat-laid garment is half its circumference wide; worn, the body is seen from the front and
# the fabric wraps round its sides, so it looks narrower than laid flat.
TORSO_WRAP = 0.85
SLEEVE_WRAP = 0.95
# Seen from the front, a torso is about this many shoulder-joint distances wide at the chest.
CHEST_RANGE = (1.0, 1.5)
# Half the width of an arm (in a sleeve) seen from the front, in shoulder-joint distances.
ARM_HALF_WIDTH = 0.12
# Half the width of a leg at the knee, in shoulder-joint distances (used when not measurable).
LEG_HALF_WIDTH = 0.2
# Waistband: how far above the hip joints (in torso lengths) and how wide (in hip-joint widths).
WAIST_RISE = 0.15
WAIST_SPAN = 1.8
# How far an arm hanging out of view is assumed to angle away from the torso.
_HIDDEN_ARM_ANGLE = np.deg2rad(8.0)


@dataclass(frozen=True)
class Part:
    """One rigid-ish piece of the garment (torso, a sleeve, ...) and where its landmarks go."""

    body_points: np.ndarray  # (N, 2) where the landmarks land on the body
    garment_points: np.ndarray  # (N, 2) the landmarks on the garment photo
    region: tuple[int, int, int, int]  # (left, top, right, bottom) body pixels it can reach
    garment_mask: np.ndarray | None = None  # (H, W) float32 share of the garment in this part
    clip: np.ndarray | None = None  # (K, 2) body polygon the part must stay within
    clip_margin: float = 0.0  # how far (pixels) the part may reach beyond ``clip``
    # For parts cut by a vertical centre line (trouser legs): 0 keeps the image-left half of the
    # garment, 1 the right half; None keeps all (or what ``garment_mask`` says).
    garment_side: int | None = None


@dataclass(frozen=True)
class Fit:
    """The garment's parts, drawn in order (later parts on top)."""

    parts: list[Part]
    # Drawn over the top the person wears (the bib of dungarees), not tucked under it.
    over_top: bool = False
    # A top whose sleeves reach the wrists.
    long_sleeves: bool = False


def _rotate(vector: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([c * vector[0] - s * vector[1], s * vector[0] + c * vector[1]], np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-6)


def _region(points: np.ndarray, margin: float, body: Body) -> tuple[int, int, int, int]:
    lo = points.min(axis=0) - margin
    hi = points.max(axis=0) + margin
    return (
        int(max(0, lo[0])),
        int(max(0, lo[1])),
        int(min(body.width, hi[0])),
        int(min(body.height, hi[1])),
    )


def _arm_line(body: Body, side: int, length: float) -> np.ndarray:
    """The arm's axis as a polyline from the shoulder joint, at least ``length`` long.

    Uses the elbow and wrist when they are in view; an arm out of view (selfies) is assumed to
    hang beside the torso, angled slightly outwards.
    """
    arm: Limb = body.arms[side]
    outward = -1.0 if side == 0 else 1.0
    shoulder = body.shoulders[side]
    if arm.visible[1]:
        elbow = arm.joints[1]
        points = [shoulder, elbow]
        points.append(arm.joints[2] if arm.visible[2] else elbow + (elbow - shoulder))
    else:
        direction = _rotate(body.down, -outward * _HIDDEN_ARM_ANGLE)
        points = [shoulder, shoulder + direction * length]
    path = np.array(points, dtype=np.float32)
    total = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    if total < length:
        tail = _unit(path[-1] - path[-2])
        path = np.vstack([path, path[-1] + tail * (length - total + 1.0)])
    return path


def _offset_line(path: np.ndarray, start: np.ndarray, offset: float, outward: float) -> np.ndarray:
    """A polyline beside ``path`` (``offset`` pixels to its outer side), beginning at ``start``."""
    points = [start]
    for i in range(1, len(path)):
        direction = _unit(path[i] - path[i - 1])
        normal = np.array([-direction[1], direction[0]], np.float32)
        normal = normal if normal[0] * outward > 0 else -normal
        points.append(path[i] + normal * offset)
    return np.array(points, dtype=np.float32)


def _along(path: np.ndarray, distance: float) -> np.ndarray:
    """The point ``distance`` along a polyline (extended past its end along the last segment)."""
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(steps)])
    index = int(np.clip(np.searchsorted(cumulative, distance, side="right") - 1, 0, len(path) - 2))
    direction = _unit(path[index + 1] - path[index])
    return path[index] + direction * (distance - cumulative[index])


def _length_to(path: np.ndarray, index: int) -> float:
    return float(np.linalg.norm(np.diff(path[: index + 1], axis=0), axis=1).sum())


def _sleeve_pairs(
    sleeve: Sleeve,
    body: Body,
    side: int,
    root_b: tuple[np.ndarray, np.ndarray],
    centre_x: float,
    scale: float,
    long_sleeves: bool,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Control points hanging one sleeve on the arm, as its two edges.

    The outer edge runs from the shoulder corner down the outside of the arm, the inner edge from
    the armpit down the inside, each as long as on the garment (scaled). A tee's short underarm
    seam thus gives the slanted sleeve hem of a real tee on a hanging arm; a long sleeve is
    stretched a little, if needed, to end at the wrist.
    """
    outward = -1.0 if side == 0 else 1.0
    axis = sleeve.axis
    perp = np.array([-axis[1], axis[0]], np.float32)
    offset, half = sleeve.sections[-1]
    corners = [sleeve.end + perp * (offset + half), sleeve.end + perp * (offset - half)]
    corners.sort(key=lambda c: -abs(float(c[0]) - centre_x))
    outer_g, inner_g = corners
    outer_len = float(np.linalg.norm(outer_g - sleeve.shoulder))
    inner_len = float(np.linalg.norm(inner_g - sleeve.armpit))

    sw = body.shoulder_width
    width_b = max(half * scale * SLEEVE_WRAP, ARM_HALF_WIDTH * sw * 1.15)
    arm = _arm_line(body, side, scale * outer_len * 1.3)
    outer_path = _offset_line(arm, root_b[0], width_b, outward)
    inner_path = _offset_line(arm, root_b[1], -width_b, outward)
    along_scale = scale
    if long_sleeves and body.arms[side].visible[2]:
        # The cuff covers the wrist bone: the outer edge ends just past the wrist joint.
        to_wrist = _length_to(outer_path, min(2, len(outer_path) - 1)) + 0.06 * sw
        along_scale = float(np.clip(to_wrist / outer_len, 0.8 * scale, 1.3 * scale))

    body_pts, garment_pts = [], []
    for fraction in (0.33, 0.66, 1.0):
        garment_pts.append(sleeve.shoulder + (outer_g - sleeve.shoulder) * fraction)
        body_pts.append(_along(outer_path, fraction * outer_len * along_scale))
        garment_pts.append(sleeve.armpit + (inner_g - sleeve.armpit) * fraction)
        body_pts.append(_along(inner_path, fraction * inner_len * along_scale))
    return body_pts, garment_pts


def _part_masks(shape: TopShape, size: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Soft masks (torso, image-left sleeve, image-right sleeve) over the garment photo.

    The torso is the band between the outlines shoulder corner -> armpit -> hem corner; each
    sleeve is what lies outside it on its side. Masks overlap by a few pixels so that the parts,
    warped separately, join without a visible seam.
    """
    height, width = size
    (sl, sr), (al, ar), (hl, hr) = shape.shoulders, shape.armpits, shape.hem
    polygon = np.array(
        [
            [sl[0], -10],
            sl,
            al,
            hl,
            [hl[0], height + 10],
            [hr[0], height + 10],
            hr,
            ar,
            sr,
            [sr[0], -10],
        ],
        dtype=np.float32,
    )
    torso = np.zeros((height, width), np.uint8)
    cv2.fillPoly(torso, [np.round(polygon).astype(np.int32)], 1)
    overlap = max(2, int(0.004 * max(height, width)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * overlap + 1, 2 * overlap + 1))
    xs = np.arange(width)[None, :]
    centre = float(shape.neck[0])
    masks = [torso]
    masks.append(((torso == 0) & (xs < centre)).astype(np.uint8))
    masks.append(((torso == 0) & (xs >= centre)).astype(np.uint8))
    return tuple(
        cv2.GaussianBlur(cv2.dilate(m, kernel).astype(np.float32), (0, 0), overlap / 2.0)
        for m in masks
    )


def _arm_inner_edge(body: Body, side: int, depth: float) -> float | None:
    """How far from the torso's centre line the inner edge of an arm is, ``depth`` below the
    shoulder line (both in pixels along the body axes); None where the arm is not in view."""
    arm = body.arms[side]
    if not (arm.visible[0] and arm.visible[1]):
        return None
    joints = arm.joints if arm.visible[2] else arm.joints[:2]
    rel = joints - body.shoulder_center
    u = np.abs(rel @ body.across)
    v = rel @ body.down
    for i in range(len(v) - 1):
        lo, hi = sorted((v[i], v[i + 1]))
        if lo <= depth <= hi and hi - lo > 1e-3:
            t = (depth - v[i]) / (v[i + 1] - v[i])
            return float(u[i] + t * (u[i + 1] - u[i])) - ARM_HALF_WIDTH * body.shoulder_width
    return None


def _polygon_of_pairs(first: np.ndarray, second: np.ndarray, pairs: list[np.ndarray]):
    """Outline root-first -> one edge out -> other edge back -> root-second, for clipping."""
    edge_a, edge_b = pairs[0::2], pairs[1::2]
    if np.linalg.norm(edge_a[0] - first) > np.linalg.norm(edge_b[0] - first):
        edge_a, edge_b = edge_b, edge_a
    return np.array([first, *edge_a, *edge_b[::-1], second], dtype=np.float32)


def fit_top(
    shape: TopShape,
    body: Body,
    garment_size: tuple[int, int],
    hem_range: tuple[float, float] | None = None,
) -> Fit:
    """Parts and control points dressing ``body`` in the top described by ``shape``.

    ``garment_size`` is the (height, width) of the garment photo; ``hem_range`` overrides how deep
    (in torso lengths) the hem may fall, e.g. for dresses.
    """
    sw = body.shoulder_width
    across, down = body.across, body.down
    origin_b = body.shoulder_center - down * SHOULDER_RAISE * sw
    origin_g = shape.shoulder_center
    scale = SHOULDER_SPAN * sw / max(shape.shoulder_width, 1e-6)
    shoulder_y = float(origin_g[1])
    armpit_y = float(shape.armpits[:, 1].mean())
    hem_y = float(shape.hem_center[1])

    # Keep the garment's proportions, but let the hem land between a cropped and a long fit.
    hem_depth = scale * (hem_y - shoulder_y)
    lo, hi = (f * body.torso_length for f in (hem_range or HEM_RANGE))
    scale_y = scale * float(np.clip(hem_depth, lo, hi)) / max(hem_depth, 1e-6)

    # Horizontal scale per side at the shoulders, armpits and hem. Below the shoulders the garment
    # narrows as it wraps round the body, but always reaches the inner edge of the arm, so no
    # strip of the old clothes shows between the new garment's body and the arm.
    knots_y = [shoulder_y, armpit_y, hem_y]
    side_scales = []
    for side in (0, 1):
        scales = [scale]
        for level, point in ((armpit_y, shape.armpits[side]), (hem_y, shape.hem[side])):
            half_g = max(abs(float(point[0] - origin_g[0])), 1.0)
            half_b = half_g * scale * TORSO_WRAP
            depth = (level - shoulder_y) * scale_y - SHOULDER_RAISE * sw
            arm_edge = _arm_inner_edge(body, side, depth)
            if arm_edge is not None:
                half_b = max(half_b, arm_edge)
            half_b = float(np.clip(half_b, 0.5 * CHEST_RANGE[0] * sw, 0.5 * CHEST_RANGE[1] * sw))
            scales.append(half_b / half_g)
        side_scales.append(scales)

    def torso(point: np.ndarray) -> np.ndarray:
        d = point - origin_g
        side = 0 if d[0] < 0 else 1
        scale_x = float(np.interp(point[1], knots_y, side_scales[side]))
        return origin_b + across * (d[0] * scale_x) + down * (d[1] * scale_y)

    torso_g = [
        shape.neck,
        *shape.shoulders,
        *shape.armpits,
        *shape.hem,
        shape.hem_center,
        (shape.neck + shape.hem_center) / 2,
        (shape.armpits[0] + shape.hem[0]) / 2,
        (shape.armpits[1] + shape.hem[1]) / 2,
    ]
    torso_b = np.array([torso(p) for p in torso_g], dtype=np.float32)
    masks = _part_masks(shape, garment_size)
    parts = [
        Part(
            body_points=torso_b,
            garment_points=np.array(torso_g, dtype=np.float32),
            region=_region(torso_b, 0.25 * sw, body),
            garment_mask=masks[0],
        )
    ]
    for side, sleeve in enumerate(shape.sleeves):
        if sleeve is None:
            continue
        root_g = [shape.shoulders[side], shape.armpits[side]]
        root_b = [torso(p) for p in root_g]
        b, g = _sleeve_pairs(
            sleeve,
            body,
            side,
            (root_b[0], root_b[1]),
            float(origin_g[0]),
            scale,
            shape.long_sleeves,
        )
        body_pts = np.array(root_b + b, dtype=np.float32)
        parts.append(
            Part(
                body_points=body_pts,
                garment_points=np.array(root_g + g, dtype=np.float32),
                region=_region(body_pts, 0.3 * sw, body),
                garment_mask=masks[1 + side],
                # A spline extrapolates wildly away from its points: keep the sleeve to the band
                # its points span (slightly widened), or bits of it land on the chest.
                clip=_polygon_of_pairs(root_b[0], root_b[1], b),
                clip_margin=0.06 * sw,
            )
        )
    return Fit(parts=parts, long_sleeves=shape.long_sleeves)


def _limb_half_width(body: Body, point: np.ndarray, fallback: float) -> float:
    """Half the width of the person's silhouette across a joint (leg at the knee, ...).

    Measured on the person mask along the row through the joint; ``fallback`` when the row
    around the joint is empty or implausibly wide (both legs merged, a long coat).
    """
    x, y = round(float(point[0])), round(float(point[1]))
    if not (0 <= y < body.height and 0 <= x < body.width):
        return fallback
    row = body.person[y] >= 0.5
    if not row[x]:
        return fallback
    left = x
    while left > 0 and row[left - 1]:
        left -= 1
    right = x
    while right < body.width - 1 and row[right + 1]:
        right += 1
    half = 0.5 * (right - left + 1)
    return half if half < 2.5 * fallback else fallback


def fit_bottom(shape: BottomShape, body: Body, garment_size: tuple[int, int] | None = None) -> Fit:
    """Parts and control points dressing ``body`` in the trousers / skirt described by ``shape``.

    Each leg is hung along the person's leg as two edges: the outside seam from the waistband
    corner over the hip and knee, the inside seam from the crotch down, each at the garment's
    width (never narrower than the leg it covers). Full-length trousers end at the ankle; shorter
    ones keep their own (scaled) length. The bib of dungarees (``garment_size``, the photo's
    (height, width), is then needed) rises from the waistband, its straps to the shoulders.
    """
    fit = _fit_bottom(shape, body)
    if shape.bib is None or garment_size is None:
        return fit
    return _with_bib(fit, shape, body, garment_size)


def _waist(body: Body, shape: BottomShape) -> tuple[list[np.ndarray], np.ndarray, float]:
    """Body waistband corners, its centre, and the garment-to-body scale."""
    hip_width = float(np.linalg.norm(body.hips[1] - body.hips[0]))
    waist_c = body.hip_center - body.down * WAIST_RISE * body.torso_length
    waist_half = 0.5 * WAIST_SPAN * hip_width
    waist_b = [waist_c - body.across * waist_half, waist_c + body.across * waist_half]
    return waist_b, waist_c, 2 * waist_half / max(shape.waist_width, 1e-6)


def _with_bib(fit: Fit, shape: BottomShape, body: Body, garment_size: tuple[int, int]) -> Fit:
    """Add the bib and straps of dungarees: a part above the waistband, mapped by the trousers'
    own scale from the waistband up, the straps' ends pinned to the tops of the shoulders."""
    bib = shape.bib
    assert bib is not None
    height, width = garment_size
    sw = body.shoulder_width
    down, across = body.down, body.across
    waist_b, waist_c, scale = _waist(body, shape)
    centre_g = shape.waist_center
    # Strap ends: on top of the shoulders, between the neck and the shoulder joint.
    straps_b = [
        body.shoulders[i] * 0.7 + body.shoulder_center * 0.3 - down * SHOULDER_RAISE * sw
        for i in (0, 1)
    ]
    reach = float(np.mean([(waist_c - p) @ down for p in straps_b]))
    bib_height = min(scale * float(centre_g[1] - bib.top[:, 1].mean()), reach - 0.25 * sw)
    bib_height = max(bib_height, 0.2 * reach)
    top_b = [
        waist_c + across * scale * float(p[0] - centre_g[0]) - down * bib_height for p in bib.top
    ]
    garment_pts = np.array(
        [*shape.waist, centre_g, *bib.top, (bib.top[0] + bib.top[1]) / 2, *bib.straps],
        dtype=np.float32,
    )
    body_pts = np.array(
        [*waist_b, waist_c, *top_b, (top_b[0] + top_b[1]) / 2, *straps_b], dtype=np.float32
    )
    # Garment rows above / below the waistband, overlapping a little so the parts join.
    overlap = max(2.0, 0.01 * height)
    rows = np.arange(height, dtype=np.float32)[:, None]
    above = np.clip((bib.waist_y + overlap - rows) / (2 * overlap), 0.0, 1.0)
    above = np.ascontiguousarray(np.broadcast_to(above, (height, width)))
    below = 1.0 - above
    parts = [
        Part(
            body_points=part.body_points,
            garment_points=part.garment_points,
            region=part.region,
            garment_mask=below if part.garment_mask is None else part.garment_mask * below,
            clip=part.clip,
            clip_margin=part.clip_margin,
            garment_side=part.garment_side,
        )
        for part in fit.parts
    ]
    parts.append(
        Part(
            body_points=body_pts,
            garment_points=garment_pts,
            region=_region(body_pts, 0.3 * sw, body),
            garment_mask=above,
        )
    )
    return Fit(parts=parts, over_top=True)


def _fit_bottom(shape: BottomShape, body: Body) -> Fit:
    sw = body.shoulder_width
    down = body.down
    torso = body.torso_length
    # The waistband sits above the hip joints and spans the hips' outer edges.
    waist_b, waist_c, scale = _waist(body, shape)
    if shape.crotch is None:
        return _fit_skirt(shape, body, waist_b, waist_c, scale)
    crotch_g = shape.crotch
    crotch_depth = float(
        np.clip(scale * float(crotch_g[1] - shape.waist_center[1]), 0.3 * torso, 0.6 * torso)
    )
    crotch_b = waist_c + down * crotch_depth

    parts = []
    for side in (0, 1):
        outward = -1.0 if side == 0 else 1.0
        leg = body.legs[side]
        hip, knee, ankle = (np.asarray(j, np.float32) for j in leg.joints)
        if not leg.visible[2]:
            ankle = knee + (knee - hip)  # shin about as long as the thigh
        outer_g, inner_g = shape.leg_ends[side]
        outer_len_g = float(np.linalg.norm(outer_g - shape.waist[side]))
        inner_len_g = float(np.linalg.norm(inner_g - crotch_g))
        end_half_g = 0.5 * float(np.linalg.norm(outer_g - inner_g))

        knee_half = max(
            _limb_half_width(body, knee, LEG_HALF_WIDTH * sw) * 1.05, end_half_g * scale * 0.9
        )
        ankle_half = max(
            _limb_half_width(body, ankle, 0.8 * LEG_HALF_WIDTH * sw) * 1.05,
            end_half_g * scale * 0.9,
        )
        axis = np.array([hip, knee, ankle + (ankle - knee) * 0.05], np.float32)
        outer_path = _offset_line(axis, waist_b[side], knee_half, outward)
        outer_path[-1] = axis[-1] + (outer_path[-1] - axis[-1]) * (ankle_half / knee_half)
        inner_path = _offset_line(axis[1:], crotch_b, -knee_half, outward)
        inner_path[-1] = axis[-1] + (inner_path[-1] - axis[-1]) * (ankle_half / knee_half)

        # Full-length trousers end at the ankle; shorts and cropped legs keep their length.
        full_outer = _length_to(outer_path, len(outer_path) - 1)
        full_inner = _length_to(inner_path, len(inner_path) - 1)
        if outer_len_g * scale > 0.8 * full_outer:
            outer_scale, inner_scale = full_outer / outer_len_g, full_inner / inner_len_g
        else:
            outer_scale = inner_scale = scale

        garment_pts = [shape.waist[side], shape.waist_center, crotch_g]
        body_pts = [waist_b[side], waist_c, crotch_b]
        outer_b, inner_b = [], []
        for fraction in (0.25, 0.5, 0.75, 1.0):
            garment_pts.append(shape.waist[side] + (outer_g - shape.waist[side]) * fraction)
            outer_b.append(_along(outer_path, fraction * outer_len_g * outer_scale))
            garment_pts.append(crotch_g + (inner_g - crotch_g) * fraction)
            inner_b.append(_along(inner_path, fraction * inner_len_g * inner_scale))
            body_pts += [outer_b[-1], inner_b[-1]]
        body_arr = np.array(body_pts, dtype=np.float32)
        clip = np.array([waist_b[side], *outer_b, *inner_b[::-1], crotch_b, waist_c], np.float32)
        parts.append(
            Part(
                body_points=body_arr,
                garment_points=np.array(garment_pts, dtype=np.float32),
                region=_region(body_arr, 0.3 * sw, body),
                clip=clip,
                clip_margin=0.05 * sw,
                garment_side=side,
            )
        )
    return Fit(parts=parts)


def _fit_skirt(
    shape: BottomShape, body: Body, waist_b: list[np.ndarray], waist_c: np.ndarray, scale: float
) -> Fit:
    """A skirt (no crotch): hung from the waistband at its own proportions, in one piece.

    Where the legs stand apart the skirt is still clipped to the person, because the background
    between the legs must not change: it reads more like culottes there.
    """
    down, across = body.down, body.across
    hem_g = [shape.leg_ends[0, 0], shape.leg_ends[1, 0]]
    length = scale * float(np.mean([h[1] for h in hem_g]) - shape.waist_center[1])
    # Never past the ankles.
    longest = float(np.mean([(leg.joints[2] - waist_c) @ down for leg in body.legs])) * 1.03
    if longest > 0:
        length = min(length, longest)
    hem_c = waist_c + down * length
    half = 0.5 * scale * float(hem_g[1][0] - hem_g[0][0])
    hem_b = [hem_c - across * half, hem_c + across * half]
    garment_pts = [*shape.waist, shape.waist_center, *hem_g, (hem_g[0] + hem_g[1]) / 2]
    body_arr = np.array([*waist_b, waist_c, *hem_b, hem_c], dtype=np.float32)
    part = Part(
        body_points=body_arr,
        garment_points=np.array(garment_pts, dtype=np.float32),
        region=_region(body_arr, 0.3 * body.shoulder_width, body),
    )
    return Fit(parts=[part])
