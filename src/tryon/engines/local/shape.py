"""Garment landmarks read off the shape of the garment mask.

Product photos are flat-lays or ghost-mannequin shots seen from the front and roughly mirror
symmetric, so a handful of geometric rules find the points a tailor would name: the collar, the
shoulder corners, the armpits, the hem and the sleeve ends of a top; the waistband, crotch and leg
ends of a pair of trousers. Coordinates are (x, y) pixels of the mask; "left"/"right" mean image
sides (index 0 = image left).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Positions along a sleeve (0 = middle of its root, 1 = its opening) where its width is measured.
SLEEVE_STATIONS = (0.35, 0.7, 1.0)


@dataclass(frozen=True)
class Sleeve:
    """One sleeve: its root (shoulder corner to armpit), its opening, and its width."""

    shoulder: np.ndarray  # (2,) upper end of the root, the shoulder corner
    armpit: np.ndarray  # (2,) lower end of the root
    end: np.ndarray  # (2,) centre of the opening (cuff)
    # At each of SLEEVE_STATIONS: (offset of the sleeve's middle from the axis, half width).
    sections: tuple[tuple[float, float], ...]

    @property
    def root(self) -> np.ndarray:
        """Middle of the sleeve's root, where its centre line starts."""
        return (self.shoulder + self.armpit) / 2.0

    @property
    def length(self) -> float:
        """Length of the centre line, root to opening."""
        return float(np.linalg.norm(self.end - self.root))

    @property
    def axis(self) -> np.ndarray:
        """Unit vector along the centre line."""
        return (self.end - self.root) / max(self.length, 1e-6)


@dataclass(frozen=True)
class TopShape:
    """Landmarks of a top (shirt, tee, sweater, jacket, ...)."""

    neck: np.ndarray  # (2,) top of the collar at the centre line
    shoulders: np.ndarray  # (2, 2) shoulder corners, image left then right
    armpits: np.ndarray  # (2, 2)
    hem: np.ndarray  # (2, 2) lower corners of the body of the garment
    hem_center: np.ndarray  # (2,)
    sleeves: tuple[Sleeve | None, Sleeve | None]
    long_sleeves: bool

    @property
    def shoulder_width(self) -> float:
        """Distance between the shoulder corners."""
        return float(np.linalg.norm(self.shoulders[1] - self.shoulders[0]))

    @property
    def shoulder_center(self) -> np.ndarray:
        """Midpoint of the shoulder corners."""
        return self.shoulders.mean(axis=0)


@dataclass(frozen=True)
class Bib:
    """The bib and straps of dungarees / overalls, above their waistband."""

    waist_y: float  # the row where the bib meets the trousers (the waistband)
    top: np.ndarray  # (2, 2) upper corners of the bib itself, image left then right
    straps: np.ndarray  # (2, 2) upper ends of the straps, image left then right


@dataclass(frozen=True)
class BottomShape:
    """Landmarks of trousers, shorts, leggings or a skirt (and of the bib of dungarees)."""

    waist: np.ndarray  # (2, 2) waistband corners, image left then right
    crotch: np.ndarray | None  # (2,) top of the gap between the legs; None for skirts
    leg_ends: np.ndarray  # (2, 2, 2) per leg: [outer, inner] hem corners
    length: float  # waistband to the lowest hem
    bib: Bib | None = None

    @property
    def waist_center(self) -> np.ndarray:
        """Midpoint of the waistband."""
        return self.waist.mean(axis=0)

    @property
    def waist_width(self) -> float:
        """Width of the waistband."""
        return float(np.linalg.norm(self.waist[1] - self.waist[0]))


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, end) runs of True in a 1-D bool array."""
    padded = np.concatenate([[0], row.astype(np.int8), [0]])
    change = np.diff(padded)
    return list(zip(np.nonzero(change == 1)[0], np.nonzero(change == -1)[0], strict=True))


def _run_containing(row: np.ndarray, x: float) -> tuple[int, int] | None:
    for start, end in _runs(row):
        if start <= x < end:
            return start, end
    return None


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def analyse_top(mask: np.ndarray) -> TopShape:
    """Find the landmarks of a top from its mask."""
    x0, y0, x1, y1 = _bbox(mask)
    width, height = x1 - x0, y1 - y0
    # The centre line from the upper third only: collars and shoulders are symmetric, while
    # hanging straps, chains or an open front lower down are not.
    _ys, xs = np.nonzero(mask[y0 : y0 + max(1, height // 3)])
    cx = float(np.median(xs))

    columns = mask.any(axis=0)
    top = np.where(columns, mask.argmax(axis=0), y1).astype(np.float32)
    bottom = np.where(columns, mask.shape[0] - 1 - mask[::-1].argmax(axis=0), y0).astype(np.float32)
    centre_cols = slice(int(cx - 0.04 * width), int(cx + 0.04 * width) + 1)
    neck = np.array([cx, float(top[centre_cols].min())], dtype=np.float32)

    # Shoulder corners: follow the upper outline outwards from beside the collar; the shoulder
    # ends where the outline turns steeper than 45 degrees (the sleeve falls away from there,
    # whether it sticks out like a tee's or hangs down like a shirt's). The slope is taken over a
    # wide window so that the step at the edge of a collar or a frayed seam does not count.
    window = max(3, int(0.05 * width))
    halves = []
    for side in (-1, 1):
        start = round(cx + side * 0.15 * width)
        extreme = x0 if side < 0 else x1 - 1
        xs_side = np.arange(start, extreme + side, side)
        xs_side = xs_side[columns[xs_side]]
        profile = top[xs_side]
        if len(profile) <= window:
            halves.append(0.29 * width)
            continue
        slope = (profile[window:] - profile[:-window]) / window
        steep = np.nonzero(slope > 1.0)[0]
        corner_x = float(xs_side[steep[0]]) if steep.size else float(xs_side[-1])
        halves.append(abs(corner_x - cx))
    # Product shots are symmetric: use one half-width for both sides, the average when the two
    # agree, else the one nearer the typical 29 % of the garment's width.
    if abs(halves[0] - halves[1]) < 0.05 * width:
        half = float(np.mean(halves))
    else:
        half = float(min(halves, key=lambda h: abs(h - 0.29 * width)))
    # Sanity bounds from flat-lay proportions: shoulders span roughly 45-75 % of the width.
    half = float(np.clip(half, 0.22 * width, 0.38 * width))
    shoulders = [[cx + side * half, float(top[round(cx + side * half)])] for side in (-1, 1)]
    shoulder_arr = np.array(shoulders, dtype=np.float32)
    shoulder_y = float(shoulder_arr[:, 1].mean())

    # Hem: the bottom of the garment body around the centre line.
    hem_y = float(np.median(bottom[int(cx - 0.15 * width) : int(cx + 0.15 * width) + 1]))
    body_height = hem_y - shoulder_y

    # Torso sides: in the lower body rows, the run around the centre is the torso alone when the
    # sleeves are short or hang free; when they touch it, fall back to the shoulder corners.
    half_shoulder = 0.5 * abs(shoulder_arr[1, 0] - shoulder_arr[0, 0])
    side_half = []
    for frac in (0.7, 0.8):
        y = int(shoulder_y + frac * body_height)
        run = _run_containing(mask[y], cx)
        if run is not None:
            side_half.append([cx - run[0], run[1] - cx])
    hem_half = np.array([half_shoulder, half_shoulder], dtype=np.float32)
    if side_half:
        measured = np.median(np.array(side_half, dtype=np.float32), axis=0)
        ok = (measured > 0.7 * half_shoulder) & (measured < 1.3 * half_shoulder)
        hem_half = np.where(ok, measured, hem_half)
    hem = np.array([[cx - hem_half[0], hem_y], [cx + hem_half[1], hem_y]], dtype=np.float32)
    # Corners of a curved shirt tail sit higher than the centre of the hem.
    for i in range(2):
        xi = int(np.clip(round(hem[i, 0] + (4 if i == 0 else -4)), x0, x1 - 1))
        hem[i, 1] = min(hem_y, float(bottom[xi]))

    # Armpits: below a short sleeve, the outline turns back in to the torso side. Found as the
    # first row under the sleeve whose centre run has shrunk to the torso width.
    armpits = []
    for i, side in enumerate((-1, 1)):
        torso_half = float(hem_half[i])
        found = None
        for y in range(int(shoulder_y + 0.15 * body_height), int(shoulder_y + 0.6 * body_height)):
            run = _run_containing(mask[y], cx)
            if run is None:
                continue
            extent = cx - run[0] if side < 0 else run[1] - cx
            if extent <= torso_half * 1.08:
                found = y
                break
        armpit_y = found if found is not None else shoulder_y + 0.3 * body_height
        armpit_y = float(
            np.clip(armpit_y, shoulder_y + 0.15 * body_height, shoulder_y + 0.5 * body_height)
        )
        armpits.append([cx + side * torso_half, armpit_y])
    armpit_arr = np.array(armpits, dtype=np.float32)

    sleeves = (
        _find_sleeve(mask, shoulder_arr[0], armpit_arr[0], hem[0], -1),
        _find_sleeve(mask, shoulder_arr[1], armpit_arr[1], hem[1], 1),
    )
    lengths = [s.length for s in sleeves if s is not None]
    long_sleeves = bool(lengths) and float(np.mean(lengths)) > 0.62 * body_height
    return TopShape(
        neck=neck,
        shoulders=shoulder_arr,
        armpits=armpit_arr,
        hem=hem,
        hem_center=np.array([cx, hem_y], dtype=np.float32),
        sleeves=sleeves,
        long_sleeves=long_sleeves,
    )


def _find_sleeve(
    mask: np.ndarray, shoulder: np.ndarray, armpit: np.ndarray, hem: np.ndarray, side: int
) -> Sleeve | None:
    """The sleeve on one side: mask pixels outside the torso outline shoulder-armpit-hem."""
    height, width = mask.shape
    step = max(1, int(max(height, width) / 256))  # subsample: the sleeve is large and smooth
    ys, xs = np.nonzero(mask[::step, ::step])
    xs = xs.astype(np.float32) * step
    ys = ys.astype(np.float32) * step
    # Torso side line: shoulder -> armpit -> hem, interpolated per row; beyond shoulder height the
    # vertical through the shoulder corner.
    side_x = np.interp(ys, [shoulder[1], armpit[1], hem[1]], [shoulder[0], armpit[0], hem[0]])
    outside = (xs - side_x) * side > 2 * step
    if outside.sum() < 20:
        return None
    pts = np.stack([xs[outside], ys[outside]], axis=1)
    # The sleeve axis runs from the middle of its root (shoulder corner to armpit) through the
    # sleeve's centroid; the opening is where the sleeve ends along that axis. (The farthest pixel
    # from the shoulder would be the tip or the underarm corner of a short, wide sleeve.)
    root_mid = (shoulder + armpit) / 2.0
    axis = pts.mean(axis=0) - root_mid
    axis = axis / max(float(np.linalg.norm(axis)), 1e-6)
    along = (pts - root_mid) @ axis
    reach = float(np.percentile(along, 99))
    end = root_mid + axis * reach
    # Width at a few stations along the axis, from the pixels near each station.
    across = np.array([-axis[1], axis[0]])
    offsets = (pts - root_mid) @ across
    sections = []
    for station in SLEEVE_STATIONS:
        near = np.abs(along - station * reach) < max(0.08 * reach, 2.0 * step)
        if near.sum() >= 3:
            lo, hi = np.percentile(offsets[near], [3, 97])
            sections.append((float(hi + lo) / 2.0, max(float(hi - lo) / 2.0, 2.0 * step)))
        else:
            sections.append(sections[-1] if sections else (0.0, 4.0 * step))
    return Sleeve(
        shoulder=shoulder.astype(np.float32),
        armpit=armpit.astype(np.float32),
        end=end.astype(np.float32),
        sections=tuple(sections),
    )


def _row_widths(mask: np.ndarray, y0: int, y1: int) -> np.ndarray:
    """Extent (rightmost - leftmost + 1) of the mask in each row from y0 to y1 (0 if empty)."""
    rows = mask[y0:y1]
    filled = rows.any(axis=1)
    left = np.argmax(rows, axis=1)
    right = rows.shape[1] - 1 - np.argmax(rows[:, ::-1], axis=1)
    return np.where(filled, right - left + 1, 0).astype(np.float32)


def find_bib(mask: np.ndarray) -> Bib | None:
    """The bib of dungarees: a top part clearly narrower than the hips, widening into them.

    Trousers are about as wide at the waistband as at the hips; dungarees start with straps and a
    bib about half as wide. The waistband is the first row, from the top, that reaches 85 % of
    the widest row of the upper half.
    """
    x0, y0, x1, y1 = _bbox(mask)
    height = y1 - y0
    widths = _row_widths(mask, y0, y0 + height // 2)
    widest = float(widths.max()) if widths.size else 0.0
    if widest <= 0:
        return None
    top_band = widths[int(0.03 * height) : max(int(0.03 * height) + 1, int(0.1 * height))]
    if float(np.median(top_band)) >= 0.7 * widest:
        return None
    waist_row = int(np.argmax(widths >= 0.85 * widest))
    if waist_row < 0.12 * height:
        return None
    waist_y = float(y0 + waist_row)
    # The bib proper: the first row whose middle run is wider than the straps (40 % of the
    # waistband); above it only the straps.
    cx = (x0 + x1) / 2.0
    bib_y = waist_y
    for y in range(y0, int(waist_y)):
        run = _run_containing(mask[y], cx)
        if run is not None and run[1] - run[0] >= 0.4 * widths[waist_row]:
            bib_y = float(y)
            break
    run = _run_containing(mask[int(bib_y)], cx) or (int(cx) - 1, int(cx) + 1)
    top = np.array([[run[0], bib_y], [run[1], bib_y]], dtype=np.float32)
    straps = []
    for side in (0, 1):
        half = mask[y0 : int(bib_y) + 1, : int(cx)] if side == 0 else mask[y0 : int(bib_y) + 1]
        ys, xs = np.nonzero(half)
        if side == 1:
            keep = xs >= cx
            ys, xs = ys[keep], xs[keep]
        if ys.size == 0:
            straps.append(top[side])
            continue
        first = ys.min()
        straps.append([float(np.median(xs[ys <= first + 2])), float(y0 + first)])
    return Bib(waist_y=waist_y, top=top, straps=np.array(straps, dtype=np.float32))


def analyse_bottom(mask: np.ndarray) -> BottomShape:
    """Find the landmarks of trousers / shorts / a skirt (and dungarees) from the mask."""
    bib = find_bib(mask)
    if bib is None:
        return _analyse_bottom(mask)
    lower = mask.copy()
    lower[: int(bib.waist_y)] = False
    shape = _analyse_bottom(lower)
    return BottomShape(shape.waist, shape.crotch, shape.leg_ends, shape.length, bib)


def _analyse_bottom(mask: np.ndarray) -> BottomShape:
    x0, y0, x1, y1 = _bbox(mask)
    width, height = x1 - x0, y1 - y0
    # Waistband: the outermost pixels of the top few rows (belt loops and tags are thin).
    band = mask[y0 : y0 + max(2, int(0.03 * height))]
    cols = np.nonzero(band.any(axis=0))[0]
    waist_y = float(y0 + 0.015 * height)
    waist = np.array([[cols.min(), waist_y], [cols.max() + 1, waist_y]], dtype=np.float32)
    cx = float(waist[:, 0].mean())

    # Crotch: walk up the centre column from the bottom until the gap between the legs closes.
    column = mask[y0:y1, round(cx)]
    crotch = None
    gap = np.nonzero(column[::-1])[0]
    if gap.size and gap[0] > 0.15 * height:
        crotch = np.array([cx, float(y1 - gap[0])], dtype=np.float32)

    # Leg ends: the two outermost runs a little above the lowest row.
    leg_ends = np.zeros((2, 2, 2), dtype=np.float32)
    # The lowest row, a little above the bottom, that crosses both legs.
    row_y = int(y1 - 1 - 0.02 * height)
    runs = [r for r in _runs(mask[row_y]) if r[1] - r[0] > 0.04 * width]
    if crotch is not None:
        for y in range(row_y, int(y1 - 0.15 * height), -1):
            candidate_runs = [r for r in _runs(mask[y]) if r[1] - r[0] > 0.04 * width]
            if len(candidate_runs) >= 2:
                row_y, runs = y, candidate_runs
                break
    if crotch is not None and len(runs) >= 2:
        left, right = runs[0], runs[-1]
        leg_ends[0] = [[left[0], row_y], [left[1], row_y]]
        leg_ends[1] = [[right[1], row_y], [right[0], row_y]]
    else:
        # Skirt or merged legs: split the bottom edge in two halves.
        xs = np.nonzero(mask[row_y])[0]
        lo, hi = (float(xs.min()), float(xs.max())) if xs.size else (x0, x1)
        leg_ends[0] = [[lo, row_y], [cx, row_y]]
        leg_ends[1] = [[hi, row_y], [cx, row_y]]
    return BottomShape(waist=waist, crotch=crotch, leg_ends=leg_ends, length=float(row_y - waist_y))


def looks_like_bottom(mask: np.ndarray) -> bool:
    """True when the mask has two legs: a gap under the centre in the lower part of the shape.

    (Tops always close at the hem; a flat-laid top never has an empty lower centre.)
    """
    x0, y0, x1, y1 = _bbox(mask)
    height = y1 - y0
    cx = round((x0 + x1) / 2)
    lower = mask[int(y0 + 0.75 * height) : y1, max(x0, cx - 2) : cx + 3]
    if lower.size == 0 or float(lower.mean()) >= 0.2:
        return False
    # Two separate legs at the bottom.
    row = mask[int(y1 - 1 - 0.03 * height)]
    return len([r for r in _runs(row) if r[1] - r[0] > 0.04 * (x1 - x0)]) >= 2
