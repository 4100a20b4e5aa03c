"""`FakeTransport`: serves a `FakeBatchAPI` to httpx in-process, with faults turned into httpx's own exceptions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from batches_ext.testing._clock import FakeClock
from batches_ext.testing._wire import FileBody

if TYPE_CHECKING:
    from batches_ext.testing._app import FakeBatchAPI
    from batches_ext.testing._faults import Fault

__all__ = ["FakeTransport"]


class FakeTransport(httpx.MockTransport):
    """An `httpx.MockTransport` answering from a `FakeBatchAPI`; works for sync and async clients.

    A slow fault advances the fake's `FakeClock` (no real waiting) or, with a real clock, sleeps. When the delay
    exceeds the request's read timeout the transport waits only that long and raises `httpx.ReadTimeout`, as a
    socket would. A dropped connection raises `httpx.RemoteProtocolError`, what httpx raises when a server closes
    the connection without answering.
    """

    def __init__(self, api: FakeBatchAPI) -> None:
        super().__init__(self._handle)
        self._api = api

    def _handle(self, request: httpx.Request) -> httpx.Response:
        fault = self._receive(request)
        if fault is not None and fault.kind == "slow":
            wait, timed_out = _wait_for(fault, request)
            if isinstance(self._api.clock, FakeClock):
                self._api.clock.advance(wait)
            else:
                time.sleep(wait)
            if timed_out:
                raise httpx.ReadTimeout("timed out (injected slow response)", request=request)
        return self._respond(request, fault)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Like the sync path, but a real-clock delay awaits instead of blocking the event loop."""
        await request.aread()
        fault = self._receive(request)
        if fault is not None and fault.kind == "slow":
            wait, timed_out = _wait_for(fault, request)
            if isinstance(self._api.clock, FakeClock):
                self._api.clock.advance(wait)
            else:
                import asyncio  # noqa: PLC0415 - only a real-clock delay needs it; asyncio costs 10 ms to import

                await asyncio.sleep(wait)
            if timed_out:
                raise httpx.ReadTimeout("timed out (injected slow response)", request=request)
        return self._respond(request, fault)

    def _receive(self, request: httpx.Request) -> Fault | None:
        fault = self._api.receive(request.method, request.url.raw_path.decode("ascii"), request.headers)
        if fault is not None and fault.kind == "drop":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return fault

    def _respond(self, request: httpx.Request, fault: Fault | None) -> httpx.Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        path = request.url.raw_path.decode("ascii")
        reply = self._api.respond(request.method, path, headers, fault, request.content)
        if isinstance(reply.body, FileBody):
            headers = {**reply.headers, "content-length": str(len(reply.body))}
            return httpx.Response(reply.status, headers=headers, stream=_FileStream(reply.body), request=request)
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)

    def __repr__(self) -> str:
        return f"FakeTransport({self._api!r})"


class _FileStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A file body in pieces, for sync and async clients; a cut one raises what httpx raises for a short body."""

    def __init__(self, body: FileBody) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield from self._body.pieces()
        self._check_cut()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._body.pieces():
            yield piece
        self._check_cut()

    def _check_cut(self) -> None:
        body = self._body
        if body.sent < len(body):
            raise httpx.RemoteProtocolError(
                f"peer closed connection without sending complete message body (received {body.sent} bytes, "
                f"expected {len(body)})"
            )


def _wait_for(fault: Fault, request: httpx.Request) -> tuple[float, bool]:
    """How long a slow fault keeps this request waiting, and whether its read timeout fires first."""
    timeouts = request.extensions.get("timeout") or {}
    read = timeouts.get("read")
    if read is not None and fault.seconds > read:
        return float(read), True
    return fault.seconds, False
