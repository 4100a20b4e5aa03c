"""Time limits for requests: a wait's `Deadline`, and the `BodyBudget` that bounds each JSON response body.

A wait (and everything inside it: the cancel, each poll, each retry and its sleep) ends at its deadline, however
the server behaves. httpx's timeouts bound each socket operation, not a request: a server that sends a byte every
0.2 s never trips a read timeout. So each attempt's timeouts are clipped to the time left (`Deadline.clip`), and a
JSON body is read in chunks against a total time and a size cap (`BodyBudget`), so a trickle ends too.
Sans-I/O, shared by the sync and async clients.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Final

import httpx

from batches_ext.errors import APIResponseValidationError

__all__ = ["MAX_JSON_BODY_BYTES", "BodyBudget", "Deadline", "attempt_timeouts"]

# A batch is ~2 KB and a page of 100 is ~200 KB: a JSON body past this is not an API answer but a runaway server.
MAX_JSON_BODY_BYTES: Final = 16 * 1024 * 1024
_TIMEOUT_KEYS: Final = ("connect", "read", "write", "pool")


class Deadline:
    """An instant on a monotonic clock by which something must be done."""

    __slots__ = ("_clock", "at")

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        """Seconds left; zero or less once passed."""
        return self.at - self._clock()

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.remaining() <= 0

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining():.3f})"


def attempt_timeouts(timeouts: Mapping[str, float | None], deadline: Deadline | None) -> dict[str, float | None]:
    """The httpx timeouts (`request.extensions["timeout"]`) of one attempt: each no longer than the time left.

    Without a deadline they are returned as they are (None: no limit).
    """
    if deadline is None:
        return dict(timeouts)
    left = max(deadline.remaining(), 0.0)
    return {key: left if timeouts.get(key) is None else min(timeouts[key] or 0.0, left) for key in _TIMEOUT_KEYS}


class BodyBudget:
    """Bounds the reading of one response body: its total time and its size.

    Args:
        timeouts: the attempt's httpx timeouts: the largest finite one bounds the whole body (a request whose
            timeouts are all None has no time limit, as asked).
        deadline: the wait's deadline, when the request is part of one: the body must also arrive before it.
        clock: the monotonic clock.
        max_bytes: the size cap.

    """

    __slots__ = ("_clock", "_ends", "max_bytes", "received")

    def __init__(
        self,
        timeouts: Mapping[str, float | None],
        deadline: Deadline | None,
        clock: Callable[[], float],
        max_bytes: int = MAX_JSON_BODY_BYTES,
    ) -> None:
        finite = [value for value in timeouts.values() if value is not None and math.isfinite(value)]
        ends = [clock() + max(finite)] if finite else []
        if deadline is not None:
            ends.append(deadline.at)
        self._ends = min(ends) if ends else math.inf
        self._clock = clock
        self.max_bytes = max_bytes
        self.received = 0

    def watch(self, response: httpx.Response) -> None:
        """Count every chunk of `response`'s body as `read()`/`aread()` pulls it (see `add`).

        The response's own stream is wrapped rather than read here, so httpx reads and decodes the body as usual
        (one copy, no second Response): only the checks are added.
        """
        response.stream = _WatchedStream(response.stream, self, response)

    def add(self, chunk: bytes, response: httpx.Response) -> None:
        """Count a chunk of `response`'s body just read.

        Raises:
            httpx.ReadTimeout: the body is taking longer than its time limit (retried like any read timeout).
            APIResponseValidationError: the body is larger than `max_bytes`.

        """
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise APIResponseValidationError(
                f"{response.status_code} response body exceeds {self.max_bytes} bytes: not an API answer",
                response=response,
            )
        if self._clock() > self._ends:
            raise httpx.ReadTimeout(
                f"the response body was still arriving at its time limit ({self.received} bytes so far)",
                request=response.request,
            )


class _WatchedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that passes each raw chunk to its `BodyBudget` before handing it on."""

    def __init__(
        self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, budget: BodyBudget, response: httpx.Response
    ) -> None:
        self._stream = stream
        self._budget = budget
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self._stream, httpx.SyncByteStream)  # noqa: S101 - a sync client's response
        for chunk in self._stream:
            self._budget.add(chunk, self._response)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx.AsyncByteStream)  # noqa: S101 - an async client's response
        async for chunk in self._stream:
            self._budget.add(chunk, self._response)
            yield chunk

    def close(self) -> None:
        assert isinstance(self._stream, httpx.SyncByteStream)  # noqa: S101
        self._stream.close()

    async def aclose(self) -> None:
        assert isinstance(self._stream, httpx.AsyncByteStream)  # noqa: S101
        await self._stream.aclose()
