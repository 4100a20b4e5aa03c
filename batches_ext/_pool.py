"""`ShardedAsyncTransport`: the async client's default transport, several small connection pools instead of one.

Profiled at 64 concurrent requests (BENCHMARKS.md), half of the async client's CPU went to httpcore's pool
re-scanning every open connection on each request and response. Spreading requests over small pools, the least
loaded first, makes each scan short: about 2.6x the throughput of one pool of 100. Shards are opened only when
all open ones are busy, share one SSL context, and together never exceed httpx's default of 100 connections.

A request never waits while a connection has room: it takes a free slot, else opens a shard. When every slot of
every shard is taken, it queues here, not in any one shard, and the first slot freed anywhere is handed to the
longest waiting request (first come, first served, as in httpcore's own pool). Queueing it in a fixed shard made it
wait out whatever that shard's connection was doing, a slow response included, while others were idle.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

import httpx

__all__ = ["ShardedAsyncTransport"]

SHARDS = 100
CONNECTIONS_PER_SHARD = 1  # 100 x 1 = httpx's default max_connections; measured: 1 or 2 per shard beat 4 or 8


class ShardedAsyncTransport(httpx.AsyncBaseTransport):
    """An async transport that spreads requests over up to `shards` pools of `per_shard` connections."""

    def __init__(self, *, shards: int = SHARDS, per_shard: int = CONNECTIONS_PER_SHARD) -> None:
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._per_shard = per_shard
        self._max_shards = shards
        self._ssl_context = httpx.create_ssl_context()  # one context for all shards: each costs milliseconds
        self._pools: list[httpx.AsyncHTTPTransport] = []
        self._load: list[int] = []
        self._with_room: list[int] = []  # shards below per_shard, most recently freed last: O(1) to pick
        self._waiting: deque[asyncio.Future[int]] = deque()  # requests for which no slot was free, oldest first

    def _take_slot(self) -> int | None:
        """Take a slot on a shard with room (the warmest), else on a new shard; None when every slot is taken."""
        if self._with_room:
            shard = self._with_room[-1]
        elif len(self._pools) < self._max_shards:
            self._pools.append(httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=self._limits))
            self._load.append(0)
            shard = len(self._pools) - 1
            self._with_room.append(shard)
        else:
            return None
        self._load[shard] += 1
        if self._load[shard] == self._per_shard:
            self._with_room.pop()  # it was the last element: taken from there or just appended
        return shard

    async def _wait_for_slot(self) -> int:
        """Every slot is taken: wait for `_release` to hand over the first one freed, whichever shard it is on."""
        handover: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append(handover)
        try:
            return await handover
        except BaseException:  # cancelled while waiting, or just after a slot was handed over
            if handover.done() and not handover.cancelled():
                self._release(handover.result())  # the slot goes on to the next in line
            elif handover in self._waiting:
                self._waiting.remove(handover)
            raise

    def _release(self, shard: int) -> None:
        """Give a slot back: to the longest waiting request (the shard's load unchanged), else to the shard."""
        while self._waiting:
            handover = self._waiting.popleft()
            if not handover.done():  # a cancelled one may still be queued until its task runs
                handover.set_result(shard)
                return
        self._load[shard] -= 1
        if self._load[shard] == self._per_shard - 1:
            self._with_room.append(shard)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through a slot with room (waiting for one if none); it is freed when the response closes."""
        shard = self._take_slot()  # not a coroutine: the common case costs no await
        if shard is None:
            shard = await self._wait_for_slot()
        try:
            response = await self._pools[shard].handle_async_request(request)
        except BaseException:  # cancellation included: the slot must come back
            self._release(shard)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)  # noqa: S101 - httpx's own transport contract
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_SlotReleasingStream(response.stream, self, shard),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close every shard's connections."""
        for pool in self._pools:
            await pool.aclose()


class _SlotReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its shard's slot back, once, when closed."""

    def __init__(self, stream: httpx.AsyncByteStream, transport: ShardedAsyncTransport, shard: int) -> None:
        self._stream = stream
        self._transport = transport
        self._shard = shard
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if not self._released:
                self._released = True
                self._transport._release(self._shard)
