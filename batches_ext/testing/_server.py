"""`FakeServer`: a `FakeBatchAPI` on a real loopback socket (stdlib HTTP/1.1, keep-alive, a thread per connection).

For the tests where the wire matters: the openai SDK, a user's own HTTP stack, a CLI run in a subprocess.
`serve()` runs one in the foreground for a demo.

Request bodies are bounded before a byte of them is read: a `Content-Length` (or a chunked body) beyond the bound
gets a 413 and the connection is closed. `POST /files` is bounded by OpenAI's own upload limit (512 MB per file)
plus room for the multipart framing, so the fake accepts every upload OpenAI accepts; every other request by 1 MiB
(a batch's JSON is a few KB). Both are `FakeServer` arguments.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import IO, Any, Final, Self

from batches_ext.testing._app import DEFAULT_API_KEY, DEFAULT_CANCEL_DELAY_S, FakeBatchAPI
from batches_ext.testing._demo import seed_demo
from batches_ext.testing._lifecycle_routes import FILE_MAX_BYTES
from batches_ext.testing._wire import FileBody, Reply, error_reply, mask_key

__all__ = ["FakeServer", "serve"]

logger = logging.getLogger(__package__)  # "batches_ext.testing", or the vendored copy's name

_POLL_S: Final = 0.05  # how often the accept loop checks for stop(): bounds how long stop() takes
_CHUNK: Final = 64 * 1024  # file bodies are written in pieces, as a streaming server would
_MAX_LINE: Final = 65_537  # the stdlib's own limit for a request line
_JOIN_TIMEOUT_S: Final = 5.0  # a handler still running this long after its socket was shut down is a bug
_HANDLER_NAME: Final = "batches-ext-fake-server-handler"
# Connections the kernel completes while the accept loop is busy; beyond them SYNs are dropped and a client waits
# 1 s, then 3 s, to retry. The stdlib's 5 made 200 concurrent clients take seconds. (Linux caps it at somaxconn.)
LISTEN_BACKLOG: Final = 1024
DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024  # every request but an upload: OpenAI's JSON bodies are a few KB
_MULTIPART_FRAMING_BYTES: Final = 64 * 1024  # boundaries, part headers and the `purpose` field around the file
DEFAULT_MAX_UPLOAD_BYTES: Final = FILE_MAX_BYTES + _MULTIPART_FRAMING_BYTES  # POST /files: what OpenAI accepts


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the server's `FakeBatchAPI`; applies drop and slow faults on the socket."""

    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections, as with the real API
    # Buffered writes: the status line, the headers and a JSON body leave in one send when the handler flushes after
    # each request (the stdlib's default, unbuffered, sent the headers and the body separately: a second syscall and
    # a second wake-up of the client per response). A file body still goes out in pieces, and with Nagle's algorithm
    # a piece would wait for the client's delayed ACK (40 ms on Linux).
    wbufsize = _CHUNK
    disable_nagle_algorithm = True
    server: _HTTPServer

    # Every method is handed to the fake, so an unrouted one gets its JSON 404 rather than the stdlib's HTML 501.
    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool = False) -> None:
        body = self._read_body()
        if body is None:
            return
        api = self.server.api
        fault = api.receive(self.command, self.path, dict(self.headers.items()))
        if fault is not None and fault.kind == "drop":
            self.close_connection = True  # write nothing: the client sees the connection close
            return
        if fault is not None and fault.kind == "slow" and self.server.stopping.wait(fault.seconds):
            self.close_connection = True  # the server is stopping: do not hold stop() up
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            reply = api.respond(self.command, self.path, headers, fault, body)
        except Exception as exc:  # a bug in the fake must reach the test, not look like a network fault
            self.server.errors.append(exc)
            logger.exception("batches_ext.testing: the fake failed on %s %s", self.command, self.path)
            reply = error_reply(
                500,
                f"batches_ext.testing failed: {type(exc).__name__}: {exc}",
                "fake_server_error",
                headers={"x-should-retry": "false"},  # a retry would only hide the bug
            )
        self._send(reply, head=head)

    def _read_body(self) -> bytes | None:
        """Read the request body (the connection can then carry the next request); None if it was answered.

        A malformed body gets a 400, one beyond the route's bound a 413 (see the module docstring); either way the
        connection closes, since the rest of the body was not read.
        """
        limit = self.server.body_limit(self.command, self.path)
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return self._read_chunks(limit)
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(error_reply(400, "Invalid Content-Length header."))
            return None
        if length > limit:
            self._refuse_body(length, limit)
            return None
        return self.rfile.read(length) if length else b""

    def _refuse_body(self, length: int, limit: int) -> None:
        self.close_connection = True
        message = f"Request body too large: {length} bytes; at most {limit} for {self.command} {self.path}."
        self._send(error_reply(413, message, headers={"connection": "close"}))

    def _read_chunks(self, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        received = 0
        while True:
            line = self.rfile.readline(_MAX_LINE)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                self._send(error_reply(400, "Invalid chunked request body."))
                return None
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers carry nothing the fake needs
                return b"".join(chunks)
            received += size
            if received > limit:
                self._refuse_body(received, limit)
                return None
            chunks.append(self.rfile.read(size + 2)[:size])  # the chunk and its CRLF

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a request the stdlib could not parse (bad syntax, too many headers) in the fake's JSON too."""
        self.close_connection = True
        self._send(error_reply(code, message or HTTPStatus(code).phrase), head=self.command == "HEAD")

    def _send(self, reply: Reply, *, head: bool = False) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        if head:
            return
        if isinstance(reply.body, FileBody):
            for piece in reply.body.pieces():
                self.wfile.write(piece)
            if reply.body.sent < len(reply.body):
                self.close_connection = True  # a cut download: the client sees the body end short
            return
        view = memoryview(reply.body)
        for start in range(0, len(view), _CHUNK):
            self.wfile.write(view[start : start + _CHUNK])

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines and statuses only (never headers), and to logging rather than stderr.
        logger.debug("%s - %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can close its keep-alive connections, so stopping never waits on a client.

    It tracks its handler threads itself: the stdlib's `block_on_close` joins only non-daemon threads, and daemon
    threads are what keep a forgotten server from holding the interpreter open.
    """

    daemon_threads = True
    block_on_close = False  # joining is done by join_handlers(), after the connections are shut down
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        api: FakeBatchAPI,
        family: socket.AddressFamily,
        errors: list[Exception],
        body_limits: tuple[int, int] = (DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES),
    ) -> None:
        self.address_family = family
        self.api = api
        self.errors = errors
        self._max_body, self._max_upload = body_limits
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def body_limit(self, method: str, path: str) -> int:
        """The most body bytes a request may carry: the upload bound for `POST .../files`, else the general one."""
        is_upload = method == "POST" and path.partition("?")[0].rstrip("/").endswith("/files")
        return self._max_upload if is_upload else self._max_body

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall offline machines.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), name=_HANDLER_NAME, daemon=True
        )
        with self._connections_lock:
            self._handlers = {handler for handler in self._handlers if handler.is_alive()}
            self._handlers.add(thread)
            if isinstance(request, socket.socket):
                self._connections.add(request)
        thread.start()

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # the client went away (timed out, reset): normal for a server
            logger.debug("connection from %s ended: %r", client_address, exc)
            return
        if isinstance(exc, Exception):
            self.errors.append(exc)
        logger.error("batches_ext.testing: error serving %s", client_address, exc_info=exc)

    def close_connections(self) -> None:
        """Wake every handler: stalled faults return, and idle keep-alive reads see end-of-file."""
        self.stopping.set()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def join_handlers(self) -> None:
        """Wait for every handler thread; after close_connections() each has nothing left to wait for."""
        with self._connections_lock:
            handlers = list(self._handlers)
        for handler in handlers:
            handler.join(_JOIN_TIMEOUT_S)
            if handler.is_alive():  # pragma: no cover - a bug: say so rather than hang the test run
                logger.warning("batches_ext.testing: a handler thread did not stop within %s s", _JOIN_TIMEOUT_S)


class FakeServer:
    """A `FakeBatchAPI` served over HTTP/1.1 on a free loopback port, in a background thread.

    Use as a context manager (or `start()` / `stop()`); point clients at `base_url`. `stop()` closes the socket
    and every connection and joins every thread.

    Args:
        api: the fake to serve; a new `FakeBatchAPI()` when None.
        host: the address to listen on; keep the loopback default unless you mean to expose the fake.
        port: the port; 0 picks a free one.
        max_body_bytes: the largest request body accepted, uploads aside (default 1 MiB); a larger one gets a 413
            before it is read.
        max_upload_bytes: the same for `POST /files` (default OpenAI's 512 MB file limit plus 64 KiB of multipart
            framing, so every upload OpenAI accepts gets through to the fake's own size checks).

    Raises:
        ValueError: a bound is not a positive int.

    """

    def __init__(
        self,
        api: FakeBatchAPI | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    ) -> None:
        for name, value in (("max_body_bytes", max_body_bytes), ("max_upload_bytes", max_upload_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.api = api if api is not None else FakeBatchAPI()
        self._host = host
        self._port = port
        self._body_limits = (max_body_bytes, max_upload_bytes)
        self._errors: list[Exception] = []
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind and start serving; returns self.

        Raises:
            RuntimeError: the server is already running.
            OSError: the address cannot be bound (port in use, unknown host).

        """
        if self._server is not None:
            raise RuntimeError("FakeServer is already running")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        server = _HTTPServer((self._host, self._port), self.api, family, self._errors, self._body_limits)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": _POLL_S}, name="batches-ext-fake-server", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread; does nothing if not running."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.shutdown()  # no new connections once this returns
        server.close_connections()
        server.server_close()
        server.join_handlers()
        thread.join()

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()`."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port being listened on.

        Raises:
            RuntimeError: the server is not running.

        """
        return int(self._running().server_address[1])

    @property
    def base_url(self) -> str:
        """The URL to give clients, like `http://127.0.0.1:54321/v1`.

        Raises:
            RuntimeError: the server is not running.

        """
        return f"{self.azure_endpoint}/v1"

    @property
    def azure_endpoint(self) -> str:
        """The URL without `/v1`, like `http://127.0.0.1:54321`: an Azure client's `azure_endpoint` in Azure mode.

        Raises:
            RuntimeError: the server is not running.

        """
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def errors(self) -> list[Exception]:
        """Exceptions raised inside the fake while serving (each was answered with a 500); empty when healthy."""
        return list(self._errors)

    def _running(self) -> _HTTPServer:
        if self._server is None:
            raise RuntimeError("FakeServer is not running; call start() or use it as a context manager")
        return self._server

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"FakeServer({where}, api={self.api!r})"


def serve(
    api: FakeBatchAPI | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str = DEFAULT_API_KEY,
    cancel_delay: float = DEFAULT_CANCEL_DELAY_S,
    demo: bool = True,
    out: IO[str] | None = None,
    stop: threading.Event | None = None,
    ready: Callable[[FakeServer], None] | None = None,
) -> None:
    """Run a fake Batch API in the foreground until Ctrl-C (or until `stop` is set), printing where it listens.

    Args:
        api: the fake to serve; when None, a new one with `api_key` and `cancel_delay` (real time).
        host: the address to listen on.
        port: the port; 0 picks a free one (the printed URL says which).
        api_key: the key clients must send, when `api` is None. Never printed in full.
        cancel_delay: seconds a batch stays `cancelling`, when `api` is None.
        demo: add a few demo batches (listed in the output) to try the client on.
        out: where to print; stdout by default.
        stop: an event that ends the server when set (for embedding and tests).
        ready: called with the running server once it listens.

    Raises:
        OSError: the address cannot be bound.

    """
    if api is None:
        api = FakeBatchAPI(api_key=api_key, cancel_delay=cancel_delay)
    stream = out if out is not None else sys.stdout
    seeded = seed_demo(api) if demo else []
    with FakeServer(api, host=host, port=port) as server:
        lines = [
            f"Fake OpenAI Batch API listening on {server.base_url}",
            f"  export OPENAI_BASE_URL={server.base_url}",
            # The key is never printed, not even the default: point at where it is documented instead.
            f"  export OPENAI_API_KEY=...  # the fake's key ({mask_key(api.api_key)}): --api-key, "
            "default batches_ext.testing.DEFAULT_API_KEY",
        ]
        lines += [f"  batch {batch['id']}: {batch['status']}" for batch in seeded]
        lines.append("Press Ctrl-C to stop.")
        print("\n".join(lines), file=stream, flush=True)
        if ready is not None:
            ready(server)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a foreground server is meant to end
            (stop if stop is not None else threading.Event()).wait()
    print("Stopped.", file=stream, flush=True)
