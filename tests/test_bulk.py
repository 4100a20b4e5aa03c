"""`cancel_many`: the group's rate gate, the plan, the outcomes and the report (pure), then both clients on the fake."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, CancelOutcome, CancelReport, errors
from batches_ext._bulk import (
    MAX_CONCURRENCY,
    GroupWait,
    RateGate,
    accepted,
    check_concurrency,
    plan_cancels,
    refused,
    worth_checking,
)
from batches_ext._retry import GROUP_RATE_LIMIT_RETRIES
from batches_ext.testing import FakeBatchAPI, FakeClock
from tests.conftest import error

NOW = 1_700_000_000.0


class Clock:
    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def limited(**headers: str) -> httpx.Response:
    return error(429, "Rate limit reached", **headers)


def status_error(status: int) -> errors.APIStatusError:
    response = error(status, "Cannot cancel a batch with status 'completed'.")
    response.request = httpx.Request("POST", "https://api.example.test/v1/batches/b/cancel")
    response.read()
    return errors.make_status_error(response)


def a_batch(status: str, batch_id: str = "b1") -> Batch:
    return Batch({"id": batch_id, "status": status})


# --- RateGate --------------------------------------------------------------------------------------------------------


def test_the_gate_is_open_until_a_429() -> None:
    clock = Clock()
    gate = RateGate(clock, now=lambda: NOW, jitter=lambda: 0.0)
    assert gate.delay() == 0.0
    gate.observe(httpx.Response(200))
    gate.observe(error(500))
    assert gate.delay() == 0.0
    assert gate.pauses == 0


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({"retry-after-ms": "50"}, 0.05),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:25 GMT"}, 5.0),  # an HTTP date, 5 s after NOW
        ({}, 0.5),  # no hint: the first backoff step
        ({"retry-after": "900"}, 0.5),  # beyond the sane range: backoff, as for a retry
    ],
)
def test_a_429_pauses_the_group_for_its_retry_after(headers: dict[str, str], pause: float) -> None:
    clock = Clock()
    gate = RateGate(clock, now=lambda: NOW + 0.0, jitter=lambda: 0.0)
    gate.observe(limited(**headers))
    assert gate.delay() == pytest.approx(pause)
    clock.now += pause / 2
    assert gate.delay() == pytest.approx(pause / 2)
    clock.now += pause
    assert gate.delay() == 0.0
    assert gate.pauses == 1


def test_a_later_429_pushes_the_instant_forward_never_back() -> None:
    clock = Clock()
    gate = RateGate(clock, jitter=lambda: 0.0)
    gate.observe(limited(**{"retry-after": "10"}))
    gate.observe(limited(**{"retry-after-ms": "100"}))  # shorter: the 10 s pause stands
    assert gate.delay() == pytest.approx(10)
    clock.now += 5
    gate.observe(limited(**{"retry-after": "20"}))
    assert gate.delay() == pytest.approx(20)
    assert gate.pauses == 3


def test_the_gate_is_safe_to_share_between_threads() -> None:
    clock = Clock()
    gate = RateGate(clock, jitter=lambda: 0.0)

    def hammer(seconds: int) -> None:
        for _ in range(200):
            gate.observe(limited(**{"retry-after": str(seconds)}))

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gate.delay() == pytest.approx(8)
    assert gate.pauses == 1600


# --- the plan --------------------------------------------------------------------------------------------------------


def test_the_plan_keeps_order_and_drops_repeats() -> None:
    ids = plan_cancels(["b2", a_batch("in_progress", "b1"), "b2", "b3"], concurrency=8, wait=False, wait_options={})
    assert ids == ["b2", "b1", "b3"]


def test_the_plan_takes_any_iterable() -> None:
    assert plan_cancels((f"b{n}" for n in range(3)), concurrency=1, wait=False, wait_options={}) == ["b0", "b1", "b2"]
    assert plan_cancels([], concurrency=1, wait=False, wait_options={}) == []


@pytest.mark.parametrize(
    ("args", "kwargs", "error_type", "message"),
    [
        ((["b1", ""],), {}, ValueError, r"batches_or_ids\[1\]: batch_id must be a non-empty string"),
        ((["b1", 7],), {}, ValueError, r"batches_or_ids\[1\]: batch_id must be a str"),
        (("batch_abc",), {}, ValueError, "not one; for one batch, pass"),
        ((["b1"],), {"concurrency": 0}, ValueError, "concurrency must be from 1 to 64"),
        ((["b1"],), {"concurrency": MAX_CONCURRENCY + 1}, ValueError, "concurrency must be from 1"),
        ((["b1"],), {"concurrency": 2.0}, ValueError, "concurrency must be an int"),
        ((["b1"],), {"wait": "yes"}, ValueError, "wait must be a bool"),
        ((["b1"],), {"wait_options": {"timeout": 5}}, ValueError, "only apply with wait=True"),
        ((["b1"],), {"wait": True, "wait_options": {"timeout": -1}}, ValueError, "timeout must be a positive"),
        ((["b1"],), {"wait": True, "wait_options": {"poll_interval": 0}}, ValueError, "poll_interval"),
        ((["b1"],), {"wait": True, "wait_options": {"on_update": "print"}}, ValueError, "on_update must be callable"),
        ((["b1"],), {"wait": True, "wait_options": {"timout": 5}}, TypeError, "unexpected wait option"),
    ],
)
def test_the_plan_refuses_bad_input(
    args: tuple[Any, ...], kwargs: dict[str, Any], error_type: type[Exception], message: str
) -> None:
    options: dict[str, Any] = {"concurrency": 8, "wait": False, "wait_options": {}} | kwargs
    with pytest.raises(error_type, match=message):
        plan_cancels(*args, **options)


def test_check_concurrency_bounds() -> None:
    assert check_concurrency(1) == 1
    assert check_concurrency(MAX_CONCURRENCY) == MAX_CONCURRENCY
    with pytest.raises(ValueError, match="not bool"):
        check_concurrency(True)


# --- outcomes --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("cancelling", "stopped"),
        ("cancelled", "stopped"),
        ("in_progress", "stopped"),
        ("completed", "already_finished"),
    ],
)
def test_an_accepted_cancel(status: str, outcome: str) -> None:
    result = accepted("b1", a_batch(status))
    assert (result.outcome, result.batch, result.error) == (outcome, result.batch, None)
    assert result.ok


@pytest.mark.parametrize(
    ("status", "outcome", "keeps_error"),
    [
        ("completed", "already_finished", False),
        ("failed", "already_finished", False),
        ("expired", "already_finished", False),
        ("cancelled", "already_finished", False),
        ("cancelling", "stopped", False),
        ("in_progress", "failed", True),
        ("Queued", "failed", True),  # unknown: not known to be stopped
    ],
)
def test_a_refused_cancel_is_told_apart_by_the_batch(status: str, outcome: str, keeps_error: bool) -> None:
    refusal = status_error(409)
    result = refused("b1", refusal, a_batch(status))
    assert result.outcome == outcome
    assert result.batch is not None
    assert (result.error is refusal) is keeps_error


def test_not_found_and_failures_without_a_batch() -> None:
    missing = status_error(404)
    assert refused("b1", missing, None) == CancelOutcome("b1", "not_found", None, missing)
    broken = status_error(500)
    assert refused("b1", broken, None) == CancelOutcome("b1", "failed", None, broken)
    assert not refused("b1", broken, None).ok


@pytest.mark.parametrize(("status", "worth"), [(400, True), (409, True), (404, False), (429, False), (500, False)])
def test_which_refusals_are_worth_a_retrieve(status: int, worth: bool) -> None:
    assert worth_checking(status_error(status)) is worth
    assert not worth_checking(errors.APIConnectionError("down", request=httpx.Request("GET", "https://x.test")))


# --- the report ------------------------------------------------------------------------------------------------------


def test_the_report_counts_and_reads_well() -> None:
    missing = status_error(404)
    report = CancelReport(
        [
            CancelOutcome("b1", "stopped", a_batch("cancelling")),
            CancelOutcome("b2", "already_finished", a_batch("completed", "b2")),
            CancelOutcome("b\x1b[2J", "not_found", None, missing),
            CancelOutcome("b4", "failed", None, None),
        ]
    )
    assert report.counts == {"stopped": 1, "already_finished": 1, "not_found": 1, "failed": 1}
    assert not report.ok
    assert [o.batch_id for o in report] == ["b1", "b2", "b\x1b[2J", "b4"]
    assert len(report) == 4
    assert [o.batch_id for o in report.problems] == ["b\x1b[2J", "b4"]
    text = str(report)
    assert text.splitlines()[0] == "4 batches: 1 stopped, 1 already finished, 1 not found, 1 failed"
    assert "  b\\x1b[2J: not found: " in text  # server text and ids escaped: no terminal control
    assert "\x1b" not in text
    assert text.splitlines()[-1] == "  b4: failed: failed"
    assert repr(report) == "CancelReport(4 batches: 1 stopped, 1 already finished, 1 not found, 1 failed)"


def test_an_all_good_report() -> None:
    report = CancelReport([CancelOutcome("b1", "stopped", a_batch("cancelling"))])
    assert report.ok
    assert str(report) == "1 batch: 1 stopped, 0 already finished, 0 not found, 0 failed"
    assert report.outcomes == list(report)


# --- GroupWait -------------------------------------------------------------------------------------------------------


def stopped(*ids: str) -> list[CancelOutcome]:
    return [CancelOutcome(batch_id, "stopped", a_batch("cancelling", batch_id)) for batch_id in ids]


def test_the_group_wait_ends_each_batch_when_terminal() -> None:
    clock = Clock()
    seen: list[str] = []
    group = GroupWait(stopped("b1", "b2"), {"on_update": lambda b: seen.append(str(b.status))}, clock)
    assert group.pending == ["b1", "b2"]
    assert group.observe("b1", a_batch("cancelling", "b1")) is None
    final = group.observe("b2", a_batch("cancelled", "b2"))
    assert final is not None
    assert (final.outcome, final.batch_id) == ("stopped", "b2")
    assert group.pending == ["b1"]
    delay, expired = group.next_delay()
    assert (delay, expired) == (1.0, [])
    assert seen == ["cancelling", "cancelled"]


def test_the_group_wait_rides_out_transient_errors_and_ends_on_others() -> None:
    group = GroupWait(stopped("b1", "b2"), {}, Clock())
    assert group.observe("b1", status_error(503)) is None
    assert group.pending == ["b1", "b2"]
    gone = status_error(404)
    final = group.observe("b2", gone)
    assert final is not None
    assert (final.outcome, final.error) == ("failed", gone)
    assert final.batch is not None  # the last state seen: the cancel's answer
    assert final.batch.status == "cancelling"


def test_the_group_wait_has_one_deadline() -> None:
    clock = Clock()
    group = GroupWait(stopped("b1", "b2"), {"timeout": 30, "poll_interval": 10}, clock)
    assert group.next_delay() == (10, [])
    clock.now += 30
    delay, expired = group.next_delay()
    assert delay == 0.0
    assert [(o.batch_id, o.outcome) for o in expired] == [("b1", "failed"), ("b2", "failed")]
    assert all(isinstance(o.error, errors.WaitTimeoutError) for o in expired)
    assert group.pending == []


# --- cancel_many on the fake -----------------------------------------------------------------------------------------


def seed_mix(api: FakeBatchAPI) -> None:
    for n in range(6):
        api.add_batch(f"run{n}", status="in_progress")
    api.add_batch("done", status="completed")
    api.add_batch("stopping", status="cancelling")
    api.add_batch("gone_wrong", status="failed")


def test_cancel_many_gives_every_outcome(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    seed_mix(fake_batch_api)
    seen: list[str] = []
    names = [f"run{n}" for n in range(6)] + ["done", "stopping", "gone_wrong", "missing"]
    report = batches_client.cancel_many(names, concurrency=3, on_outcome=lambda o: seen.append(o.batch_id))
    assert [o.batch_id for o in report] == names
    assert {o.batch_id: o.outcome for o in report} == {
        **{f"run{n}": "stopped" for n in range(6)},
        "done": "already_finished",
        "stopping": "stopped",
        "gone_wrong": "already_finished",
        "missing": "not_found",
    }
    assert sorted(seen) == sorted(names)
    assert report.counts == {"stopped": 7, "already_finished": 2, "not_found": 1, "failed": 0}
    assert not report.ok
    assert all(fake_batch_api.get_batch(f"run{n}")["status"] == "cancelling" for n in range(6))
    by_id = {o.batch_id: o for o in report}
    assert by_id["done"].batch is not None
    assert by_id["done"].batch.status == "completed"
    assert isinstance(by_id["missing"].error, errors.NotFoundError)


def test_one_failure_does_not_stop_the_others(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    for n in range(4):
        fake_batch_api.add_batch(f"b{n}")
    fake_batch_api.inject_errors(3, 500)  # the first cancel's three attempts
    report = batches_client.cancel_many([f"b{n}" for n in range(4)], concurrency=1)
    assert [o.outcome for o in report] == ["failed", "stopped", "stopped", "stopped"]
    first = report.outcomes[0]
    assert isinstance(first.error, errors.InternalServerError)
    assert str(report).splitlines()[1].startswith("  b0: failed: ")


def test_a_cancel_rate_limited_three_times_in_a_row_still_stops(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient
) -> None:
    # One request in twenty rate limited is ~1 in 400 requests meeting three in a row; with the group pausing for each
    # 429, the group's requests retry 429s beyond max_retries (2), so a bulk cancel of 1,000 loses no batch to them.
    for n in range(3):
        fake_batch_api.add_batch(f"b{n}")
    fake_batch_api.inject_errors(GROUP_RATE_LIMIT_RETRIES + 2, 429, {"retry-after-ms": "1"})
    report = batches_client.cancel_many(["b0", "b1", "b2"], concurrency=1)
    assert [o.outcome for o in report] == ["stopped", "stopped", "stopped"]
    fake_batch_api.add_batch("alone")
    fake_batch_api.inject_errors(3, 429, {"retry-after-ms": "1"})
    with pytest.raises(errors.RateLimitError):  # one cancel on its own keeps the SDK's two retries
        batches_client.cancel("alone")


def test_a_group_never_retries_429s_without_end(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    fake_batch_api.add_batch("b0")
    fake_batch_api.inject_errors(GROUP_RATE_LIMIT_RETRIES + 3, 429, {"retry-after-ms": "1"})
    (outcome,) = batches_client.cancel_many(["b0"])
    assert outcome.outcome == "failed"
    assert isinstance(outcome.error, errors.RateLimitError)


def test_a_bulk_cancel_keeps_one_connection_per_worker() -> None:
    # httpx keeps 20 idle connections by default: with more workers than that, the client's own pool closed and
    # reopened connections all along (on the real API, a TLS handshake each).
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            batch_id = self.path.split("/")[-2]
            body = json.dumps({"id": batch_id, "object": "batch", "status": "cancelling"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Counting(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024
        connections = 0

        def process_request(self, request: socket.socket | tuple[bytes, socket.socket], address: object) -> None:
            type(self).connections += 1
            super().process_request(request, address)

    server = Counting(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with BatchesClient("sk-test", base_url=f"http://127.0.0.1:{server.server_address[1]}/v1") as client:
            report = client.cancel_many([f"b{n}" for n in range(640)], concurrency=64)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert report.counts["stopped"] == 640
    assert Counting.connections <= 64  # one per worker, kept alive; was up to 10x that


def test_bad_input_sends_nothing(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    fake_batch_api.add_batch("b1")
    with pytest.raises(ValueError, match=r"batches_or_ids\[1\]"):
        batches_client.cancel_many(["b1", "bad id"])
    with pytest.raises(ValueError, match="on_outcome"):
        batches_client.cancel_many(["b1"], on_outcome="print")  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(TypeError, match="unexpected wait option"):
        batches_client.cancel_many(["b1"], wait=True, deadline=3)  # type: ignore[call-arg]  # the mistake under test
    assert fake_batch_api.requests == []


def test_nothing_to_cancel_is_an_empty_report(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    report = batches_client.cancel_many([])
    assert (len(report), report.ok) == (0, True)
    assert fake_batch_api.requests == []


def test_a_429_pauses_every_worker_until_its_retry_after() -> None:
    # Time stands still (sleeps are recorded, the clock never moves), so the gate stays shut after the 429: every
    # request that starts after it, on any worker, must first have slept the pause. A retry's own backoff is not
    # enough: only the request that met the 429 sleeps that.
    api = FakeBatchAPI()
    for n in range(40):
        api.add_batch(f"b{n:02d}")
    transport = api.transport()
    state = threading.local()
    lock = threading.Lock()
    after_429: list[bool] = []  # per request started after the 429: had its worker slept the pause first?
    limited_seen = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        slept = getattr(state, "slept_pause", False)
        state.slept_pause = False
        if limited_seen.is_set():
            with lock:
                after_429.append(slept)
        response = transport.handle_request(request)
        if response.status_code == 429:
            limited_seen.set()
        return response

    def sleep(seconds: float) -> None:
        if seconds == pytest.approx(5.0):
            state.slept_pause = True

    api.inject_errors(1, 429, {"retry-after-ms": "5000"})
    client = BatchesClient(
        api.api_key, base_url=api.base_url, http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=sleep, clock=lambda: 1000.0,
    )  # fmt: skip
    report = client.cancel_many([f"b{n:02d}" for n in range(40)], concurrency=4)
    assert report.counts["stopped"] == 40
    assert len(after_429) >= 40 - 4  # at most the requests already in flight started before it
    assert all(after_429)


def test_wait_polls_every_stopped_batch_to_the_end(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    seed_mix(fake_batch_api)
    updates: list[tuple[str, str]] = []
    names = ["run0", "run1", "run2", "done", "stopping", "missing"]
    report = batches_client.cancel_many(
        names, wait=True, timeout=60, on_update=lambda b: updates.append((b.id, str(b.status)))
    )
    assert {o.batch_id: (o.outcome, o.batch.status if o.batch else None) for o in report} == {
        "run0": ("stopped", "cancelled"),
        "run1": ("stopped", "cancelled"),
        "run2": ("stopped", "cancelled"),
        "done": ("already_finished", "completed"),
        "stopping": ("stopped", "cancelled"),
        "missing": ("not_found", None),
    }
    assert {batch_id for batch_id, _ in updates} == {"run0", "run1", "run2", "stopping"}
    assert ("run0", "cancelled") in updates


def test_wait_past_its_deadline_fails_the_batches_still_running(fake_clock: FakeClock) -> None:
    api = FakeBatchAPI(clock=fake_clock, cancel_delay=600)
    api.add_batch("slow")
    api.add_batch("done", status="completed")
    client = BatchesClient(
        api.api_key, base_url=api.base_url, http_client=httpx.Client(transport=api.transport()),
        sleep=fake_clock.advance, clock=fake_clock,
    )  # fmt: skip
    report = client.cancel_many(["slow", "done"], wait=True, timeout=30)
    slow, done = report
    assert (slow.outcome, done.outcome) == ("failed", "already_finished")
    assert isinstance(slow.error, errors.WaitTimeoutError)
    assert slow.batch is not None
    assert slow.batch.status == "cancelling"
    assert api.get_batch("slow")["status"] == "cancelling"  # the cancel went through: it is still stopping


def test_a_bug_in_on_outcome_propagates(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    fake_batch_api.add_batch("b1")

    def broken(outcome: CancelOutcome) -> None:
        raise KeyError(outcome.batch_id)

    with pytest.raises(KeyError):
        batches_client.cancel_many(["b1"], on_outcome=broken)


def worker_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("batches-ext-worker-")]


def test_an_interruption_stops_new_cancels_at_once(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    for n in range(200):
        fake_batch_api.add_batch(f"b{n:03d}")
    seen: list[str] = []

    def interrupt(outcome: CancelOutcome) -> None:
        seen.append(outcome.batch_id)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batches_client.cancel_many([f"b{n:03d}" for n in range(200)], concurrency=4, on_outcome=interrupt)
    deadline = time.monotonic() + 10
    while worker_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker_threads() == []
    cancels = [r for r in fake_batch_api.requests if r.method == "POST"]
    assert len(cancels) <= len(seen) + 4  # at most `concurrency` calls ahead of what the caller has seen
    assert sum(b["status"] == "cancelling" for b in fake_batch_api.batches.values()) == len(cancels)


def test_async_cancel_many_matches_the_sync_outcomes(
    fake_batch_api: FakeBatchAPI, async_batches_client: AsyncBatchesClient
) -> None:
    seed_mix(fake_batch_api)
    names = ["run0", "run1", "done", "stopping", "gone_wrong", "missing"]
    report = asyncio.run(async_batches_client.cancel_many(names, concurrency=2))
    assert [o.outcome for o in report] == [
        "stopped", "stopped", "already_finished", "stopped", "already_finished", "not_found",
    ]  # fmt: skip


def test_async_cancel_many_waits_too(fake_batch_api: FakeBatchAPI, async_batches_client: AsyncBatchesClient) -> None:
    seed_mix(fake_batch_api)
    report = asyncio.run(async_batches_client.cancel_many(["run0", "run1"], wait=True, timeout=60))
    assert [(o.outcome, o.batch.status if o.batch else None) for o in report] == [("stopped", "cancelled")] * 2


def test_async_cancel_many_refuses_bad_input_before_sending(
    fake_batch_api: FakeBatchAPI, async_batches_client: AsyncBatchesClient
) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(async_batches_client.cancel_many(["b1"], concurrency=0))
    assert fake_batch_api.requests == []


def test_cancelling_the_task_stops_new_cancels_and_in_flight_ones(fake_clock: FakeClock) -> None:
    api = FakeBatchAPI(clock=fake_clock)
    for n in range(100):
        api.add_batch(f"b{n:03d}")
    sent: list[str] = []

    class Slow(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = api.transport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.url.path)
            await asyncio.sleep(0.01)
            return await self.inner.handle_async_request(request)

    client = AsyncBatchesClient(api.api_key, base_url=api.base_url, http_client=httpx.AsyncClient(transport=Slow()))
    seen: list[CancelOutcome] = []

    async def run() -> None:
        five = asyncio.Event()

        def note(outcome: CancelOutcome) -> None:
            seen.append(outcome)
            if len(seen) == 5:
                five.set()

        task = asyncio.ensure_future(client.cancel_many([f"b{n:03d}" for n in range(100)], on_outcome=note))
        await five.wait()
        task.cancel()
        told = len(seen)
        with pytest.raises(asyncio.CancelledError):
            await task
        count = len(sent)
        await asyncio.sleep(0.05)
        assert len(sent) == count  # nothing more started, nothing left running
        assert count <= told + 8  # at most `concurrency` calls ahead of what the caller had been told

    asyncio.run(run())
