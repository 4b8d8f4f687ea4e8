"""Who the subject of a person photo is, when it shows several people.

MediaPipe's pose solution follows one person, not necessarily the one the photo is of. Faces are
found with MediaPipe's full-range face detector (its model ships inside the wheel); the subject is
the one clearly prominent face, or among several similar-sized faces the one clearly nearest the
middle of the photo. When no face stands out, the photo is refused: dressing a random person of
a group photo would be worse than saying so. Small faces in the background (passers-by) do not
count. The pose is then taken of the subject, re-detected in a window around them if MediaPipe
had picked somebody else.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from tryon.engines.base import EngineError
from tryon.engines.local.pose import NOSE, PersonPose, detect_pose

# Faces at least this share of the largest face's width are people the photo may be about.
PROMINENT_SHARE = 0.7
# Among several prominent faces, the most central one is the subject only when it is nearer the
# middle than the next one by at least this share of the photo's width.
CENTRAL_MARGIN = 0.12
_MIN_SCORE = 0.6

_lock = threading.Lock()
_detector = None


@dataclass(frozen=True)
class Face:
    """A detected face: box (left, top, right, bottom) in pixels and the detector's score."""

    box: tuple[float, float, float, float]
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    def contains(self, point: np.ndarray, grow: float = 0.5) -> bool:
        """Whether ``point`` lies in the box grown by ``grow`` of its size on every side."""
        left, top, right, bottom = self.box
        gx, gy = grow * (right - left), grow * (bottom - top)
        x, y = float(point[0]), float(point[1])
        return left - gx <= x <= right + gx and top - gy <= y <= bottom + gy


def _graph():  # type: ignore[no-untyped-def]
    global _detector
    if _detector is None:
        import mediapipe as mp

        _detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=0.5
        )
    return _detector


def _faces_in(rgb: np.ndarray, left: int, top: int) -> list[Face]:
    height, width = rgb.shape[:2]
    with _lock:
        result = _graph().process(np.ascontiguousarray(rgb))
    faces = []
    for detection in result.detections or []:
        score = float(detection.score[0])
        if score < _MIN_SCORE:
            continue
        box = detection.location_data.relative_bounding_box
        x0, y0 = left + box.xmin * width, top + box.ymin * height
        faces.append(Face((x0, y0, x0 + box.width * width, y0 + box.height * height), score))
    return faces


def _same(a: Face, b: Face) -> bool:
    return a.contains(np.array(b.centre), grow=0.0) or b.contains(np.array(a.centre), grow=0.0)


def detect_faces(rgb: np.ndarray) -> list[Face]:
    """Faces in an RGB uint8 image, most confident first.

    The detector sees a small square input, so a wide or tall photo is searched in overlapping
    square tiles (the faces of a group photo would otherwise shrink below what it can find).
    """
    height, width = rgb.shape[:2]
    side = min(height, width)
    long_side = max(height, width)
    starts = list(range(0, max(1, long_side - side) + 1, max(1, side // 2)))
    if starts[-1] + side < long_side:
        starts.append(long_side - side)
    found: list[Face] = []
    for start in starts:
        if width >= height:
            tile, left, top = rgb[:, start : start + side], start, 0
        else:
            tile, left, top = rgb[start : start + side], 0, start
        found.extend(_faces_in(tile, left, top))
    faces: list[Face] = []
    for face in sorted(found, key=lambda f: -f.score):
        if not any(_same(face, kept) for kept in faces):
            faces.append(face)
    return faces


def choose_subject(faces: list[Face], width: int) -> Face | None:
    """The face of the person the photo is about; None when there is no face at all.

    Raises ``EngineError(CUSTOMER_IMAGE_UNUSABLE)`` when several people are equally likely.
    """
    if not faces:
        return None
    largest = max(f.width for f in faces)
    prominent = [f for f in faces if f.width >= PROMINENT_SHARE * largest]
    if len(prominent) == 1:
        return prominent[0]
    prominent.sort(key=lambda f: abs(f.centre[0] - width / 2))
    first, second = prominent[0], prominent[1]
    if abs(second.centre[0] - width / 2) - abs(first.centre[0] - width / 2) >= (
        CENTRAL_MARGIN * width
    ):
        return first
    raise EngineError(
        "CUSTOMER_IMAGE_UNUSABLE",
        f"The photo shows {len(prominent)} people and none of them is clearly its subject; "
        "a photo of one person is needed.",
    )


def _pose_in_window(rgb: np.ndarray, face: Face) -> PersonPose | None:
    """Detect the pose in a window around ``face`` and map it back to the whole photo."""
    height, width = rgb.shape[:2]
    cx, _cy = face.centre
    reach = 4.0 * face.width
    left = int(max(0, cx - reach))
    right = int(min(width, cx + reach))
    top = int(max(0, face.box[1] - 1.0 * face.width))
    window = np.ascontiguousarray(rgb[top:, left:right])
    pose = detect_pose(window)
    if pose is None:
        return None
    mask = np.zeros((height, width), dtype=np.float32)
    mask[top:, left:right] = pose.mask
    landmarks = pose.landmarks + np.array([left, top], dtype=np.float32)
    return PersonPose(landmarks, pose.visibility, mask, width, height)


def detect_subject_pose(rgb: np.ndarray) -> PersonPose | None:
    """The pose of the photo's subject; None when nobody is found."""
    width = rgb.shape[1]
    subject = choose_subject(detect_faces(rgb), width)
    pose = detect_pose(rgb)
    if subject is None or (pose is not None and subject.contains(pose.point(NOSE))):
        return pose
    pose = _pose_in_window(rgb, subject)
    if pose is None or not subject.contains(pose.point(NOSE)):
        raise EngineError(
            "CUSTOMER_IMAGE_UNUSABLE",
            "The body of the person in the middle of the photo could not be made out.",
        )
    return pose
