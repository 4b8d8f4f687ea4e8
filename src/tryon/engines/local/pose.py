"""Person detection with MediaPipe's legacy pose solution (models ship inside the wheel).

One ``Pose`` graph per process, created on first use and guarded by a lock: MediaPipe graphs are
not safe to call from several threads at once, and loading the graph costs far more than running it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

# Landmark indices of MediaPipe Pose (33 points).
NOSE = 0
LEFT_EAR, RIGHT_EAR = 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_WRIST, RIGHT_WRIST = 15, 16
LEFT_HIP, RIGHT_HIP = 23, 24
LEFT_KNEE, RIGHT_KNEE = 25, 26
LEFT_ANKLE, RIGHT_ANKLE = 27, 28


@dataclass(frozen=True)
class PersonPose:
    """Pose of the detected person, in pixel coordinates of the analysed image."""

    landmarks: np.ndarray  # (33, 2) float32, x/y in pixels (may lie outside the image)
    visibility: np.ndarray  # (33,) float32 in [0, 1]
    mask: np.ndarray  # (H, W) float32 in [0, 1], person segmentation
    width: int
    height: int

    def point(self, index: int) -> np.ndarray:
        return self.landmarks[index]

    def visible(self, index: int, threshold: float = 0.5) -> bool:
        return bool(self.visibility[index] >= threshold)

    def bounding_box(self, threshold: float = 0.5) -> tuple[int, int, int, int] | None:
        """Box (left, top, right, bottom) of the person mask, or None when the mask is empty."""
        ys, xs = np.nonzero(self.mask >= threshold)
        if xs.size == 0:
            return None
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


_lock = threading.Lock()
_pose = None


def _graph():  # type: ignore[no-untyped-def]
    global _pose
    if _pose is None:
        import mediapipe as mp  # heavy import, only where a pose is really needed

        _pose = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, enable_segmentation=True
        )
    return _pose


def detect_pose(rgb: np.ndarray) -> PersonPose | None:
    """Detect the most prominent person in an RGB uint8 image (H, W, 3); None if nobody is found."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("detect_pose expects an RGB uint8 array")
    height, width = rgb.shape[:2]
    with _lock:
        result = _graph().process(np.ascontiguousarray(rgb))
    if result.pose_landmarks is None:
        return None
    points = result.pose_landmarks.landmark
    landmarks = np.array([[p.x * width, p.y * height] for p in points], dtype=np.float32)
    visibility = np.array([p.visibility for p in points], dtype=np.float32)
    if result.segmentation_mask is not None:
        mask = np.asarray(result.segmentation_mask, dtype=np.float32)
    else:
        mask = np.zeros((height, width), dtype=np.float32)
    return PersonPose(landmarks, visibility, mask, width, height)
