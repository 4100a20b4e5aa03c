"""The progress of a wait, on stderr: a line rewritten in place on a terminal, one line per change otherwise.

The client tells us about changes through `on_update`; between polls it sleeps through the `sleep` we give it,
which on a terminal redraws the line every `TICK_S` so the elapsed time moves while nothing else does (no thread).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TextIO

from batches_ext._cli_format import clean, status_line

if TYPE_CHECKING:
    from batches_ext._batch import Batch

__all__ = ["BAR_WIDTH", "TICK_S", "Progress", "columns", "elapsed_text", "isatty", "live_line"]

TICK_S: Final = 0.25  # redraw rate of the live line: smooth enough for a clock showing tenths, cheap
BAR_WIDTH: Final = 20
DEFAULT_COLUMNS: Final = 80  # when the terminal does not say (a fresh pty reports 0 columns)


def elapsed_text(seconds: float) -> str:
    """`4.2s` under a minute, then `2m05s`."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def live_line(batch: Batch, elapsed: float) -> str:
    """`cancelling [#######-------------] 37/100 (35 ok, 2 failed) 37% 4.2s`: the terminal's progress line."""
    counts = batch.request_counts
    if counts is None or counts.total <= 0:
        return f"{clean(batch.status)} {elapsed_text(elapsed)}"
    finished = min(counts.finished, counts.total)
    filled = finished * BAR_WIDTH // counts.total
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    percent = finished * 100 // counts.total
    return (
        f"{clean(batch.status)} [{bar}] {counts.finished}/{counts.total} "
        f"({counts.completed} ok, {counts.failed} failed) {percent}% {elapsed_text(elapsed)}"
    )


class Progress:
    """Reports a wait on `stream`; hand `update` to the client as `on_update` and `sleep` as its sleep.

    Args:
        stream: where progress goes (stderr).
        live: rewrite one line in place; by default, when `stream` is a terminal.
        clock: a monotonic clock, for the elapsed time.
        sleep: the real sleep that `sleep` slices up.

    """

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stream = stream
        self.live = isatty(stream) if live is None else live
        self.last: Batch | None = None
        """The latest batch seen: what to report if the wait is cut short."""
        self._clock = clock
        self._sleep = sleep
        self._started = clock()
        self._shown = 0  # length of the live line on screen, 0 when none is

    def restart(self) -> None:
        """Count elapsed time from now (call just before the wait's first request)."""
        self._started = self._clock()

    def update(self, batch: Batch) -> None:
        """Show a changed batch (the client calls this on the first poll and on every change)."""
        self.last = batch
        if self.live:
            self._draw()
        else:
            self.stream.write(f"[{elapsed_text(self._elapsed())}] {status_line(batch)}\n")
            self.stream.flush()

    def sleep(self, seconds: float) -> None:
        """Sleep between polls (or retries); on a terminal, keep the elapsed time on the live line moving."""
        if not self.live or self.last is None:
            self._sleep(seconds)
            return
        end = self._clock() + seconds
        while (left := end - self._clock()) > 0:
            self._sleep(min(TICK_S, left))
            self._draw()

    def finish(self) -> None:
        """End the live line, so what follows starts on a line of its own; safe to call more than once."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = 0

    def _elapsed(self) -> float:
        return max(0.0, self._clock() - self._started)

    def _draw(self) -> None:
        assert self.last is not None  # noqa: S101 - only called once a batch was seen
        # One column short of the width: writing the last column makes some terminals wrap, and `\r` then
        # returns to the start of the wrapped line instead of ours.
        line = live_line(self.last, self._elapsed())[: columns(self.stream) - 1]
        self.stream.write("\r" + line + " " * (self._shown - len(line)))
        self.stream.flush()
        self._shown = len(line)


def isatty(stream: TextIO) -> bool:
    """Whether `stream` is a terminal (False for a stand-in without `isatty`, or a closed stream)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a stand-in without isatty, or a closed stream
        return False


def columns(stream: TextIO) -> int:
    """The terminal's width, or 80 when it does not say."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return DEFAULT_COLUMNS
    return columns if columns > 0 else DEFAULT_COLUMNS
