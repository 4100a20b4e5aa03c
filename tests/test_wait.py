"""wait / cancel_and_wait: polling a batch through `cancelling` to `cancelled` on a fake clock (no real sleeps)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, errors
from batches_ext._waiting import poll_after_seconds
from tests.conftest import API_KEY, error
from tests.payloads import CANCELLING, SEED_COMPLETED, batch


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Lifecycle:
    """A batch that is `in_progress`, moves to `cancelling` when cancelled, and to `cancelled` after N more polls."""

    def __init__(
        self, polls_until_cancelled: int = 3, *, status: str = "in_progress", headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.polls_left = polls_until_cancelled
        self.completed = 10
        self.headers = headers or {}
        self.requests: list[httpx.Request] = []
        self.faults: list[httpx.Response | Exception] = []

    def payload(self) -> dict[str, Any]:
        return batch(
            CANCELLING, status=self.status, request_counts={"total": 100, "completed": self.completed, "failed": 1}
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return fault
        if request.method == "POST":
            if self.status not in ("validating", "in_progress", "finalizing"):
                return error(400, f"Cannot cancel a batch with status '{self.status}'.")
            self.status = "cancelling"
        elif self.status == "cancelling":
            self.polls_left -= 1
            self.completed += 1  # counts move while cancelling
            if self.polls_left <= 0:
                self.status = "cancelled"
        return httpx.Response(200, json=self.payload(), headers=self.headers)

    @property
    def polls(self) -> int:
        return sum(r.method == "GET" for r in self.requests)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


class Twin:
    """Runs the sync or async client's method to completion, whichever the test is parametrized with."""

    def __init__(self, kind: str, handler: Lifecycle, fake_time: FakeTime, **options: Any) -> None:
        options.setdefault("api_key", API_KEY)
        if kind == "sync":
            self.client: Any = BatchesClient(
                http_client=httpx.Client(transport=httpx.MockTransport(handler)),
                sleep=fake_time.sleep, clock=fake_time.clock, **options,
            )  # fmt: skip
        else:
            self.client = AsyncBatchesClient(
                http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                sleep=fake_time.async_sleep, clock=fake_time.clock, **options,
            )  # fmt: skip
        self.kind = kind

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if self.kind == "sync":
            return method
        return lambda *args, **kwargs: asyncio.run(method(*args, **kwargs))


def test_cancel_and_wait_walks_the_lifecycle(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=3)
    updates: list[tuple[str, int]] = []

    def on_update(b: Batch) -> None:
        assert b.request_counts is not None
        updates.append((str(b.status), b.request_counts.completed))

    final = Twin(kind, server, fake_time).cancel_and_wait("batch_abc123", on_update=on_update)
    assert final.status == "cancelled"
    assert server.polls == 3
    assert [r.method for r in server.requests] == ["POST", "GET", "GET", "GET"]
    # each change seen once: two polls while cancelling (counts moving), then the terminal one
    assert updates == [("cancelling", 11), ("cancelling", 12), ("cancelled", 13)]
    assert fake_time.sleeps == [1.0, 1.5]  # starts short, backs off


def test_on_update_only_on_change(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=6, status="cancelling")
    server.completed = 50

    def frozen_counts(request: httpx.Request) -> httpx.Response:
        response = Lifecycle.__call__(server, request)
        server.completed = 50  # nothing moves until the end
        return response

    updates: list[str] = []
    Twin(kind, frozen_counts, fake_time).wait("b1", on_update=lambda b: updates.append(str(b.status)))  # type: ignore[arg-type]
    assert server.polls == 6
    assert updates == ["cancelling", "cancelled"]


def test_interval_backs_off_to_a_ceiling(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=12, status="cancelling")
    Twin(kind, server, fake_time).wait("b1")
    assert fake_time.sleeps[:4] == [1.0, 1.5, 2.25, 3.375]
    assert max(fake_time.sleeps) == 10.0
    assert len(fake_time.sleeps) == 11


def test_fixed_poll_interval(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=4, status="cancelling")
    Twin(kind, server, fake_time).wait("b1", poll_interval=2.5)
    assert fake_time.sleeps == [2.5, 2.5, 2.5]


def test_poll_after_header_wins(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=3, status="cancelling", headers={"openai-poll-after-ms": "4200"})
    Twin(kind, server, fake_time).wait("b1", poll_interval=1.0)
    assert fake_time.sleeps == [4.2, 4.2]


def test_timeout_raises_with_the_last_batch(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=10**6, status="cancelling")
    with pytest.raises(errors.WaitTimeoutError, match="did not reach a terminal status") as info:
        Twin(kind, server, fake_time).wait("b1", timeout=30.0)
    assert info.value.batch is not None
    assert info.value.batch.status == "cancelling"
    assert sum(fake_time.sleeps) == pytest.approx(30.0)  # never sleeps past the deadline
    assert fake_time.now == pytest.approx(1030.0)


def test_transient_errors_during_polling_do_not_end_the_wait(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=2, status="cancelling")
    # 3 x 500 exhaust one poll's retries (max_retries=2); then a dropped connection; then it carries on.
    server.faults = [error(500), error(502), error(503), httpx.ConnectError("reset")]
    final = Twin(kind, server, fake_time).wait("b1")
    assert final.status == "cancelled"
    assert len(server.requests) == 4 + 2


def test_permanent_errors_end_the_wait(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(status="cancelling")
    server.faults = [error(404, "No batch found with id 'b1'.")]
    with pytest.raises(errors.NotFoundError):
        Twin(kind, server, fake_time).wait("b1")


@pytest.mark.parametrize("status", ["cancelling", "cancelled"])
def test_cancel_and_wait_when_already_cancelling_or_cancelled(kind: str, fake_time: FakeTime, status: str) -> None:
    server = Lifecycle(polls_until_cancelled=2, status=status)
    final = Twin(kind, server, fake_time).cancel_and_wait("b1")
    assert final.status == "cancelled"


@pytest.mark.parametrize("status", ["completed", "failed", "expired"])
def test_cancel_and_wait_on_a_finished_batch_returns_it(kind: str, fake_time: FakeTime, status: str) -> None:
    server = Lifecycle(status=status)
    final = Twin(kind, server, fake_time).cancel_and_wait("b1")
    assert final.status == status
    assert [r.method for r in server.requests] == ["POST", "GET"]
    assert fake_time.sleeps == []


def test_cancel_and_wait_reraises_a_real_bad_request(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(status="in_progress")
    server.faults = [error(400, "Invalid request")]
    with pytest.raises(errors.BadRequestError, match="Invalid request"):
        Twin(kind, server, fake_time).cancel_and_wait("b1")


def test_cancel_and_wait_when_cancel_answers_terminal(kind: str, fake_time: FakeTime) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=SEED_COMPLETED)

    final = Twin(kind, handler, fake_time).cancel_and_wait("b1")  # type: ignore[arg-type]
    assert final.status == "completed"


@pytest.mark.parametrize(
    ("option", "value"), [("timeout", 0), ("timeout", -1.0), ("timeout", float("inf")), ("poll_interval", 0)]
)
def test_bad_wait_arguments(kind: str, fake_time: FakeTime, option: str, value: float) -> None:
    server = Lifecycle(status="cancelling")
    with pytest.raises(ValueError, match=option):
        Twin(kind, server, fake_time).wait("b1", **{option: value})
    assert server.requests == []


def test_keyboard_interrupt_during_a_wait_propagates_and_leaves_no_thread() -> None:
    import threading

    server = Lifecycle(polls_until_cancelled=100, status="cancelling")
    threads_before = threading.active_count()

    def interrupted_sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    http = httpx.Client(transport=httpx.MockTransport(server))
    with (
        BatchesClient(api_key=API_KEY, http_client=http, sleep=interrupted_sleep) as client,
        pytest.raises(KeyboardInterrupt),
    ):
        client.wait("b1")
    assert server.polls == 1
    assert threading.active_count() == threads_before


def test_task_cancellation_during_an_async_wait() -> None:
    server = Lifecycle(polls_until_cancelled=10**6, status="cancelling")

    async def scenario() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server))
        client = AsyncBatchesClient(api_key=API_KEY, http_client=http, sleep=lambda s: asyncio.sleep(0.001))
        task = asyncio.create_task(client.wait("b1"))
        while server.polls < 3:  # noqa: ASYNC110 - polling a plain counter the handler bumps
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await http.aclose()
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("hint_ms", "expected_s"), [("0", 0.1), ("1", 0.1), ("-5", None), ("4200", 4.2), ("1e9", 60.0)]
)
def test_poll_after_hint_has_a_floor_and_a_cap(hint_ms: str, expected_s: float | None) -> None:
    assert poll_after_seconds(hint_ms) == expected_s


def test_a_zero_poll_after_hint_does_not_make_the_wait_spin(kind: str, fake_time: FakeTime) -> None:
    server = Lifecycle(polls_until_cancelled=3, status="cancelling", headers={"openai-poll-after-ms": "0"})
    Twin(kind, server, fake_time).wait("b1")
    assert fake_time.sleeps == [0.1, 0.1]
