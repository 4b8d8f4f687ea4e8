"""The ``local`` engine: a classical try-on on the CPU (MediaPipe pose + garment warp)."""
