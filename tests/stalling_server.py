"""Hostile loopback servers for deadline tests: one that never answers, one that sends its body a byte at a time.

Plain sockets and threads (an HTTP framework would answer properly). Every connection is dropped on exit.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

TRICKLE_INTERVAL_S = 0.2  # one byte this often: far inside any read timeout, so only a total bound ends it


@contextmanager
def stalling_server(
    mode: str,
    body: bytes = b'{"id": "batch_x", "object": "batch"' + b" " * 10_000 + b"}",
    *,
    posts: bytes | None = None,
) -> Iterator[str]:
    """Serve on 127.0.0.1 and yield the base URL (`http://127.0.0.1:PORT/v1`).

    `mode` "silent": read the request and never answer. "trickle": send 200 headers at once, then `body` one byte
    every `TRICKLE_INTERVAL_S`. With `posts`, a POST is answered at once: 200 with that JSON body.
    """
    if mode not in ("silent", "trickle"):
        raise ValueError(mode)
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    connections: list[socket.socket] = []

    def handle(conn: socket.socket) -> None:
        try:
            while (request := conn.recv(65536)).startswith(b"POST") and posts is not None:
                head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(posts)}\r\n\r\n"
                conn.sendall(head.encode() + posts)
            if not request:
                return
            if mode == "silent":
                stop.wait()
                return
            head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
            conn.sendall(head.encode())
            for index in range(len(body)):
                if stop.wait(TRICKLE_INTERVAL_S):
                    return
                conn.sendall(body[index : index + 1])
        except OSError:
            pass  # the client gave up and closed the connection: what these tests want

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in connections:
            conn.close()
