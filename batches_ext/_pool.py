"""`ShardedAsyncTransport`: the async client's default transport, several small connection pools instead of one.

Profiled at 64 concurrent requests (BENCHMARKS.md), half of the async client's CPU went to httpcore's pool
re-scanning every open connection on each request and response. Spreading requests over small pools, the least
loaded first, makes each scan short: about 2.6x the throughput of one pool of 100. Shards are opened only when
all open ones are busy, share one SSL context, and together never exceed httpx's default of 100 connections.
"""

from __future__ import annotations

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

    def _acquire(self) -> int:
        """Take a slot: on a shard with room (the warmest), else a new shard, else the least loaded one."""
        if self._with_room:
            shard = self._with_room[-1]
        elif len(self._pools) < self._max_shards:
            self._pools.append(httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=self._limits))
            self._load.append(0)
            shard = len(self._pools) - 1
            self._with_room.append(shard)
        else:  # every connection busy: the request queues in the least loaded pool
            shard = min(range(len(self._load)), key=self._load.__getitem__)
        self._load[shard] += 1
        if self._load[shard] == self._per_shard:
            self._with_room.pop()  # it was the last element: taken from there or just appended
        return shard

    def _release(self, shard: int) -> None:
        self._load[shard] -= 1
        if self._load[shard] == self._per_shard - 1:
            self._with_room.append(shard)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through a shard with room; the slot is freed when the response is closed."""
        shard = self._acquire()
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
