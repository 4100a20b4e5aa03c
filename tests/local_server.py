"""A tiny loopback HTTP server for tests where the real wire matters (default httpx client, logging)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], bytes]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the stdlib's 5 drops the SYNs of 100 clients connecting at once (1 s retries)


@contextmanager
def serve(reply: Callable[[str, str, dict[str, str]], Reply]) -> Iterator[str]:
    """Serve `reply(method, path, headers)` on 127.0.0.1; yield the base URL (`http://127.0.0.1:PORT/v1`)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each keep-alive response waits ~40 ms for a delayed ACK

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = reply(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            for name, value in {"content-length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def json_reply(status: int, payload: object, **headers: str) -> Reply:
    return status, {"content-type": "application/json", **headers}, json.dumps(payload).encode()
