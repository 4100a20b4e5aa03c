"""The polling policy of `wait`, shared by the sync and async clients: every decision, no I/O.

Peers (shared/ANCHORS.md): openai-python polls at the caller's interval, else the `openai-poll-after-ms` header,
else 1 s, mostly with no deadline; openai-go caps the hint at 8 s; openai-ruby polls every 5 s for 30 minutes.
Here the interval starts at 1 s and grows by half each poll to 10 s (a batch stays `cancelling` for up to 10
minutes: ~70 polls, not 600), the server's hint wins when present, and a deadline is mandatory.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypedDict

from batches_ext._batch import Batch
from batches_ext._deadline import Deadline
from batches_ext.errors import WaitTimeoutError

__all__ = ["DEFAULT_WAIT_TIMEOUT_S", "WAIT_OPTIONS", "Poller", "WaitOptions", "poll_after_seconds", "start_wait"]

logger = logging.getLogger(__package__)  # "batches_ext", or the vendored copy's name

DEFAULT_WAIT_TIMEOUT_S = 900.0  # the 10-minute cancelling window plus margin
FIRST_POLL_S = 1.0
POLL_GROWTH = 1.5
MAX_POLL_S = 10.0
MAX_POLL_AFTER_S = 60.0  # a server hint beyond this is clamped: the deadline still has to be checked
MIN_POLL_AFTER_S = 0.1  # a server hint below this is raised to it: a hint of 0 is not 1,000 polls a second


class WaitOptions(TypedDict, total=False):
    """The keyword arguments `cancel_and_wait` and `cancel_and_collect` pass on to `wait`."""

    timeout: float
    poll_interval: float | None
    on_update: Callable[[Batch], object] | None


WAIT_OPTIONS: Final = frozenset(WaitOptions.__annotations__)


def start_wait(batch_id: str, options: Mapping[str, Any], clock: Callable[[], float] = time.monotonic) -> Poller:
    """The `Poller` of a wait with `options` (a call's `**wait_options`): every option is checked here, first.

    Raises:
        TypeError: an unknown option (a typo such as `timout`), named.
        ValueError: a bad value (see `Poller`).

    """
    unknown = set(options) - WAIT_OPTIONS
    if unknown:
        raise TypeError(
            f"unexpected wait option(s): {', '.join(sorted(unknown))} (expected: {', '.join(sorted(WAIT_OPTIONS))})"
        )
    return Poller(
        batch_id,
        timeout=options.get("timeout", DEFAULT_WAIT_TIMEOUT_S),
        poll_interval=options.get("poll_interval"),
        on_update=options.get("on_update"),
        clock=clock,
    )


def poll_after_seconds(value: str | None) -> float | None:
    """The `openai-poll-after-ms` header as seconds, clamped to [MIN_POLL_AFTER_S, MAX_POLL_AFTER_S].

    None when absent or garbled.
    """
    if value is None:
        return None
    try:
        seconds = float(value) / 1000
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(max(seconds, MIN_POLL_AFTER_S), MAX_POLL_AFTER_S)


class Poller:
    """Tracks one wait: the deadline, the next interval, and which changes `on_update` has been told about."""

    __slots__ = (
        "_interval",
        "_on_update",
        "_seen",
        "batch",
        "batch_id",
        "deadline",
        "fixed_interval",
        "polls",
    )

    def __init__(
        self,
        batch_id: str,
        *,
        timeout: float,
        poll_interval: float | None,
        on_update: Callable[[Batch], object] | None,
        clock: Callable[[], float],
        deadline: Deadline | None = None,
    ) -> None:
        """Start the clock on a wait of at most `timeout` seconds (or until `deadline`, a group's shared one).

        Raises:
            ValueError: `timeout` or `poll_interval` is not a positive, finite number, or `on_update` is not callable.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if poll_interval is not None and (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, int | float)
            or not 0 < poll_interval < math.inf
        ):
            raise ValueError(f"poll_interval must be a positive number of seconds or None, got {poll_interval!r}")
        if on_update is not None and not callable(on_update):
            raise ValueError(f"on_update must be callable or None, got {on_update!r}")
        self.batch_id = batch_id
        self.deadline = deadline if deadline is not None else Deadline(timeout, clock)
        """The end of the wait: every request made for it (and every retry) is bounded by it too."""
        self.fixed_interval = poll_interval
        self.polls = 0
        self.batch: Batch | None = None
        self._interval = FIRST_POLL_S
        self._on_update = on_update
        self._seen: tuple[object, ...] | None = None

    def observe(self, batch: Batch) -> bool:
        """Record a polled batch, telling `on_update` if its status or counts changed; True once it is terminal."""
        self.polls += 1
        self.batch = batch
        counts = batch.request_counts
        state = (str(batch.status), counts.total, counts.completed, counts.failed) if counts else (str(batch.status),)
        if state != self._seen:
            self._seen = state
            if self._on_update is not None:
                self._on_update(batch)
        return batch.is_terminal

    def observe_failure(self, error: Exception) -> None:
        """Record a poll that failed transiently (after the request's own retries): the wait goes on."""
        self.polls += 1
        logger.warning("Polling batch %s failed, will poll again: %s", self.batch_id, error)

    def next_delay(self, poll_after: float | None) -> float:
        """The wait before the next poll, never past the deadline.

        Raises:
            WaitTimeoutError: the deadline has passed; it carries the last batch seen.
        """
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise self.timeout_error()
        if poll_after is not None:
            delay = poll_after
        elif self.fixed_interval is not None:
            delay = self.fixed_interval
        else:
            delay = self._interval
            self._interval = min(self._interval * POLL_GROWTH, MAX_POLL_S)
        return min(delay, remaining)

    def timeout_error(self, note: str = "") -> WaitTimeoutError:
        """The error for a wait past its deadline, with the last batch seen (and `note`, when given)."""
        status = f"still {self.batch.status}" if self.batch is not None else "never retrieved"
        note = f"; {note}" if note else ""
        return WaitTimeoutError(
            f"batch {self.batch_id} did not reach a terminal status in time ({status} after {self.polls} polls{note})",
            batch=self.batch,
        )
