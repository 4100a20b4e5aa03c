"""The retry policy: pure functions and a small per-request state, shared by the sync and async clients.

The contract is the openai SDK's (measured on 3.54.0, shared/ANCHORS.md): `x-should-retry` wins; else retry
connection errors, timeouts, 408, 409, 429 and 5xx. Wait `retry-after-ms`, then `retry-after` (seconds or an HTTP
date) when 0 < hint <= 120 s; else back off `min(0.5 * 2**n, 8) * (1 - 0.25 * random())`.

A request of a rate-gated group (`cancel_many`) may also retry up to `GROUP_RATE_LIMIT_RETRIES` 429s on top of
`max_retries`: the whole group already pauses for each 429, so there a 429 is the API pacing the group, not this
request failing. (At 5 % of requests rate limited, a 1,000-batch cancel otherwise lost a batch in one run of seven
to three 429s in a row.) The budget stays finite, and each wait is bounded by `MAX_RETRY_AFTER_S`.

httpx-retries (0.6.0) was read and set aside: it retries inside the transport (a user's own `http_client` would
lose it, and it sleeps with `time.sleep` itself, so waits can be neither injected nor logged per attempt), reads
only `Retry-After` (not `retry-after-ms` nor `x-should-retry`), and leaves POST out of its retryable methods.
Adapting it would cost more code than these functions.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping

import httpx

from batches_ext import errors
from batches_ext._deadline import Deadline, attempt_timeouts

__all__ = [
    "GROUP_RATE_LIMIT_RETRIES",
    "INITIAL_RETRY_DELAY_S",
    "MAX_RETRY_AFTER_S",
    "MAX_RETRY_DELAY_S",
    "RetryState",
    "backoff_delay",
    "is_transient",
    "retry_after_seconds",
    "should_retry_status",
    "undecodable_body",
]

logger = logging.getLogger(__package__)  # "batches_ext", or the vendored copy's name

INITIAL_RETRY_DELAY_S = 0.5  # first backoff, doubling per retry (openai SDK)
MAX_RETRY_DELAY_S = 8.0  # backoff ceiling (openai SDK)
MAX_RETRY_AFTER_S = 120.0  # a server hint beyond this is ignored in favour of backoff (openai SDK 3.54)
GROUP_RATE_LIMIT_RETRIES = 8  # 429s a request of a rate-gated group may retry beyond max_retries (see above)
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_RATE_LIMITED = 429


def should_retry_status(status_code: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with this status and headers is worth another attempt."""
    hint = headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    return status_code in _RETRYABLE_STATUS or status_code >= 500


def is_transient(error: errors.APIError) -> bool:
    """Whether a failed request (after its own retries) may succeed if asked again later."""
    if isinstance(error, errors.APIConnectionError):
        return True
    return isinstance(error, errors.APIStatusError) and should_retry_status(error.status_code, error.response.headers)


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """Return the server's requested wait in seconds (`retry-after-ms`, then `retry-after`), or None.

    `now` is the current unix time, used to turn an HTTP date into a delay.
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return _finite(float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _finite(float(value))
    except ValueError:
        pass
    import email.utils  # noqa: PLC0415 - rare path; the email package costs ~8 ms at import

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.timestamp() - now


def _finite(seconds: float) -> float | None:
    return seconds if math.isfinite(seconds) else None


def backoff_delay(retries_taken: int, jitter: float) -> float:
    """Exponential backoff for the retry after `retries_taken` earlier ones; `jitter` in [0, 1) trims up to 25%."""
    return min(INITIAL_RETRY_DELAY_S * 2.0**retries_taken, MAX_RETRY_DELAY_S) * (1 - 0.25 * jitter)


def retry_delay(headers: Mapping[str, str], retries_taken: int, now: float, jitter: float) -> float:
    """The wait before the next attempt: the server's hint when sane, else backoff."""
    hint = retry_after_seconds(headers, now)
    if hint is not None and 0 < hint <= MAX_RETRY_AFTER_S:
        return hint
    return backoff_delay(retries_taken, jitter)


class RetryState:
    """Counts the attempts of one logical request and decides, after each, whether and how long to wait.

    The clients' loops do only the I/O and the sleeping: every decision is made here.
    """

    __slots__ = (
        "_jitter",
        "_now",
        "deadline",
        "lost_reply",
        "max_retries",
        "rate_limit_retries",
        "request",
        "retries_taken",
        "timeouts",
    )

    def __init__(
        self,
        request: httpx.Request,
        max_retries: int,
        now: Callable[[], float],
        jitter: Callable[[], float] = random.random,
        *,
        rate_limit_retries: int = 0,
        deadline: Deadline | None = None,
    ) -> None:
        self.request = request
        self.max_retries = max_retries
        self.retries_taken = 0
        self.rate_limit_retries = rate_limit_retries
        """429s still to retry without spending `max_retries` (a rate-gated group's requests get some)."""
        self.deadline = deadline
        """The wait this request is part of must end by then: every attempt and every sleep fits before it."""
        self.lost_reply = False
        """True once an attempt that may have been carried out was retried (a transport error, a 5xx)."""
        self.timeouts: Mapping[str, float | None] = request.extensions.get("timeout") or {}
        """The request's own httpx timeouts (each attempt with a deadline gets a clipped copy)."""
        self._now = now
        self._jitter = jitter

    def start_attempt(self) -> None:
        """Set the next attempt's httpx timeouts: the request's own, each clipped to the deadline's time left.

        Raises:
            errors.APITimeoutError: the deadline has passed; nothing is sent.

        """
        if self.deadline is None:
            return  # the request's own timeouts, untouched
        if self.deadline.expired:
            raise errors.APITimeoutError(
                f"Deadline reached before {self.request.method} {self.request.url.path} could be sent",
                request=self.request,
            )
        self.request.extensions["timeout"] = attempt_timeouts(self.timeouts, self.deadline)

    def after_response(self, response: httpx.Response) -> float | None:
        """Return the wait before retrying `response`, or None if it is final (success, or not retryable)."""
        if response.status_code < 400 or not should_retry_status(response.status_code, response.headers):
            return None
        delay = retry_delay(response.headers, self.retries_taken, self._now(), self._jitter())
        if not self._fits(delay):
            return None
        if response.status_code == _RATE_LIMITED and self.rate_limit_retries > 0:
            self.rate_limit_retries -= 1
            self._log(delay, "HTTP 429 (the group pauses)", f"{self.rate_limit_retries} more 429s allowed")
            return delay
        if self.retries_taken >= self.max_retries:
            return None
        self.lost_reply = self.lost_reply or response.status_code >= 500
        return self._count(delay, f"HTTP {response.status_code}")

    def after_exception(self, exc: httpx.RequestError) -> float:
        """Return the wait before retrying after a transport failure, or raise the matching API error."""
        error = _connection_error(exc, self.request)
        if self.retries_taken >= self.max_retries or not isinstance(exc, httpx.TransportError):
            raise error from exc
        delay = backoff_delay(self.retries_taken, self._jitter())
        if not self._fits(delay):
            raise error from exc
        self.lost_reply = True
        return self._count(delay, f"{type(exc).__name__}: {exc}")

    def _fits(self, delay: float) -> bool:
        """Whether a retry after `delay` seconds can start before the deadline (always, without one)."""
        return self.deadline is None or delay < self.deadline.remaining()

    def _count(self, delay: float, reason: str) -> float:
        self.retries_taken += 1
        self._log(delay, reason, f"retry {self.retries_taken} of {self.max_retries}")
        return delay

    def _log(self, delay: float, reason: str, budget: str) -> None:
        logger.info(
            "Retrying %s %s in %.2f s (%s): %s", self.request.method, self.request.url.path, delay, budget, reason
        )


def undecodable_body(exc: httpx.DecodingError, request: httpx.Request) -> errors.APIResponseValidationError:
    """The error for a body that arrived but is not what its `Content-Encoding` says (gzip that is not gzip).

    Not a connection error, and not retried: the server answered, wrongly, and would answer the same again.
    """
    return errors.APIResponseValidationError(
        f"the response to {request.method} {request.url.path} cannot be decoded as its Content-Encoding header "
        f"says: {exc}",
        request=request,
    )


def _connection_error(exc: httpx.RequestError, request: httpx.Request) -> errors.APIError:
    if isinstance(exc, httpx.DecodingError):
        return undecodable_body(exc, request)
    if isinstance(exc, httpx.TimeoutException):
        return errors.APITimeoutError(f"Request timed out: {request.method} {request.url.path}", request=request)
    return errors.APIConnectionError(
        f"Connection error on {request.method} {request.url.path}: {type(exc).__name__}: {exc}", request=request
    )
