"""The benchmark's server: a minimal HTTP/1.1 keep-alive server that answers every request with one canned Batch.

It ignores the method and path (so cancel and retrieve cost the same) and does as little as it can per request, so
that the clients' own cost dominates what the benchmark measures. `GET .../content` streams a generated JSONL
results file instead, for the results-iteration memory benchmark. With `--slow-seconds S`, a request whose path
holds `slow` (`POST .../batches/batch_slow/cancel`) is answered after S seconds (`devtools.bench.slow_neighbour`).

Run as `python -m devtools.bench.server [--results-bytes N] [--slow-seconds S]`: it prints its port on the first line
of stdout and serves until stdin closes (so it never outlives the benchmark that started it) or it is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
from collections.abc import Iterator
from typing import Any, Final

from tests.payloads import CANCELLING, batch

MAX_HEADER_BYTES: Final = 64 * 1024  # a request head larger than this is not one of our clients: drop it
STREAM_CHUNK_BYTES: Final = 256 * 1024

# The cancel response of a batch created after 2025-09 (with `model` and `usage`), pretty-printed with two spaces
# as the API sends it: 922 bytes, in line with ANCHORS.md's 907-byte payload.
BATCH_PAYLOAD: Final[dict[str, Any]] = batch(
    CANCELLING,
    model="gpt-5-2025-08-07",
    usage={
        "input_tokens": 1500,
        "input_tokens_details": {"cached_tokens": 1024},
        "output_tokens": 500,
        "output_tokens_details": {"reasoning_tokens": 300},
        "total_tokens": 2000,
    },
)
BATCH_BODY: Final = json.dumps(BATCH_PAYLOAD, indent=2).encode()

# One line of a batch output file (the documented `{id, custom_id, response, error}` record with a chat completion
# body). The counter is zero-padded so every line has the same length and the file's size is known up front.
_RESULT_LINE: Final = (
    json.dumps(
        {
            "id": "batch_req_{n:012d}",
            "custom_id": "request-{n:012d}",
            "response": {
                "status_code": 200,
                "request_id": "req_{n:012d}",
                "body": {
                    "id": "chatcmpl-{n:012d}",
                    "object": "chat.completion",
                    "created": 1711652795,
                    "model": "gpt-4o-mini-2024-07-18",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": "The quick brown fox jumps over the lazy dog. " * 8,
                                "refusal": None,
                            },
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 22, "completion_tokens": 80, "total_tokens": 102},
                    "system_fingerprint": "fp_3ba",
                },
            },
            "error": None,
        }
    )
    .replace("{", "{{")
    .replace("}", "}}")
    .replace("{{n:012d}}", "{n:012d}")
    + "\n"
)
RESULT_LINE_BYTES: Final = len(_RESULT_LINE.format(n=0).encode())


def result_lines(count: int) -> Iterator[bytes]:
    """The `count` lines of the generated results file, in chunks of about `STREAM_CHUNK_BYTES`."""
    per_chunk = max(1, STREAM_CHUNK_BYTES // RESULT_LINE_BYTES)
    for start in range(0, count, per_chunk):
        stop = min(count, start + per_chunk)
        yield "".join(_RESULT_LINE.format(n=n) for n in range(start, stop)).encode()


def _head(status: str, content_type: str, length: int, request_id: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {length}\r\nx-request-id: ".encode()
        + request_id
        + b"\r\n\r\n"
    )


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parse request heads by hand, answer from precomputed bytes."""

    def __init__(self, server: BenchServer) -> None:
        self._server = server
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._streaming = False  # while a file streams, later requests wait in the buffer
        self._can_write = asyncio.Event()
        self._can_write.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - TCP transports always are
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._can_write.set()  # let a streaming task notice and stop

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._process()

    def _process(self) -> None:
        transport = self._transport
        while transport is not None and not self._streaming:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    transport.close()
                return
            head = self._buffer[:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : line_end if line_end >= 0 else None])
            total = end + 4 + length
            if len(self._buffer) < total:
                return  # the body is still arriving
            path = head.split(b" ", 2)[1]
            self._buffer = self._buffer[total:]
            request_id = b"req_bench_%d" % next(self._server.counter)
            if path.endswith(b"/content"):
                self._streaming = True
                task = asyncio.get_running_loop().create_task(self._stream_results(transport, request_id))
                self._server.tasks.add(task)
                task.add_done_callback(self._server.tasks.discard)
            elif self._server.slow_seconds and b"slow" in path:
                response = self._server.batch_head + request_id + b"\r\n\r\n" + BATCH_BODY
                asyncio.get_running_loop().call_later(self._server.slow_seconds, _write_if_open, transport, response)
            else:
                transport.write(self._server.batch_head + request_id + b"\r\n\r\n" + BATCH_BODY)

    async def _stream_results(self, transport: asyncio.Transport, request_id: bytes) -> None:
        count = self._server.result_count
        transport.write(_head("200 OK", "application/octet-stream", count * RESULT_LINE_BYTES, request_id))
        for chunk in result_lines(count):
            await self._can_write.wait()
            if transport.is_closing():
                return
            transport.write(chunk)
        self._streaming = False
        self._process()


def _write_if_open(transport: asyncio.Transport, data: bytes) -> None:
    if not transport.is_closing():
        transport.write(data)


class BenchServer:
    """State shared by the connections: the precomputed response head and the request counter."""

    def __init__(self, results_bytes: int, slow_seconds: float = 0.0) -> None:
        self.slow_seconds = slow_seconds
        self.counter = itertools.count()
        self.result_count = max(1, results_bytes // RESULT_LINE_BYTES)
        head = _head("200 OK", "application/json", len(BATCH_BODY), b"")
        self.batch_head = head[: -len(b"\r\n\r\n")]  # ends with "x-request-id: ", the id is appended per request
        self.tasks: set[asyncio.Task[None]] = set()


async def serve(results_bytes: int, port: int = 0, slow_seconds: float = 0.0) -> None:
    """Serve on 127.0.0.1 until stdin reaches EOF; print the port first."""
    state = BenchServer(results_bytes, slow_seconds)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(state), "127.0.0.1", port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    # Reading stdin in a thread: its EOF (the parent exited or closed the pipe) is the signal to stop.
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-bytes", type=int, default=1_000_000, help="size of the generated results file")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--slow-seconds", type=float, default=0.0, help="delay for paths holding 'slow' (0: none)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.results_bytes, args.port, args.slow_seconds))


if __name__ == "__main__":
    main()
