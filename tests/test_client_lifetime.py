"""A client's own httpx client: built once however many threads use the client first; nothing opens after close."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from openai_batches_client.client import Client as GeneratedClient

from batches_ext import AsyncBatchesClient, BatchesClient, errors
from batches_ext.testing import FakeBatchAPI, FakeServer

THREADS = 8


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every httpx client the generated client is asked to build, each build as slow as a cold SSL context."""
    built: list[Any] = []

    def build(self: GeneratedClient) -> httpx.Client:
        time.sleep(0.05)  # a thread arriving meanwhile finds no client yet and, unguarded, builds its own
        http = httpx.Client(base_url=self._base_url)
        built.append(http)
        return http

    async_build = GeneratedClient.get_async_httpx_client

    def counted_async_build(self: GeneratedClient) -> httpx.AsyncClient:
        http = async_build(self)
        built.append(http)
        return http

    monkeypatch.setattr(GeneratedClient, "get_httpx_client", build)
    monkeypatch.setattr(GeneratedClient, "get_async_httpx_client", counted_async_build)
    return built


def test_first_use_from_many_threads_builds_one_http_client_and_close_closes_it(
    fake_batch_server: FakeServer, builds: list[Any]
) -> None:
    api = fake_batch_server.api
    api.add_batch("batch_1")
    client = BatchesClient(api.api_key, base_url=fake_batch_server.base_url)
    start = threading.Barrier(THREADS)
    statuses: list[str] = []

    def first_use() -> None:
        start.wait(5)
        statuses.append(str(client.retrieve("batch_1").status))

    threads = [threading.Thread(target=first_use) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    client.close()
    assert len(statuses) == THREADS
    assert len(builds) == 1
    assert all(http.is_closed for http in builds)


@pytest.mark.parametrize("used_before", [True, False], ids=["used", "never-used"])
def test_a_closed_client_refuses_every_call_and_opens_nothing(
    fake_batch_server: FakeServer, builds: list[Any], used_before: bool
) -> None:
    api = fake_batch_server.api
    api.add_batch("batch_1", status="in_progress")
    client = BatchesClient(api.api_key, base_url=fake_batch_server.base_url, max_retries=0)
    if used_before:
        client.retrieve("batch_1")
    client.close()
    sent = len(api.requests)
    for call in (lambda: client.retrieve("batch_1"), lambda: client.cancel("batch_1"), lambda: list(client.list())):
        with pytest.raises(errors.ClientClosedError, match="BatchesClient is closed"):
            call()
    assert len(api.requests) == sent
    assert len(builds) == int(used_before)
    assert all(http.is_closed for http in builds)
    client.close()  # twice is harmless
    with pytest.raises(RuntimeError):  # what httpx raises for its own closed client, for code that catches that
        client.retrieve("batch_1")


def test_a_closed_async_client_refuses_calls_and_opens_nothing(
    fake_batch_server: FakeServer, builds: list[Any]
) -> None:
    api = fake_batch_server.api
    api.add_batch("batch_1", status="in_progress")

    async def scenario() -> None:
        async with AsyncBatchesClient(api.api_key, base_url=fake_batch_server.base_url) as client:
            await asyncio.gather(*(client.retrieve("batch_1") for _ in range(THREADS)))
        sent = len(api.requests)
        with pytest.raises(errors.ClientClosedError, match="AsyncBatchesClient is closed"):
            await client.cancel("batch_1")
        assert len(api.requests) == sent

    asyncio.run(scenario())
    assert len(builds) == 1
    assert builds[0].is_closed


def test_closing_a_client_on_your_http_client_leaves_it_open_but_the_client_refuses_calls() -> None:
    api = FakeBatchAPI()
    api.add_batch("batch_1")
    with httpx.Client(transport=api.transport()) as http:
        client = BatchesClient(api.api_key, base_url=api.base_url, http_client=http)
        client.retrieve("batch_1")
        client.close()
        assert not http.is_closed
        with pytest.raises(errors.ClientClosedError):
            client.retrieve("batch_1")
        assert len(api.requests) == 1
