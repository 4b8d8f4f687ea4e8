"""The reference geometry of a person photo that results are measured against.

Built from MediaPipe's 33 landmarks and person mask directly, with simple anatomical rules of its
own -- not from the engine's body analysis or its garment fit -- so that ``placement_iou`` checks
where the engine drew against an independent idea of where a garment of that kind belongs:

- tops: the torso polygon from a little above and outside the shoulders down to a little below
  the hip line, and the arms from the shoulder to the elbow (short sleeves: the upper third of the
  upper arm only) or to the wrist (long sleeves);
- bottoms: the band from the waist (above the hip joints) to the crotch, and the legs from the
  hips to the ankles (shorts: to mid-thigh);
- dresses: the torso of a top plus the legs of a skirt to the knees;
- dungarees / overalls: the legs of trousers plus the torso from mid-chest down (the bib);

each intersected with the person mask, minus the face, the hands and the feet.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from tryon.engines.local.pose import PersonPose, detect_pose
from tryon.engines.local.raster import resize_long_side

# The pose is analysed on an image of at most this long side (the engine's working size).
ANALYSIS_SIDE = 1024

Coverage = Literal["top-short", "top-long", "bottom-short", "bottom-long", "dress", "overalls"]

_NOSE = 0
_SHOULDERS = (12, 11)  # person's right, left
_ELBOWS = (14, 13)
_WRISTS = (16, 15)
_HIPS = (24, 23)
_KNEES = (26, 25)
_ANKLES = (28, 27)
_HANDS = ((16, 18, 20, 22), (15, 17, 19, 21))
_FEET = ((28, 30, 32), (27, 29, 31))


@dataclass(frozen=True)
class ReferenceBody:
    """Landmarks (full-size pixels), person mask and face box of a person photo."""

    landmarks: np.ndarray  # (33, 2) float
    visibility: np.ndarray  # (33,)
    person: np.ndarray  # (H, W) bool
    face_box: tuple[int, int, int, int]  # (left, top, right, bottom)
    width: int
    height: int

    def seen(self, index: int) -> bool:
        """Landmark detected with confidence and inside the frame."""
        x, y = self.landmarks[index]
        return bool(self.visibility[index] >= 0.5 and 0 <= x < self.width and 0 <= y < self.height)

    @property
    def shoulder_width(self) -> float:
        a, b = (self.landmarks[i] for i in _SHOULDERS)
        return float(np.linalg.norm(a - b))


def reference_body(rgb: np.ndarray) -> ReferenceBody | None:
    """Detect the person of an RGB uint8 photo; None when nobody is found."""
    height, width = rgb.shape[:2]
    small = resize_long_side(rgb, ANALYSIS_SIDE)
    pose: PersonPose | None = detect_pose(np.ascontiguousarray(small))
    if pose is None:
        return None
    sx, sy = width / small.shape[1], height / small.shape[0]
    landmarks = pose.landmarks.astype(np.float64) * np.array([sx, sy])
    mask = cv2.resize(pose.mask, (width, height), interpolation=cv2.INTER_LINEAR) >= 0.5
    face_box = landmark_face_box(landmarks, width, height)
    return ReferenceBody(landmarks, pose.visibility.copy(), mask, face_box, width, height)


def landmark_face_box(landmarks: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """Box (left, top, right, bottom) of the 11 face landmarks, padded by 10 % of their width."""
    face = landmarks[:11]
    pad = 0.1 * float(np.ptp(face[:, 0]))
    return (
        int(max(0, face[:, 0].min() - pad)),
        int(max(0, face[:, 1].min() - pad)),
        int(min(width, face[:, 0].max() + pad)),
        int(min(height, face[:, 1].max() + pad)),
    )


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def _capsules(canvas: np.ndarray, points: list[np.ndarray], radius: float) -> None:
    r = max(1, round(radius))
    for a, b in itertools.pairwise(points):
        cv2.line(canvas, _pt(a), _pt(b), 1, 2 * r)
        cv2.circle(canvas, _pt(a), r, 1, -1)
        cv2.circle(canvas, _pt(b), r, 1, -1)


def _hip_points(body: ReferenceBody) -> tuple[np.ndarray, np.ndarray, bool]:
    """The two hip joints, and whether they are seen; when not (selfies), placed a typical
    torso length (1.55 shoulder widths) below the shoulders."""
    lm = body.landmarks
    if all(body.seen(i) for i in _HIPS):
        return lm[_HIPS[0]], lm[_HIPS[1]], True
    s0, s1 = lm[_SHOULDERS[0]], lm[_SHOULDERS[1]]
    centre = (s0 + s1) / 2 + np.array([0.0, 1.55 * body.shoulder_width])
    half = (s1 - s0) * 0.29
    return centre - half, centre + half, False


def _torso(
    body: ReferenceBody, canvas: np.ndarray, below_hips: float, from_depth: float = -0.18
) -> None:
    lm = body.landmarks
    sw = body.shoulder_width
    s0, s1 = lm[_SHOULDERS[0]], lm[_SHOULDERS[1]]
    h0, h1, hips_seen = _hip_points(body)
    across = (s1 - s0) / max(sw, 1e-6)
    centre_s = (s0 + s1) / 2
    centre_h = (h0 + h1) / 2
    down = centre_h - centre_s
    torso = float(np.linalg.norm(down))
    down = down / max(torso, 1e-6)
    top = centre_s + down * from_depth * sw
    bottom = centre_h + down * below_hips * torso
    if not hips_seen:
        bottom = centre_s + down * 2.0 * body.height  # runs off the bottom of a selfie
    half_top = 0.65 * sw
    half_bottom = max(0.55 * sw, 0.9 * float(np.linalg.norm(h1 - h0)))
    polygon = np.array(
        [
            top - across * half_top,
            top + across * half_top,
            bottom + across * half_bottom,
            bottom - across * half_bottom,
        ]
    )
    cv2.fillPoly(canvas, [np.round(polygon).astype(np.int32)], 1)


def _arms(body: ReferenceBody, canvas: np.ndarray, long_sleeves: bool) -> None:
    lm = body.landmarks
    sw = body.shoulder_width
    for s, e, w in zip(_SHOULDERS, _ELBOWS, _WRISTS, strict=True):
        shoulder = lm[s]
        if not body.seen(e):
            continue  # an arm out of view: covered by the torso polygon where it shows
        elbow = lm[e]
        if not long_sleeves:
            _capsules(canvas, [shoulder, shoulder + (elbow - shoulder) * 0.35], 0.17 * sw)
            continue
        points = [shoulder, elbow]
        if body.seen(w):
            points.append(lm[w])
        _capsules(canvas, points, 0.15 * sw)


def _legs(body: ReferenceBody, canvas: np.ndarray, reach: float) -> None:
    """Both legs from the hip down, ``reach`` of the way from hip to ankle (1 = to the ankle)."""
    lm = body.landmarks
    sw = body.shoulder_width
    h0, h1, _seen = _hip_points(body)
    for hip, k, a in zip((h0, h1), _KNEES, _ANKLES, strict=True):
        knee = lm[k]
        ankle = lm[a] if body.seen(a) else knee + (knee - hip)
        length_thigh = float(np.linalg.norm(knee - hip))
        length = reach * (length_thigh + float(np.linalg.norm(ankle - knee)))
        points = [hip]
        if length <= length_thigh:
            points.append(hip + (knee - hip) * (length / max(length_thigh, 1e-6)))
        else:
            points.append(knee)
            rest = (length - length_thigh) / max(float(np.linalg.norm(ankle - knee)), 1e-6)
            points.append(knee + (ankle - knee) * min(rest, 1.0))
        _capsules(canvas, points, 0.24 * sw)
    # The seat: from the waist above the hip joints down to the crotch.
    centre = (h0 + h1) / 2
    hip_half = max(float(np.linalg.norm(h1 - h0)), 0.4 * sw)
    polygon = np.array(
        [
            centre + np.array([-hip_half, -0.35 * hip_half]),
            centre + np.array([hip_half, -0.35 * hip_half]),
            centre + np.array([hip_half, 0.6 * hip_half]),
            centre + np.array([-hip_half, 0.6 * hip_half]),
        ]
    )
    cv2.fillPoly(canvas, [np.round(polygon).astype(np.int32)], 1)


def _excluded(body: ReferenceBody) -> np.ndarray:
    """Face box, hands and feet: no garment belongs there."""
    lm = body.landmarks
    sw = body.shoulder_width
    out = np.zeros((body.height, body.width), np.uint8)
    left, top, right, bottom = body.face_box
    out[top:bottom, left:right] = 1
    for points in _HANDS:
        if body.visibility[points[0]] < 0.5:
            continue
        centre = lm[list(points)].mean(axis=0)
        cv2.circle(out, _pt(centre), round(0.12 * sw), 1, -1)
    for points in _FEET:
        if body.visibility[points[0]] < 0.5:
            continue
        _capsules(out, [lm[points[1]], lm[points[2]]], 0.1 * sw)
    return out.astype(bool)


def expected_region(body: ReferenceBody, coverage: Coverage) -> np.ndarray:
    """Where a garment of this coverage belongs on the person (bool, H x W)."""
    canvas = np.zeros((body.height, body.width), np.uint8)
    if coverage in ("top-short", "top-long"):
        _torso(body, canvas, below_hips=0.15)
        _arms(body, canvas, long_sleeves=coverage == "top-long")
    elif coverage == "dress":
        _torso(body, canvas, below_hips=0.0)
        _arms(body, canvas, long_sleeves=False)
        _legs(body, canvas, reach=0.5)
    elif coverage == "overalls":
        _torso(body, canvas, below_hips=0.0, from_depth=0.5)
        _legs(body, canvas, reach=1.0)
    else:
        _legs(body, canvas, reach=1.0 if coverage == "bottom-long" else 0.35)
    return canvas.astype(bool) & body.person & ~_excluded(body)
