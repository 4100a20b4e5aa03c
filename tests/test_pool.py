"""The async client's sharded transport: correct under concurrency, lazy shards, slots always returned."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient
from batches_ext._pool import ShardedAsyncTransport
from tests.conftest import API_KEY
from tests.local_server import json_reply, serve
from tests.payloads import CANCELLING


def test_concurrent_cancels_all_succeed_and_release_their_slots() -> None:
    connections: set[int] = set()
    lock = threading.Lock()

    def reply(method: str, path: str, headers: dict[str, str]) -> Any:
        with lock:
            connections.add(threading.get_ident())  # one handler thread per connection
        return json_reply(200, CANCELLING)

    async def scenario(base_url: str) -> list[str]:
        async with AsyncBatchesClient(api_key=API_KEY, base_url=base_url) as client:
            transport = client._http_client()._transport
            assert isinstance(transport, ShardedAsyncTransport)
            semaphore = asyncio.Semaphore(32)

            async def one(n: int) -> str:
                async with semaphore:
                    return str((await client.cancel(f"batch_{n}")).status)

            statuses = await asyncio.gather(*(one(n) for n in range(300)))
            assert transport._load == [0] * len(transport._load)
            assert 1 <= len(transport._pools) <= 32  # at most one pool per concurrent request
            return statuses

    with serve(reply) as base_url:
        statuses = asyncio.run(scenario(base_url))
    assert statuses == ["cancelling"] * 300
    assert len(connections) <= 32


def test_shards_open_only_when_the_open_ones_are_busy() -> None:
    async def scenario(base_url: str) -> int:
        async with AsyncBatchesClient(api_key=API_KEY, base_url=base_url) as client:
            for n in range(20):
                await client.cancel(f"b{n}")
            transport = client._http_client()._transport
            assert isinstance(transport, ShardedAsyncTransport)
            return len(transport._pools)

    with serve(lambda *_: json_reply(200, CANCELLING)) as base_url:
        assert asyncio.run(scenario(base_url)) == 1  # sequential requests never need a second pool


def test_a_cancelled_request_gives_its_slot_back() -> None:
    release = threading.Event()

    def slow_reply(method: str, path: str, headers: dict[str, str]) -> Any:
        release.wait(5)
        return json_reply(200, CANCELLING)

    async def scenario(base_url: str) -> list[int]:
        transport = ShardedAsyncTransport()
        async with httpx.AsyncClient(transport=transport) as http:
            task = asyncio.create_task(http.post(f"{base_url}/batches/b1/cancel"))
            while not transport._load or transport._load[0] == 0:  # noqa: ASYNC110 - waiting for the send to start
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            release.set()
            return list(transport._load)

    with serve(slow_reply) as base_url:
        assert asyncio.run(scenario(base_url)) == [0]


def test_closing_a_response_twice_releases_once() -> None:
    async def scenario(base_url: str) -> list[int]:
        transport = ShardedAsyncTransport(shards=2, per_shard=1)
        async with httpx.AsyncClient(transport=transport) as http:
            response = await http.post(f"{base_url}/batches/b1/cancel")
            await response.aclose()
            await response.aclose()
            return list(transport._load)

    with serve(lambda *_: json_reply(200, CANCELLING)) as base_url:
        assert asyncio.run(scenario(base_url)) == [0]


def test_beyond_capacity_requests_queue_and_every_slot_comes_back() -> None:
    async def scenario(base_url: str) -> tuple[list[int], list[int], int]:
        transport = ShardedAsyncTransport(shards=2, per_shard=2)
        async with httpx.AsyncClient(transport=transport) as http:
            responses = await asyncio.gather(*(http.post(f"{base_url}/batches/b{n}/cancel") for n in range(12)))
            assert [r.status_code for r in responses] == [200] * 12
            return list(transport._load), sorted(transport._with_room), len(transport._pools)

    with serve(lambda *_: json_reply(200, CANCELLING)) as base_url:
        load, with_room, pools = asyncio.run(scenario(base_url))
    assert (load, with_room, pools) == ([0, 0], [0, 1], 2)


def test_a_queued_request_takes_the_first_slot_freed_not_one_behind_a_slow_response() -> None:
    held = {"/v1/batches/slow/cancel": threading.Event(), "/v1/batches/brief/cancel": threading.Event()}

    def reply(method: str, path: str, headers: dict[str, str]) -> Any:
        if path in held:
            held[path].wait(10)
        return json_reply(200, CANCELLING)

    async def scenario(base_url: str) -> None:
        transport = ShardedAsyncTransport(shards=2, per_shard=1)
        async with httpx.AsyncClient(transport=transport) as http:
            slow = asyncio.create_task(http.post(f"{base_url}/batches/slow/cancel"))
            brief = asyncio.create_task(http.post(f"{base_url}/batches/brief/cancel"))
            while transport._load != [1, 1]:  # noqa: ASYNC110 - waiting for both sends to take their slots
                await asyncio.sleep(0.005)
            queued = asyncio.create_task(http.post(f"{base_url}/batches/queued/cancel"))
            held["/v1/batches/brief/cancel"].set()
            try:
                # The slow shard stays busy: the queued request must go out on the brief one's freed connection.
                assert (await asyncio.wait_for(queued, 3)).status_code == 200
            finally:
                held["/v1/batches/slow/cancel"].set()
            assert (await slow).status_code == (await brief).status_code == 200
            assert transport._load == [0, 0]

    with serve(reply) as base_url:
        asyncio.run(scenario(base_url))


def test_fast_requests_never_wait_for_a_slow_one_when_more_than_every_connection_is_in_flight() -> None:
    slow_release = threading.Event()

    def reply(method: str, path: str, headers: dict[str, str]) -> Any:
        if "slow" in path:
            slow_release.wait(20)
        return json_reply(200, CANCELLING)

    async def scenario(base_url: str) -> None:
        async with AsyncBatchesClient(api_key=API_KEY, base_url=base_url, max_retries=0) as client:
            transport = client._http_client()._transport
            assert isinstance(transport, ShardedAsyncTransport)
            slow = asyncio.create_task(client.cancel("batch_slow"))
            while not transport._load:  # noqa: ASYNC110 - waiting for the slow send to take a slot
                await asyncio.sleep(0.005)
            try:
                # 150 beside the slow one: 100 connections in all, so 51 queue; none may queue behind the slow one.
                fast = asyncio.gather(*(client.cancel(f"batch_{n}") for n in range(150)))
                assert len(await asyncio.wait_for(fast, 15)) == 150
                assert not slow.done()
            finally:
                slow_release.set()
            await slow
            assert transport._load == [0] * 100

    with serve(reply) as base_url:
        asyncio.run(scenario(base_url))


def test_a_request_cancelled_while_queued_leaves_the_queue_and_the_slot_goes_to_the_next() -> None:
    async def scenario() -> None:
        transport = ShardedAsyncTransport(shards=1, per_shard=1)
        assert transport._take_slot() == 0
        assert transport._take_slot() is None
        first, second = asyncio.create_task(transport._wait_for_slot()), asyncio.create_task(transport._wait_for_slot())
        await asyncio.sleep(0)
        assert len(transport._waiting) == 2
        first.cancel()
        transport._release(0)  # the cancelled one is skipped
        assert await second == 0
        assert first.cancelled()
        assert not transport._waiting
        assert transport._load == [1]
        # Handed a slot just as it is cancelled: the slot is not lost, it goes back.
        third = asyncio.create_task(transport._wait_for_slot())
        await asyncio.sleep(0)
        transport._release(0)
        third.cancel()
        with pytest.raises(asyncio.CancelledError):
            await third
        assert (transport._load, transport._with_room, len(transport._waiting)) == ([0], [0], 0)
        await transport.aclose()

    asyncio.run(scenario())
