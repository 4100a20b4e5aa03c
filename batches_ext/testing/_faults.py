"""Injected faults: what the next requests suffer instead of (or before) their normal answer.

Faults queue up in the order they were injected and each one is used by exactly one request, whatever its route
(auth and routing come after, as behind a real load balancer). Each delivery path applies them its own way:
the in-process transport raises httpx's exceptions, the real server closes or stalls its socket.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from batches_ext.testing._wire import Reply, error_reply

__all__ = ["Fault", "FaultQueue", "fault_reply"]

FaultKind = Literal["error", "drop", "slow"]

# What the API says with each status (type, code, message), so an injected error reads like a real one.
_ERRORS: Final[dict[int, tuple[str, str | None, str]]] = {
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: an error reply, a dropped connection, or a delay before the normal answer."""

    kind: FaultKind
    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0


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


class FaultQueue:
    """A thread-safe FIFO of faults; `take()` hands the next one to a request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()

    def add_errors(self, count: int, status: int, headers: Mapping[str, str] | None) -> None:
        """Queue `count` error replies.

        Raises:
            ValueError: `count` is negative, `status` is not 400-599, or a header is not text.

        """
        _check_count(count)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status (400-599), got {status!r}")
        extra = dict(headers or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
            raise ValueError("headers must map str to str")
        self._extend(count, Fault("error", status=status, headers=extra))

    def add_drops(self, count: int) -> None:
        """Queue `count` dropped connections.

        Raises:
            ValueError: `count` is negative.

        """
        self._extend(_check_count(count), Fault("drop"))

    def add_delays(self, count: int, seconds: float) -> None:
        """Queue `count` delays of `seconds` each.

        Raises:
            ValueError: `count` or `seconds` is negative, or `seconds` is not finite.

        """
        _check_count(count)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise ValueError(f"seconds must be a finite number, got {seconds!r}")
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds!r}")
        self._extend(count, Fault("slow", seconds=float(seconds)))

    def _extend(self, count: int, fault: Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    def take(self) -> Fault | None:
        """The fault for the request being handled, or None."""
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def pending(self) -> list[Fault]:
        """The faults not used yet, in order."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()
