"""The retry policy's pure functions, as tables with a fixed clock (the client tests cover the loops)."""

from __future__ import annotations

import httpx
import pytest

from batches_ext._retry import (
    GROUP_RATE_LIMIT_RETRIES,
    RetryState,
    backoff_delay,
    retry_after_seconds,
    retry_delay,
    should_retry_status,
)

NOW = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (400, {}, False),
        (401, {}, False),
        (404, {}, False),
        (408, {}, True),
        (409, {}, True),
        (429, {}, True),
        (500, {}, True),
        (520, {}, True),
        (500, {"x-should-retry": "false"}, False),
        (400, {"x-should-retry": "true"}, True),
        (429, {"x-should-retry": "maybe"}, True),  # anything else: the status decides
    ],
)
def test_should_retry_status(status: int, headers: dict[str, str], expected: bool) -> None:
    assert should_retry_status(status, headers) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "junk", "retry-after": "2"}, 2.0),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:50 GMT"}, 30.0),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:00 GMT"}, -20.0),  # in the past: the caller ignores it
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "next tuesday"}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, NOW) == expected


@pytest.mark.parametrize(
    ("retries_taken", "jitter", "expected"),
    [(0, 0.0, 0.5), (1, 0.0, 1.0), (2, 0.0, 2.0), (3, 0.0, 4.0), (4, 0.0, 8.0), (9, 0.0, 8.0), (0, 0.999, 0.375125)],
)
def test_backoff_delay(retries_taken: int, jitter: float, expected: float) -> None:
    assert backoff_delay(retries_taken, jitter) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "120"}, 120.0),  # the boundary is honoured
        ({"retry-after": "120.5"}, 0.5),  # beyond it: backoff
        ({"retry-after": "0"}, 0.5),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:00 GMT"}, 0.5),
    ],
)
def test_retry_delay_bounds_the_hint(headers: dict[str, str], expected: float) -> None:
    assert retry_delay(headers, retries_taken=0, now=NOW, jitter=0.0) == pytest.approx(expected)


def _answers(state: RetryState, *statuses: int) -> list[float | None]:
    return [state.after_response(httpx.Response(status, headers={"retry-after-ms": "50"})) for status in statuses]


def test_a_grouped_request_retries_429s_beyond_max_retries_and_no_other_failure() -> None:
    request = httpx.Request("POST", "https://api.example/v1/batches/b/cancel")
    grouped = RetryState(request, 2, lambda: NOW, rate_limit_retries=GROUP_RATE_LIMIT_RETRIES)
    assert _answers(grouped, *[429] * GROUP_RATE_LIMIT_RETRIES) == [0.05] * GROUP_RATE_LIMIT_RETRIES
    assert grouped.retries_taken == 0  # max_retries is still whole for other failures
    assert _answers(grouped, 429, 429, 429) == [0.05, 0.05, None]  # then 429s spend max_retries, and run out
    other = RetryState(request, 2, lambda: NOW, rate_limit_retries=GROUP_RATE_LIMIT_RETRIES)
    assert _answers(other, 500, 503, 500) == [0.05, 0.05, None]  # 5xx: max_retries only
    alone = RetryState(request, 2, lambda: NOW)  # a request on its own: the SDK's contract, two retries
    assert _answers(alone, 429, 429, 429) == [0.05, 0.05, None]
