"""Injected faults: what the next requests suffer instead of (or before) their normal answer.

Faults queue up in the order they were injected and each one is used by exactly one request, whatever its route
(auth and routing come after, as behind a real load balancer). Each delivery path applies them its own way:
the in-process transport raises httpx's exceptions, the real server closes or stalls its socket. Cuts are the
exception: they queue apart and each is used by the next file download (`GET /files/{id}/content`) that sends a
body, which drops its connection after that many bytes; a standing cut applies to every download until cleared.

A group of faults injected with a `share` below 1 hits each coming request with that probability (drawn from its
own `random.Random(seed)`, so a run can be repeated) until all of them are used; the requests it spares pass
untouched, and faults injected later wait behind it. `inject_errors(1000, 429, share=0.05)` is "one request in
twenty is rate limited" for the next ~20,000 requests.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from batches_ext.testing._wire import Reply, error_reply

__all__ = ["Fault", "FaultQueue", "fault_reply"]

FaultKind = Literal["error", "drop", "slow", "cut"]

# What the API says with each status (type, code, message), so an injected error reads like a real one.
_ERRORS: Final[dict[int, tuple[str, str | None, str]]] = {
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: an error reply, a dropped connection, a delay, or a download cut after `after` bytes.

    `share` is the probability that it hits any one coming request (1: the next one).
    """

    kind: FaultKind
    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    share: float = 1.0
    after: int = 0


@dataclass(slots=True)
class _Group:
    """Faults injected together: `remaining` copies of `fault`, each hitting a request with `fault.share`."""

    fault: Fault
    remaining: int
    draw: Callable[[], float] | None  # None: every request is hit (share 1)


def fault_reply(fault: Fault) -> Reply:
    """The reply of an injected `error` fault, with its extra headers (e.g. `retry-after-ms`)."""
    known = _ERRORS.get(fault.status)
    if known is not None:
        type_, code, message = known
    else:
        type_ = "server_error" if fault.status >= 500 else "invalid_request_error"
        code, message = None, f"Injected error (HTTP {fault.status})."
    return error_reply(fault.status, message, type_, code=code, headers=fault.headers)


def _check_count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative int, got {count!r}")
    return count


def _check_share(share: object, seed: object) -> float:
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ValueError(f"share must be a probability above 0 and at most 1, got {share!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be an int or None, got {seed!r}")
    return float(share)


class FaultQueue:
    """A thread-safe FIFO of fault groups; `take()` hands the next fault to a request, or spares it.

    Every `add_*` takes `share` (the probability that each coming request is hit, above 0 and at most 1) and
    `seed` (for the draws; None: unpredictable) and raises `ValueError` for a bad one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: deque[_Group] = deque()
        self._cuts: deque[Fault] = deque()
        self._standing_cut: int | None = None

    def add_errors(
        self, count: int, status: int, headers: Mapping[str, str] | None, *, share: float = 1.0, seed: int | None = None
    ) -> None:
        """Queue `count` error replies.

        Raises:
            ValueError: `count` is negative, `status` is not 400-599, a header is not text, or a bad share or seed.

        """
        _check_count(count)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status (400-599), got {status!r}")
        extra = dict(headers or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
            raise ValueError("headers must map str to str")
        share = _check_share(share, seed)
        self._add(count, Fault("error", status=status, headers=extra, share=share), seed)

    def add_drops(self, count: int, *, share: float = 1.0, seed: int | None = None) -> None:
        """Queue `count` dropped connections.

        Raises:
            ValueError: `count` is negative, or a bad share or seed.

        """
        _check_count(count)
        self._add(count, Fault("drop", share=_check_share(share, seed)), seed)

    def add_delays(self, count: int, seconds: float, *, share: float = 1.0, seed: int | None = None) -> None:
        """Queue `count` delays of `seconds` each.

        Raises:
            ValueError: `count` or `seconds` is negative, `seconds` is not finite, or a bad share or seed.

        """
        _check_count(count)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise ValueError(f"seconds must be a finite number, got {seconds!r}")
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds!r}")
        self._add(count, Fault("slow", seconds=float(seconds), share=_check_share(share, seed)), seed)

    def add_cuts(self, after: Iterable[int], *, every: bool) -> None:
        """Cut the next downloads after each of `after` bytes in turn; with `every`, cut every download (one value).

        Raises:
            ValueError: a value is not a non-negative int, or `every` with other than one value.

        """
        points = list(after)
        for point in points:
            if isinstance(point, bool) or not isinstance(point, int) or point < 0:
                raise ValueError(f"a cut point must be a non-negative int (bytes), got {point!r}")
        if every and len(points) != 1:
            raise ValueError(f"every=True takes one cut point, got {len(points)}")
        with self._lock:
            if every:
                self._standing_cut = points[0]
            else:
                self._cuts.extend(Fault("cut", after=point) for point in points)

    def take_cut(self) -> int | None:
        """Where the download being answered is cut (bytes of its body), or None."""
        with self._lock:
            if self._cuts:
                return self._cuts.popleft().after
            return self._standing_cut

    def _add(self, count: int, fault: Fault, seed: int | None) -> None:
        if not count:
            return
        draw = random.Random(seed).random if fault.share < 1 else None  # noqa: S311 - test faults, not secrets
        with self._lock:
            self._groups.append(_Group(fault, count, draw))

    def take(self) -> Fault | None:
        """The fault for the request being handled, or None (no fault queued, or the first group spares it)."""
        with self._lock:
            if not self._groups:
                return None
            group = self._groups[0]
            if group.draw is not None and group.draw() >= group.fault.share:
                return None
            group.remaining -= 1
            if not group.remaining:
                self._groups.popleft()
            return group.fault

    def pending(self) -> list[Fault]:
        """The faults not used yet, in order (queued cuts last; a standing cut is never pending)."""
        with self._lock:
            queued = [fault for group in self._groups for fault in [group.fault] * group.remaining]
            return [*queued, *self._cuts]

    def clear(self) -> None:
        """Drop every queued fault and the standing cut."""
        with self._lock:
            self._groups.clear()
            self._cuts.clear()
            self._standing_cut = None
