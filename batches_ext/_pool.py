"""`ShardedAsyncTransport`: the async client's default transport, several small connection pools instead of one.

Profiled at 64 concurrent requests (BENCHMARKS.md), half of the async client's CPU went to httpcore's pool
re-scanning every open connection on each request and response. Spreading requests over small pools, the least
loaded first, makes each scan short: about 3x the throughput of one pool of 100. Shards are opened only when all
open ones are busy, share one SSL context, and together never exceed httpx's default of 100 connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

__all__ = ["ShardedAsyncTransport"]

SHARDS = 25
CONNECTIONS_PER_SHARD = 4  # 25 x 4 = httpx's default max_connections (100)


class ShardedAsyncTransport(httpx.AsyncBaseTransport):
    """An async transport that spreads requests over up to `shards` pools of `per_shard` connections."""

    def __init__(self, *, shards: int = SHARDS, per_shard: int = CONNECTIONS_PER_SHARD) -> None:
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._per_shard = per_shard
        self._max_shards = shards
        self._ssl_context = httpx.create_ssl_context()  # one context for all shards: each costs milliseconds
        self._pools: list[httpx.AsyncHTTPTransport] = []
        self._load: list[int] = []

    def _pick(self) -> int:
        """The least loaded shard, opening a new one when all are full and the cap allows."""
        if self._load:
            shard = min(range(len(self._load)), key=self._load.__getitem__)
            if self._load[shard] < self._per_shard or len(self._pools) >= self._max_shards:
                return shard
        self._pools.append(httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=self._limits))
        self._load.append(0)
        return len(self._pools) - 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the least loaded shard; the slot is freed when the response is closed."""
        shard = self._pick()
        self._load[shard] += 1
        try:
            response = await self._pools[shard].handle_async_request(request)
        except BaseException:  # cancellation included: the slot must come back
            self._load[shard] -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)  # noqa: S101 - httpx's own transport contract
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_SlotReleasingStream(response.stream, self._load, shard),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close every shard's connections."""
        for pool in self._pools:
            await pool.aclose()


class _SlotReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its shard's slot back, once, when closed."""

    def __init__(self, stream: httpx.AsyncByteStream, load: list[int], shard: int) -> None:
        self._stream = stream
        self._load = load
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
                self._load[self._shard] -= 1
