"""The progress of `cancel --wait` with many batches, on stderr.

On a terminal: one live line per batch, the block redrawn in place (cursor up, rewrite each line), or a single total
line when the batches would not fit on the screen. Otherwise: a plain line per change, as `_cli_progress` writes for
one batch. The client calls `update` (its `on_update`) and `outcome` (its `on_outcome`) from the calling thread;
`sleep` redraws only there, so worker threads sleeping through a rate-limit pause never write to the terminal.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final, TextIO

from batches_ext._cli_format import batches, clean, status_line
from batches_ext._cli_progress import DEFAULT_COLUMNS, TICK_S, elapsed_text, live_line

if TYPE_CHECKING:
    from batches_ext._batch import Batch
    from batches_ext._bulk import CancelOutcome

__all__ = ["DEFAULT_ROWS", "MultiProgress"]

DEFAULT_ROWS: Final = 24  # when the terminal does not say
_UP_AND_START: Final = "\x1b[{}F"  # CPL: cursor to the start of the line N up
_CLEAR_LINE: Final = "\x1b[K"  # EL: erase to the end of the line


class MultiProgress:
    """Reports a bulk cancel's wait on `stream`.

    Args:
        stream: where progress goes (stderr).
        batch_ids: the batches, in the order their lines are shown.
        live: redraw in place; by default, when `stream` is a terminal.
        clock: a monotonic clock, for the elapsed time.
        sleep: the real sleep that `sleep` slices up.
        size: (columns, rows) of the terminal; by default asked of `stream`.

    """

    def __init__(
        self,
        stream: TextIO,
        batch_ids: Sequence[str],
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.stream = stream
        self.live = _isatty(stream) if live is None else live
        self._ids = list(batch_ids)
        self._clock = clock
        self._sleep = sleep
        self._started = clock()
        self._columns, rows = size if size is not None else _size(stream)
        self.compact = len(self._ids) > rows - 2
        """One total line instead of a line per batch: the batches would not fit on the screen."""
        self._width = max((len(clean(batch_id)) for batch_id in self._ids), default=0)
        self._latest: dict[str, Batch] = {}
        self._final: dict[str, CancelOutcome] = {}
        self._drawn = 0  # lines of the block on screen
        self._thread = threading.get_ident()

    def restart(self) -> None:
        """Count elapsed time from now."""
        self._started = self._clock()

    def update(self, batch: Batch) -> None:
        """A batch changed (the client's `on_update`)."""
        self._latest[batch.id] = batch
        if self.live:
            self.draw()
        else:
            self.stream.write(f"[{elapsed_text(self._elapsed())}] {status_line(batch)}\n")
            self.stream.flush()

    def outcome(self, outcome: CancelOutcome) -> None:
        """A batch's final outcome (the client's `on_outcome`)."""
        self._final[outcome.batch_id] = outcome
        if outcome.batch is not None:
            self._latest[outcome.batch_id] = outcome.batch
        if self.live:
            self.draw()

    def sleep(self, seconds: float) -> None:
        """Sleep; on a terminal, in the calling thread, keep the elapsed times moving."""
        if not self.live or threading.get_ident() != self._thread:
            self._sleep(seconds)
            return
        end = self._clock() + seconds
        while (left := end - self._clock()) > 0:
            self._sleep(min(TICK_S, left))
            self.draw()

    def finish(self) -> None:
        """Draw the last state; what follows starts below the block. Safe to call more than once."""
        if self.live and self._drawn:
            self.draw()
            self._drawn = 0

    def lines(self) -> list[str]:
        """The block as it would be drawn now (each line cut to the terminal's width)."""
        rows = [self._total()] if self.compact else [self._line(batch_id) for batch_id in self._ids]
        return [row[: self._columns - 1] for row in rows]

    def draw(self) -> None:
        """Redraw the block in place."""
        lines = self.lines()
        head = _UP_AND_START.format(self._drawn) if self._drawn else ""
        self.stream.write(head + "".join(line + _CLEAR_LINE + "\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    def _line(self, batch_id: str) -> str:
        name = f"{clean(batch_id):<{self._width}}"
        final = self._final.get(batch_id)
        batch = self._latest.get(batch_id)
        if final is not None and final.outcome in ("not_found", "failed"):
            return f"{name} {final.outcome.replace('_', ' ')}"
        if batch is None:
            return f"{name} stopping"
        text = live_line(batch, self._elapsed())
        if final is not None and final.outcome == "already_finished":
            text = f"already finished: {clean(batch.status)}"
        return f"{name} {text}"

    def _total(self) -> str:
        finals = list(self._final.values())
        done = sum(outcome.ok for outcome in finals)
        failed = len(finals) - done
        waiting = len(self._ids) - len(finals)
        return (
            f"{batches(len(self._ids))}: {waiting} stopping, {done} done, {failed} failed "
            f"{elapsed_text(self._elapsed())}"
        )

    def _elapsed(self) -> float:
        return max(0.0, self._clock() - self._started)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _size(stream: TextIO) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return DEFAULT_COLUMNS, DEFAULT_ROWS
    return (size.columns or DEFAULT_COLUMNS), (size.lines or DEFAULT_ROWS)
