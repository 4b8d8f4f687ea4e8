"""Body geometry and clothing regions of the person, from MediaPipe pose landmarks.

Everything here is in pixels of the analysed (working-size) person image. Sides follow the image:
index 0 is the image-left limb, index 1 the image-right one, whichever anatomical side that is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.engines.local import pose as mp_pose
from tryon.engines.local.pose import PersonPose

# Body proportions measured on frontal full-body photos (shoulder-joint distance = 1): the hip
# joints sit about 1.55 below the shoulder line and 0.58 apart. Used when the hips are out of frame.
TORSO_LENGTH_PER_SHOULDER = 1.55
HIP_WIDTH_PER_SHOULDER = 0.58
# The neck is kept free down to this far (in shoulder-joint distances) above the shoulder line.
NECK_CLEARANCE = 0.08

_VISIBLE = 0.5
_FACE_POINTS = list(range(0, 11))  # nose, eyes, ears, mouth
_HAND_POINTS = ((16, 18, 20, 22), (15, 17, 19, 21))  # wrist, pinky, index, thumb (right, left)
_FOOT_POINTS = ((28, 30, 32), (27, 29, 31))  # ankle, heel, foot index (right, left)


@dataclass(frozen=True)
class Limb:
    """Three joints of an arm (shoulder, elbow, wrist) or leg (hip, knee, ankle)."""

    joints: np.ndarray  # (3, 2)
    visible: np.ndarray  # (3,) bool: detected with confidence and inside the frame


@dataclass(frozen=True)
class Body:
    """Geometry of the person needed to dress them."""

    width: int
    height: int
    shoulders: np.ndarray  # (2, 2) shoulder joints, image left then right
    hips: np.ndarray  # (2, 2) hip joints (extrapolated when out of frame)
    hips_extrapolated: bool
    arms: tuple[Limb, Limb]
    legs: tuple[Limb, Limb]
    person: np.ndarray  # (H, W) float32 soft person mask
    protected: np.ndarray  # (H, W) bool: face, hair, neck skin, hands, feet -- never painted
    face_box: tuple[int, int, int, int]  # (left, top, right, bottom)

    @property
    def shoulder_center(self) -> np.ndarray:
        """Midpoint of the shoulder joints."""
        return self.shoulders.mean(axis=0)

    @property
    def shoulder_width(self) -> float:
        """Distance between the shoulder joints."""
        return float(np.linalg.norm(self.shoulders[1] - self.shoulders[0]))

    @property
    def hip_center(self) -> np.ndarray:
        """Midpoint of the hip joints."""
        return self.hips.mean(axis=0)

    @property
    def down(self) -> np.ndarray:
        """Unit vector along the torso, from the shoulders towards the hips."""
        vector = self.hip_center - self.shoulder_center
        return vector / max(float(np.linalg.norm(vector)), 1e-6)

    @property
    def across(self) -> np.ndarray:
        """Unit vector perpendicular to ``down``, pointing to the image right."""
        d = self.down
        return np.array([d[1], -d[0]], dtype=np.float32)

    @property
    def torso_length(self) -> float:
        """Distance from the shoulder centre to the hip centre."""
        return float(np.linalg.norm(self.hip_center - self.shoulder_center))

    def legs_visible(self) -> bool:
        """True when both hips and knees are in the picture."""
        return all(leg.visible[0] and leg.visible[1] for leg in self.legs)


def _inside(point: np.ndarray, width: int, height: int, margin: float = 0.01) -> bool:
    mx, my = margin * width, margin * height
    return bool(-mx <= point[0] <= width + mx and -my <= point[1] <= height - my)


def _pair(right: int, left: int, flip: bool) -> tuple[int, int]:
    """Landmark indices ordered image-left first."""
    return (left, right) if flip else (right, left)


def analyse_body(pose: PersonPose, rgb: np.ndarray) -> Body:
    """Derive torso, limbs and protected regions from a detected pose."""
    height, width = rgb.shape[:2]
    lm = pose.landmarks.astype(np.float32)

    # A person facing the camera has their right shoulder on the image left; someone turned
    # away the other way round. Order by x so geometry never crosses over.
    flip = lm[mp_pose.RIGHT_SHOULDER, 0] > lm[mp_pose.LEFT_SHOULDER, 0]

    def visible(index: int) -> bool:
        return pose.visible(index, _VISIBLE) and _inside(lm[index], width, height)

    sides = (0, 1)
    s_idx = _pair(mp_pose.RIGHT_SHOULDER, mp_pose.LEFT_SHOULDER, flip)
    e_idx = _pair(mp_pose.RIGHT_ELBOW, mp_pose.LEFT_ELBOW, flip)
    w_idx = _pair(mp_pose.RIGHT_WRIST, mp_pose.LEFT_WRIST, flip)
    h_idx = _pair(mp_pose.RIGHT_HIP, mp_pose.LEFT_HIP, flip)
    k_idx = _pair(mp_pose.RIGHT_KNEE, mp_pose.LEFT_KNEE, flip)
    a_idx = _pair(mp_pose.RIGHT_ANKLE, mp_pose.LEFT_ANKLE, flip)

    shoulders = np.stack([lm[s_idx[i]] for i in sides])
    shoulder_width = float(np.linalg.norm(shoulders[1] - shoulders[0]))
    hips = np.stack([lm[h_idx[i]] for i in sides])
    hips_ok = all(visible(h_idx[i]) for i in sides)
    if hips_ok:
        torso = float(np.linalg.norm(hips.mean(axis=0) - shoulders.mean(axis=0)))
        # A torso much shorter than usual means a bad hip guess (e.g. a hand at the waist).
        hips_ok = torso > 0.9 * shoulder_width
    if not hips_ok:
        # Extrapolate along the perpendicular of the shoulder line: in a selfie the hips are below
        # the frame, and MediaPipe's guesses for them are unreliable there.
        across = (shoulders[1] - shoulders[0]) / max(shoulder_width, 1e-6)
        down = np.array([-across[1], across[0]], dtype=np.float32)
        if down[1] < 0:
            down = -down
        centre = shoulders.mean(axis=0) + down * TORSO_LENGTH_PER_SHOULDER * shoulder_width
        half = 0.5 * HIP_WIDTH_PER_SHOULDER * shoulder_width
        hips = np.stack([centre - across * half, centre + across * half]).astype(np.float32)

    arms = tuple(
        Limb(
            joints=np.stack([lm[s_idx[i]], lm[e_idx[i]], lm[w_idx[i]]]),
            visible=np.array([visible(s_idx[i]), visible(e_idx[i]), visible(w_idx[i])]),
        )
        for i in sides
    )
    legs = tuple(
        Limb(
            joints=np.stack([hips[i], lm[k_idx[i]], lm[a_idx[i]]]),
            visible=np.array([hips_ok, visible(k_idx[i]), visible(a_idx[i])]),
        )
        for i in sides
    )

    person = pose.mask.astype(np.float32)
    if person.shape != (height, width):
        person = cv2.resize(person, (width, height), interpolation=cv2.INTER_LINEAR)

    protected, face_box = _protected_regions(pose, rgb, lm, shoulders, person)
    return Body(
        width=width,
        height=height,
        shoulders=shoulders.astype(np.float32),
        hips=hips.astype(np.float32),
        hips_extrapolated=not hips_ok,
        arms=arms,  # type: ignore[arg-type]
        legs=legs,  # type: ignore[arg-type]
        person=person,
        protected=protected,
        face_box=face_box,
    )


def _face_size(lm: np.ndarray) -> float:
    """Ear-to-ear distance, or a multiple of the eye distance when an ear is hidden."""
    ears = float(np.linalg.norm(lm[7] - lm[8]))
    eyes = float(np.linalg.norm(lm[2] - lm[5]))
    return max(ears, 1.9 * eyes, 1.0)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _colour_distance(lab: np.ndarray, ref: np.ndarray) -> np.ndarray:
    # Lightness counts half: shading on skin and hair changes it far more than the hue.
    diff = lab - ref
    return np.sqrt(0.25 * diff[..., 0] ** 2 + diff[..., 1] ** 2 + diff[..., 2] ** 2)


def _protected_regions(
    pose: PersonPose,
    rgb: np.ndarray,
    lm: np.ndarray,
    shoulders: np.ndarray,
    person: np.ndarray,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Pixels a garment must never cover: face, hair, neck skin, hands and feet."""
    height, width = rgb.shape[:2]
    protect = np.zeros((height, width), dtype=np.uint8)
    face = _face_size(lm)
    nose = lm[mp_pose.NOSE]
    shoulder_width = float(np.linalg.norm(shoulders[1] - shoulders[0]))
    shoulder_y = float(shoulders[:, 1].mean())

    # Face and head: an ellipse from above the hairline to just under the chin.
    centre = (round(nose[0]), round(nose[1] - 0.15 * face))
    axes = (round(0.62 * face), round(0.95 * face))
    cv2.ellipse(protect, centre, axes, 0, 0, 360, 1, -1)
    face_box = (
        max(0, centre[0] - axes[0]),
        max(0, centre[1] - axes[1]),
        min(width, centre[0] + axes[0]),
        min(height, centre[1] + axes[1]),
    )
    # Everything of the person above the eyes within the head's width is head or hair. (Lower
    # down, beside the face, may be a hood or a collar; hair there is found by its colour.)
    eye_y = round(nose[1] - 0.15 * face)
    x_lo = int(max(0, nose[0] - 1.0 * face))
    x_hi = int(min(width, nose[0] + 1.0 * face))
    head = np.zeros_like(protect)
    head[: max(0, min(eye_y, int(shoulder_y - 0.1 * shoulder_width))), x_lo:x_hi] = 1
    protect |= head & (person >= 0.5).astype(np.uint8)

    # The neck: a rounded column from the chin down to just above the shoulder line. It keeps
    # the shadow under the chin (too dark for the skin colour test) and gives every top a
    # neckline instead of the inside of its back collar pressed against the throat.
    chin = nose + np.array([0.0, 0.6 * face])
    neck_bottom = shoulder_y - NECK_CLEARANCE * shoulder_width
    if neck_bottom > chin[1]:
        half_height = 0.5 * (neck_bottom - chin[1])
        column = np.zeros_like(protect)
        cv2.ellipse(
            column,
            (round(float(chin[0])), round(float(chin[1] + half_height))),
            (round(0.17 * shoulder_width), round(half_height)),
            0,
            0,
            360,
            1,
            -1,
        )
        protect |= column & (person >= 0.5).astype(np.uint8)

    lab = _lab(rgb)
    protect |= _skin_and_hair(lab, lm, face, shoulders, person, protect).astype(np.uint8)

    # Hands: a capsule from the wrist past the knuckles to where the fingertips end. Within it
    # only skin is kept (when the face gives a usable skin colour), so that a cuff reaching the
    # wrist can still be dressed; the palm around the knuckles is always kept.
    skin = _skin_reference(lab, lm, face, person)
    for points in _HAND_POINTS:
        wrist = lm[points[0]]
        if not (pose.visibility[points[0]] >= 0.3 and _inside(wrist, width, height, 0.05)):
            continue
        knuckles = lm[list(points[1:])].mean(axis=0)
        reach = knuckles - wrist
        size = max(float(np.linalg.norm(reach)), 0.12 * shoulder_width)
        tip = wrist + reach / max(float(np.linalg.norm(reach)), 1e-6) * 2.0 * size
        radius = round(0.75 * size)
        zone = np.zeros_like(protect)
        cv2.line(zone, _pt(wrist), _pt(tip), 1, 2 * radius)
        cv2.circle(zone, _pt(wrist), radius, 1, -1)
        cv2.circle(zone, _pt(tip), radius, 1, -1)
        inside = zone.astype(bool)
        if skin is not None:
            skin_like = inside & (_colour_distance(lab, skin) < 22.0)
            if skin_like.sum() >= 0.15 * inside.sum():
                hand = cv2.dilate(skin_like.astype(np.uint8), np.ones((5, 5), np.uint8))
                cv2.circle(hand, _pt(knuckles), round(0.6 * size), 1, -1)
                protect |= hand & zone
                continue
        protect |= zone

    # Feet and shoes: heel to toe, a little above the ankle.
    for points in _FOOT_POINTS:
        ankle, heel, toe = (lm[p] for p in points)
        if pose.visibility[points[0]] < 0.3 or not _inside(ankle, width, height, 0.05):
            continue
        size = max(float(np.linalg.norm(toe - heel)), 0.15 * shoulder_width)
        radius = round(0.45 * size)
        cv2.line(protect, _pt(heel), _pt(toe), 1, 2 * radius)
        cv2.circle(protect, _pt(ankle + np.array([0.0, 0.25 * size])), radius, 1, -1)
    return protect.astype(bool), face_box


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def _skin_reference(
    lab: np.ndarray, lm: np.ndarray, face: float, person: np.ndarray
) -> np.ndarray | None:
    """Median Lab colour of the skin on and just above the nose (never bearded or covered)."""
    height, width = person.shape
    nose = lm[mp_pose.NOSE]
    radius = max(2.0, 0.08 * face)
    cx, cy = float(nose[0]), float(nose[1] - 0.05 * face)
    x0, x1 = int(max(0, cx - radius)), int(min(width, cx + radius + 1))
    y0, y1 = int(max(0, cy - radius)), int(min(height, cy + radius + 1))
    if x1 <= x0 or y1 <= y0:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    disk = (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
    pixels = lab[y0:y1, x0:x1][disk]
    return None if len(pixels) < 10 else np.median(pixels, axis=0)


def _skin_and_hair(
    lab: np.ndarray,
    lm: np.ndarray,
    face: float,
    shoulders: np.ndarray,
    person: np.ndarray,
    head: np.ndarray,
) -> np.ndarray:
    """Neck skin and long hair below the head (see ``_skin_and_hair_in``), computed only in the
    window around head, neck and chest where they can be: the colour tests are costly."""
    height, width = person.shape
    nose = lm[mp_pose.NOSE]
    shoulder_width = float(np.linalg.norm(shoulders[1] - shoulders[0]))
    centre = shoulders.mean(axis=0)
    reach = max(0.95 * shoulder_width, 1.1 * face)
    x0 = int(max(0, min(centre[0], nose[0]) - reach))
    x1 = int(min(width, max(centre[0], nose[0]) + reach + 1))
    y0 = int(max(0, nose[1] - 1.6 * face))
    y1 = int(min(height, centre[1] + 1.25 * shoulder_width))
    result = np.zeros((height, width), dtype=bool)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return result
    offset = np.array([x0, y0], dtype=np.float32)
    result[y0:y1, x0:x1] = _skin_and_hair_in(
        lab[y0:y1, x0:x1],
        lm - offset,
        face,
        shoulders - offset,
        person[y0:y1, x0:x1],
        head[y0:y1, x0:x1],
        max(height, width),
    )
    return result


def _skin_and_hair_in(
    lab: np.ndarray,
    lm: np.ndarray,
    face: float,
    shoulders: np.ndarray,
    person: np.ndarray,
    head: np.ndarray,
    image_side: int,
) -> np.ndarray:
    """Neck skin and long hair below the head, found by colour and connection to the head.

    Skin colour is sampled on the nose, hair colour on top of the head. A pixel belongs to them
    when it matches their colour clearly better than any of the clothing colours sampled on the
    chest, lies in their zone (neck for skin; neck, shoulders and chest for hair) and is connected
    to the head. A region that would swallow most of its zone means the colours are not distinct
    enough, and is dropped.
    """
    height, width = person.shape
    nose = lm[mp_pose.NOSE]
    shoulder_width = float(np.linalg.norm(shoulders[1] - shoulders[0]))
    centre = shoulders.mean(axis=0)
    yy, xx = np.mgrid[0:height, 0:width]
    inside = person >= 0.5

    def disk(point: np.ndarray, radius: float) -> np.ndarray:
        return (xx - point[0]) ** 2 + (yy - point[1]) ** 2 <= radius**2

    skin = _skin_reference(lab, lm, face, person)
    # Hair is sampled around the top of the head: above the brows, outside the face itself.
    face_core = ((xx - nose[0]) / (0.45 * face)) ** 2 + ((yy - nose[1]) / (0.75 * face)) ** 2 < 1
    hair_zone = (np.abs(xx - nose[0]) < 0.8 * face) & (yy < nose[1] - 0.35 * face) & ~face_core
    hair_pixels = lab[hair_zone & inside]
    hair, hair_tolerance = None, 12.0
    if len(hair_pixels) >= 20:
        hair = np.median(hair_pixels, axis=0)
        # Hair is rarely one colour (highlights, shade): widen the test by its own spread.
        spread = float(np.median(_colour_distance(hair_pixels[None], hair)))
        hair_tolerance = float(np.clip(2.5 * spread, 12.0, 22.0))

    # Clothing colours from small spots over the chest: small, so that a spot on the edge of a
    # lapel does not average two garments into a colour that matches neither.
    clothes = []
    for dx in (-0.3, -0.15, 0.0, 0.15, 0.3):
        for dy in (0.4, 0.65):
            point = centre + np.array([dx * shoulder_width, dy * shoulder_width])
            pixels = lab[disk(point, max(2.0, 0.04 * shoulder_width)) & inside]
            if len(pixels) >= 5:
                clothes.append(np.median(pixels, axis=0))
    if not clothes:
        return np.zeros((height, width), dtype=bool)
    cloth_distance = np.min([_colour_distance(lab, c) for c in clothes], axis=0)

    # From the eye line down: above it everything of the person already counts as head.
    below_face = (yy > nose[1] - 0.2 * face) & inside
    zones = {
        # Neck skin: under the chin, around the neck, down to just below the shoulder line.
        "skin": below_face
        & (yy < centre[1] + 0.25 * shoulder_width)
        & (np.abs(xx - centre[0]) < 0.4 * shoulder_width),
        # Loose hair: over the shoulders and down the chest.
        "hair": below_face
        & (yy < centre[1] + 1.2 * shoulder_width)
        & (np.abs(xx - centre[0]) < 0.9 * shoulder_width),
    }
    result = np.zeros((height, width), dtype=bool)
    seeds = cv2.dilate(head.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    for name, ref, tolerance in (("skin", skin, 11.0), ("hair", hair, hair_tolerance)):
        if ref is None:
            continue
        alike = sum(float(_colour_distance(ref[None, None, :], c)[0, 0]) < 10.0 for c in clothes)
        if 2 * alike > len(clothes):
            continue  # most clothing looks like skin/hair: cannot tell them apart by colour
        zone = zones[name]
        distance = _colour_distance(lab, ref)
        candidate = zone & (distance < tolerance) & (distance + 4.0 < cloth_distance)
        candidate = cv2.morphologyEx(
            candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
        ).astype(bool)
        _count, labels = cv2.connectedComponents((candidate | seeds).astype(np.uint8), 8)
        touching = np.unique(labels[seeds & (labels > 0)])
        region = np.isin(labels, touching) & candidate
        if region.sum() < 0.5 * max(int(zone.sum()), 1):
            result |= region
    # Close the gaps between strands and pinholes (highlights, shadows) so the garment does not
    # show through in specks.
    size = max(7, int(0.015 * image_side) | 1)
    result = cv2.morphologyEx(
        result.astype(np.uint8),
        cv2.MORPH_CLOSE,
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)),
    ).astype(bool)
    return result & inside


def top_overhang(body: Body, rgb: np.ndarray) -> np.ndarray:
    """The part of the person's current top that hangs down over the waist (bool mask).

    New trousers go *under* it: pixels between the waist and the crotch that have the colour of
    the clothing on the belly and are connected to it stay as they are.
    """
    height, width = body.height, body.width
    lab = _lab(rgb)
    inside = body.person >= 0.5
    down, across = body.down, body.across
    torso = body.torso_length
    belly = body.shoulder_center + down * 0.7 * torso
    yy, xx = np.mgrid[0:height, 0:width]
    samples = []
    radius = 0.06 * body.shoulder_width
    for dx in (-0.2, 0.0, 0.2):
        point = belly + across * dx * body.shoulder_width
        disk = (xx - point[0]) ** 2 + (yy - point[1]) ** 2 <= radius**2
        pixels = lab[disk & inside]
        if len(pixels) >= 10:
            samples.append((disk & inside, np.median(pixels, axis=0)))
    if not samples:
        return np.zeros((height, width), dtype=bool)
    # The trousers' own colour, on the thighs well below any top.
    thighs = []
    for leg in body.legs:
        point = leg.joints[0] + 0.6 * (leg.joints[1] - leg.joints[0])
        disk = (xx - point[0]) ** 2 + (yy - point[1]) ** 2 <= radius**2
        pixels = lab[disk & inside]
        if len(pixels) >= 10:
            thighs.append(np.median(pixels, axis=0))
    # Depth below the shoulder line of every pixel, along the body axis.
    depth = (xx - body.shoulder_center[0]) * down[0] + (yy - body.shoulder_center[1]) * down[1]
    similar = np.zeros((height, width), dtype=bool)
    seeds = np.zeros((height, width), dtype=bool)
    for disk, colour in samples:
        # A top the colour of the trousers (navy blazer, black jeans) cannot be told from them
        # below the hips: there it is taken to end at the hip line.
        alike = any(float(_colour_distance(colour[None, None], t)[0, 0]) < 12.0 for t in thighs)
        reach = 1.0 if alike else 1.45
        similar |= (_colour_distance(lab, colour) < 9.0) & (depth < reach * torso)
        seeds |= disk
    band = inside & (depth > 0.6 * torso) & (depth < 1.45 * torso)
    candidate = (band & similar) | seeds
    candidate = cv2.morphologyEx(
        candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
    ).astype(bool)
    _count, labels = cv2.connectedComponents((candidate | seeds).astype(np.uint8), 8)
    touching = np.unique(labels[seeds & (labels > 0)])
    region = np.isin(labels, touching) & band
    size = max(5, int(0.01 * max(height, width)) | 1)
    region = cv2.morphologyEx(
        region.astype(np.uint8),
        cv2.MORPH_CLOSE,
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)),
    ).astype(bool)
    return region & inside
