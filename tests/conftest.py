"""Shared fixtures: scripted transports and clients wired to them, with sleeps recorded instead of slept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, BatchesClient
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
