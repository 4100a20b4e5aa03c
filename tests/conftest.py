"""Shared fixtures: scripted transports and clients wired to them, with sleeps recorded instead of slept."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, BatchesClient
from batches_ext.testing import FakeBatchAPI, FakeClock
from tests.payloads import CANCELLING

API_KEY = "sk-test-0123456789abcdefSECRET"

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """An httpx handler that answers each request with the next scripted step and records the requests.

    A request beyond the script fails the test loudly (an AssertionError, which no retry rule retries).
    """

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request: {request.method} {request.url}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step


def ok(payload: dict[str, Any] = CANCELLING, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=payload, headers={"x-request-id": "req_ok", **headers})


def error(status: int, message: str = "boom", **headers: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    return httpx.Response(status, json=body, headers={"x-request-id": f"req_{status}", **headers})


class Sleeps(list[float]):
    """Records requested sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sleeps: Sleeps) -> Iterator[Callable[..., BatchesClient]]:
    clients: list[BatchesClient] = []

    def make(script: Script, **options: Any) -> BatchesClient:
        options.setdefault("api_key", API_KEY)
        http = httpx.Client(transport=httpx.MockTransport(script))
        client = BatchesClient(http_client=http, sleep=sleeps, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client._http_client().close()


@pytest.fixture
def make_async_client(sleeps: Sleeps) -> Callable[..., AsyncBatchesClient]:
    def make(script: Script, **options: Any) -> AsyncBatchesClient:
        options.setdefault("api_key", API_KEY)
        http = httpx.AsyncClient(transport=httpx.MockTransport(script))
        return AsyncBatchesClient(http_client=http, sleep=sleeps.async_sleep, **options)

    return make


def cli_environment(monkeypatch: pytest.MonkeyPatch, api_key: str) -> None:
    """The environment a CLI test runs in: `api_key` as OPENAI_API_KEY; no base URL, organization or project."""
    for name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", api_key)


class SyncView:
    """Runs an AsyncBatchesClient's coroutines (and async generators) to completion, so one test covers both twins."""

    def __init__(self, client: AsyncBatchesClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            async def run() -> Any:
                result = method(*args, **kwargs)
                if hasattr(result, "__aiter__"):
                    return [item async for item in result]
                return await result

            return asyncio.run(run())

        return call


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, make_client: Any, make_async_client: Any) -> Callable[..., Any]:
    """`twin(script, **options)`: a client of the parametrized kind on a scripted transport, called synchronously."""
    if request.param == "sync":
        return make_client
    return lambda script, **options: SyncView(make_async_client(script, **options))


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which twin a test drives: "sync" or "async"."""
    return str(request.param)


def fake_client(api: FakeBatchAPI, **options: Any) -> BatchesClient:
    """A BatchesClient wired to the in-process fake `api`; it does not sleep unless given a `sleep`."""
    options.setdefault("sleep", lambda seconds: None)
    return BatchesClient(
        api.api_key, base_url=api.base_url, http_client=httpx.Client(transport=api.transport()), **options
    )


def call_on_fake(kind: str, api: FakeBatchAPI, method: str, *args: Any, max_retries: int = 2, **options: Any) -> Any:
    """`method(*args, **options)` on a client of `kind` wired to `api`, closed afterwards; its sleeps move a FakeClock.

    An iterator's items are collected into a list, so both twins answer alike.
    """
    clock = FakeClock()
    if kind == "sync":
        with fake_client(api, max_retries=max_retries, sleep=clock.advance) as client:
            result = getattr(client, method)(*args, **options)
            return list(result) if isinstance(result, Iterator) else result

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    async def run() -> Any:
        http = httpx.AsyncClient(transport=api.transport())
        async with AsyncBatchesClient(
            api.api_key, base_url=api.base_url, http_client=http, max_retries=max_retries, sleep=sleep
        ) as client:
            result = getattr(client, method)(*args, **options)
            if hasattr(result, "__aiter__"):
                return [item async for item in result]
            return await result

    return asyncio.run(run())


class PeakMemory:
    """`with PeakMemory() as memory:` traces allocations in the block; `memory.peak`: the most bytes held at once."""

    peak = 0

    def __enter__(self) -> PeakMemory:
        tracemalloc.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            _, self.peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()


def streaming_client(stream: httpx.SyncByteStream) -> BatchesClient:
    """A BatchesClient whose every request is answered 200 with `stream` as the body."""
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, stream=stream)))
    return BatchesClient(api_key=API_KEY, http_client=http)
