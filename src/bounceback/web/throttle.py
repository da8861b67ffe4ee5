"""Failed-login throttling: after a few wrong passwords for one username or from one
client address, further attempts are refused for a while (guessing gets slow).

In-process: each serving process counts its own attempts, which is enough to make
guessing slow without a table written on every failure.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = 5,
        window_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def wait_s(self, *keys: str) -> int:
        """Seconds until any of ``keys`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [
                self.window_s - (now - times[0])
                for key in keys
                if len(times := self._recent(key, now)) >= self.max_failures
            ]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > self.max_failures:  # only the newest few matter
                    times.popleft()

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
