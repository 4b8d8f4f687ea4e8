"""Per-account request rate limit (fixed one-minute windows) and its response headers.

Counted in the memory of one server process: several API processes each count on their own, so a
deployment with N processes allows up to N times the limit. A shared (Redis) counter is the
distributed twin still to come.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # account -> (window index, count)

    def hit(
        self, account_id: str, limit: int, now: float, *, count_it: bool = True
    ) -> RateDecision:
        """Count one request at unix time ``now`` and decide whether it may go on.

        With ``count_it=False`` only tells whether one more would be allowed.
        """
        window = int(now // WINDOW_SECONDS)
        reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        with self._lock:
            current, count = self._windows.get(account_id, (window, 0))
            if current != window:
                count = 0
            if not count_it:
                return RateDecision(count < limit, limit, max(0, limit - count), reset)
            if count >= limit:
                self._windows[account_id] = (window, count)
                return RateDecision(False, limit, 0, reset)
            count += 1
            self._windows[account_id] = (window, count)
            if len(self._windows) > 100_000:  # forget old windows so memory stays bounded
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return RateDecision(True, limit, limit - count, reset)
