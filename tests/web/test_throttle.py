"""Failed-login throttling: the fifth failure blocks, the window ends it, success clears."""

from __future__ import annotations

from bounceback.web.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_blocks_after_the_limit_until_the_window_passes() -> None:
    clock = Clock()
    guard = LoginThrottle(max_failures=3, window_s=60, clock=clock)
    for _ in range(2):
        guard.failed("alice")
        clock.now += 1
    assert guard.wait_s("alice") == 0
    guard.failed("alice")
    assert 55 < guard.wait_s("alice") <= 60  # counted from the oldest of the three
    assert guard.wait_s("bob") == 0  # others are not affected
    clock.now += 59
    assert guard.wait_s("alice") == 0  # the oldest failure left the window


def test_success_clears_the_count() -> None:
    clock = Clock()
    guard = LoginThrottle(max_failures=2, window_s=60, clock=clock)
    guard.failed("alice")
    guard.succeeded("alice")
    guard.failed("alice")
    assert guard.wait_s("alice") == 0
