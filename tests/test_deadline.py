"""A wait ends at its deadline whatever the server does: hangs, trickles its body, or sends a runaway body.

The end-to-end tests use real loopback sockets (`tests/stalling_server.py`) and real time, with a deadline of 1 s:
before the deadline reached into the requests, each of them ran for minutes (600 s timeouts, retried twice, and a
trickle that never trips a read timeout). The policy pieces are tested as tables with a fixed clock.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, BatchesClient, cli, errors
from batches_ext._cli_client import build_client
from batches_ext._deadline import MAX_JSON_BODY_BYTES, BodyBudget, Deadline, attempt_timeouts
from batches_ext._retry import RetryState
from tests.conftest import API_KEY
from tests.payloads import CANCELLING
from tests.stalling_server import stalling_server

DEADLINE_S = 1.0
SLACK_S = 1.5  # the end may come this much after the deadline: one trickled byte, thread and loop wake-ups


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Timed:
    """How long the call took (client construction and connection-pool setup excluded) and what it raised."""

    elapsed = 0.0
    error: BaseException | None = None
    result: Any = None


def run_against(
    kind: str, method: str, *, client: dict[str, Any], handler: Any = None, target: object = "batch_x", **kwargs: Any
) -> Timed:
    """Call `method(target, **kwargs)` on a client built with `client` (by default 600 s timeouts, 2 retries, real
    sleeps), sending through `handler` (an httpx.MockTransport handler) when given."""
    timed = Timed()
    if kind == "sync":
        http = httpx.Client(transport=httpx.MockTransport(handler)) if handler else None
        with BatchesClient(API_KEY, http_client=http, **client) as sync_client:
            sync_client._http_client()  # its setup is not the call's time (the machine may be loaded)
            start = time.monotonic()
            try:
                timed.result = getattr(sync_client, method)(target, **kwargs)
            except errors.BatchesError as exc:
                timed.error = exc
            timed.elapsed = time.monotonic() - start
        return timed

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler)) if handler else None
        async with AsyncBatchesClient(API_KEY, http_client=http, **client) as async_client:
            async_client._http_client()
            start = time.monotonic()
            try:
                timed.result = await getattr(async_client, method)(target, **kwargs)
            except errors.BatchesError as exc:
                timed.error = exc
            timed.elapsed = time.monotonic() - start

    asyncio.run(run())
    return timed


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("mode", ["silent", "trickle"])
@pytest.mark.parametrize("method", ["wait", "cancel_and_wait", "cancel_and_collect"])
def test_a_wait_ends_at_its_deadline_when_the_server_hangs_or_trickles(kind: str, mode: str, method: str) -> None:
    with stalling_server(mode) as base_url:
        timed = run_against(kind, method, client={"base_url": base_url}, timeout=DEADLINE_S)
    assert isinstance(timed.error, errors.WaitTimeoutError)
    assert "did not reach a terminal status in time" in str(timed.error)
    assert timed.error.batch is None  # no poll ever completed
    assert DEADLINE_S <= timed.elapsed < DEADLINE_S + SLACK_S


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_cancel_many_wait_ends_at_its_deadline_when_the_polls_hang(kind: str) -> None:
    """The cancels are answered; every poll of the group's wait hangs: the wait still ends at its deadline."""
    with stalling_server("silent", posts=json.dumps(CANCELLING).encode()) as base_url:
        timed = run_against(
            kind, "cancel_many", client={"base_url": base_url}, target=["b1", "b2"], wait=True, timeout=DEADLINE_S
        )
    assert timed.error is None
    assert [(o.batch_id, o.outcome, type(o.error)) for o in timed.result] == [
        ("b1", "failed", errors.WaitTimeoutError),
        ("b2", "failed", errors.WaitTimeoutError),
    ]
    assert timed.elapsed < DEADLINE_S + SLACK_S


def test_cli_wait_timeout_ends_on_time_against_a_silent_server(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    with stalling_server("silent") as base_url:
        started = time.monotonic()
        code = cli.main(["wait", "batch_x", "--timeout", str(DEADLINE_S), "--base-url", base_url])
        elapsed = time.monotonic() - started
    assert code == cli.EXIT_TIMEOUT
    assert elapsed < DEADLINE_S + SLACK_S
    assert "did not reach a terminal status in time (never retrieved" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_trickled_json_body_ends_at_the_request_timeout(kind: str) -> None:
    """Outside a wait, each JSON body is bounded by the request's timeout in total, not only per read."""
    request_timeout = 1.0
    with stalling_server("trickle") as base_url:
        options = {"base_url": base_url, "timeout": request_timeout, "max_retries": 0}
        timed = run_against(kind, "retrieve", client=options)
    assert isinstance(timed.error, errors.APITimeoutError)
    assert request_timeout <= timed.elapsed < request_timeout + SLACK_S


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_runaway_json_body_is_refused_past_the_size_cap(kind: str) -> None:
    runaway = b'{"id": "batch_x", "pad": "' + b"x" * MAX_JSON_BODY_BYTES + b'"}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(runaway))  # not read ahead, as from a socket

    error = run_against(kind, "retrieve", client={}, handler=handler).error
    assert isinstance(error, errors.APIResponseValidationError)
    assert f"exceeds {MAX_JSON_BODY_BYTES} bytes" in str(error)


# --- the pieces, with a fixed clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeouts", "left", "expected"),
    [
        ({"connect": 5.0, "read": 600.0, "write": 600.0, "pool": 600.0}, 30.0, (5.0, 30.0, 30.0, 30.0)),
        ({"connect": 5.0, "read": 600.0, "write": 600.0, "pool": 600.0}, 2.0, (2.0, 2.0, 2.0, 2.0)),
        ({"connect": None, "read": None, "write": None, "pool": None}, 3.0, (3.0, 3.0, 3.0, 3.0)),  # timeout=None
        ({}, 3.0, (3.0, 3.0, 3.0, 3.0)),
        ({"connect": 5.0, "read": 600.0, "write": 600.0, "pool": 600.0}, -1.0, (0.0, 0.0, 0.0, 0.0)),
    ],
)
def test_each_attempt_timeout_is_clipped_to_the_time_left(
    timeouts: dict[str, float | None], left: float, expected: tuple[float, ...]
) -> None:
    clock = Clock()
    clipped = attempt_timeouts(timeouts, Deadline(left, clock))
    assert tuple(clipped[key] for key in ("connect", "read", "write", "pool")) == expected


def test_without_a_deadline_the_request_timeouts_are_kept() -> None:
    timeouts = {"connect": 5.0, "read": None, "write": 600.0, "pool": 600.0}
    assert attempt_timeouts(timeouts, None) == timeouts


def _retry(deadline: Deadline | None) -> RetryState:
    request = httpx.Request("GET", "https://api.example/v1/batches/b1", extensions={"timeout": {"read": 600.0}})
    return RetryState(request, max_retries=2, now=lambda: 0.0, jitter=lambda: 0.0, deadline=deadline)


def test_no_retry_starts_when_its_sleep_would_outlast_the_deadline() -> None:
    clock = Clock()
    retry = _retry(Deadline(0.4, clock))  # the first backoff is 0.5 s
    assert retry.after_response(httpx.Response(503)) is None
    with pytest.raises(errors.APIConnectionError):
        retry.after_exception(httpx.ConnectError("refused"))
    assert retry.retries_taken == 0


def test_a_retry_that_fits_before_the_deadline_is_taken() -> None:
    clock = Clock()
    retry = _retry(Deadline(0.6, clock))
    assert retry.after_response(httpx.Response(503)) == 0.5
    assert retry.after_response(httpx.Response(503, headers={"retry-after": "5"})) is None  # 5 s > the 0.1 s left


def test_no_attempt_is_sent_after_the_deadline() -> None:
    clock = Clock()
    retry = _retry(Deadline(1.0, clock))
    retry.start_attempt()
    assert retry.request.extensions["timeout"]["read"] == 1.0
    clock.now += 1.0
    with pytest.raises(errors.APITimeoutError, match="Deadline reached before GET /v1/batches/b1"):
        retry.start_attempt()


def test_a_body_budget_ends_at_the_earlier_of_the_request_timeout_and_the_deadline() -> None:
    clock = Clock()
    response = httpx.Response(200, request=httpx.Request("GET", "https://api.example/v1/batches/b1"))
    budget = BodyBudget({"connect": 5.0, "read": 10.0}, Deadline(3.0, clock), clock)
    clock.now += 3.0
    budget.add(b"{", response)  # at the deadline: still in time
    clock.now += 0.01
    with pytest.raises(httpx.ReadTimeout, match="still arriving"):
        budget.add(b'"', response)
    unbounded = BodyBudget({"read": None}, None, clock, max_bytes=4)
    clock.now += 10**6
    unbounded.add(b"1234", response)  # timeout=None: no time limit, as asked
    with pytest.raises(errors.APIResponseValidationError, match="exceeds 4 bytes"):
        unbounded.add(b"5", response)


# --- the CLI's --request-timeout --------------------------------------------------------------------------------------


@pytest.mark.parametrize("position", ["before", "after"])
def test_cli_request_timeout_sets_the_clients_timeout(monkeypatch: pytest.MonkeyPatch, position: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    option = ["--request-timeout", "2.5"]
    argv = [*option, "retrieve", "batch_x"] if position == "before" else ["retrieve", "batch_x", *option]
    with build_client(cli.build_parser().parse_args(argv), None) as client:
        assert client._core.settings.timeout == httpx.Timeout(2.5, connect=2.5)
    with build_client(cli.build_parser().parse_args(["retrieve", "batch_x"]), None) as client:
        assert client._core.settings.timeout == httpx.Timeout(600.0, connect=5.0)  # the default, unchanged


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "soon", "1e300"])
def test_cli_refuses_a_bad_request_timeout(capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert cli.main(["retrieve", "batch_x", "--request-timeout", value]) == cli.EXIT_USAGE
    assert "--request-timeout" in capsys.readouterr().err
