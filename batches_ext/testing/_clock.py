"""`FakeClock`: settable unix time, so tests move a fake batch through its lifecycle without sleeping."""

from __future__ import annotations

import math
import threading
from typing import Final

__all__ = ["DEFAULT_START", "FakeClock"]

DEFAULT_START: Final = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed, realistic "now" so payloads are reproducible


class FakeClock:
    """A clock that stands still until told to move; call it for the current unix time in seconds.

    It is safe to share between threads (a `FakeServer`'s handlers read it while the test advances it), and it is
    monotonic unless you set it backwards on purpose.

    Args:
        start: the initial unix time, in seconds.

    """

    __slots__ = ("_lock", "_now")

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._lock = threading.Lock()
        self._now = _finite(start, "start")

    def __call__(self) -> float:
        return self._now

    @property
    def now(self) -> float:
        """The current unix time in seconds; assign to jump to another moment."""
        return self._now

    @now.setter
    def now(self, value: float) -> None:
        value = _finite(value, "now")
        with self._lock:
            self._now = value

    def advance(self, seconds: float) -> None:
        """Move the clock forward; usable as a client's `sleep` so waiting costs no real time.

        Raises:
            ValueError: `seconds` is negative (time does not run backwards; set `now` for that), NaN or infinite.

        """
        seconds = _finite(seconds, "seconds")
        if seconds < 0:
            raise ValueError(f"cannot advance a clock by a negative duration ({seconds!r} s)")
        with self._lock:
            self._now += seconds

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r})"


def _finite(value: float, name: str) -> float:
    """`value` as a float if it is a finite number: a NaN or infinite time would stop every fake batch for good."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    return number
