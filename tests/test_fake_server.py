"""The fake on a real socket (`batches_ext.testing.FakeServer`): HTTP/1.1, faults, concurrency, shutdown, `serve`."""

from __future__ import annotations

import io
import json
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from batches_ext import BatchesClient, errors
from batches_ext.testing import DEFAULT_API_KEY, FakeBatchAPI, FakeClock, FakeServer, serve
from batches_ext.testing.__main__ import main
from batches_ext.testing._lifecycle_routes import FILE_MAX_BYTES
from batches_ext.testing._server import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES, _HTTPServer
from tests.payloads import DOCUMENTED_STATUSES

AUTH = {"authorization": f"Bearer {DEFAULT_API_KEY}"}


def server_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("batches-ext-fake-server")]


@pytest.fixture
def http(fake_batch_server: FakeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_batch_server.base_url, headers=AUTH) as client:
        yield client


# --- lifecycle of the server ------------------------------------------------------------------------------------------


def test_start_stop_restart() -> None:
    server = FakeServer()
    assert not server.running
    assert "stopped" in repr(server)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    with server:
        assert server.running
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)
        assert server.base_url in repr(server)
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
    assert not server.running
    server.stop()  # idempotent
    server.start()
    try:
        assert httpx.get(server.base_url + "/batches/x", headers=AUTH).status_code == 404
    finally:
        server.stop()
    assert server_threads() == []


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_ipv6_loopback() -> None:
    server = FakeServer(host="::1")
    try:
        server.start()
    except OSError:
        pytest.skip("::1 is not configured")
    try:
        assert server.base_url.startswith("http://[::1]:")
        assert httpx.get(server.base_url + "/nope", headers=AUTH).status_code == 404
    finally:
        server.stop()


# --- the wire ---------------------------------------------------------------------------------------------------------


def test_batches_client_over_the_wire(fake_batch_server: FakeServer, fake_clock: FakeClock) -> None:
    api = fake_batch_server.api
    api.add_batch("batch_1", total=20, completed=7, failed=2, metadata={"k": "v"})
    with BatchesClient(api.api_key, base_url=fake_batch_server.base_url) as client:
        assert client.cancel("batch_1").status == "cancelling"
        fake_clock.advance(api.cancel_delay)
        batch = client.retrieve("batch_1")
        assert batch.status == "cancelled"
        assert batch.metadata == {"k": "v"}
        assert [r.custom_id for r in client.iter_results(batch)] == [f"request-{n}" for n in range(1, 8)]
        assert [r.status_code for r in client.iter_results(batch, errors=True)] == [400, 400]
        with pytest.raises(errors.NotFoundError, match="No batch found with id 'nope'"):
            client.retrieve("nope")
    with (
        BatchesClient("sk-wrong-key-but-long", base_url=fake_batch_server.base_url) as client,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        client.retrieve("batch_1")
    assert caught.value.code == "invalid_api_key"


def test_http11_keep_alive_and_headers(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("batch_1")
    first, second = http.get("/batches/batch_1"), http.get("/batches/batch_1")
    assert first.http_version == "HTTP/1.1"
    assert first.headers["content-type"] == "application/json"
    assert int(first.headers["content-length"]) == len(first.content)
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert "connection" not in first.headers  # kept alive
    ports = {r.extensions["network_stream"].get_extra_info("client_addr")[1] for r in (first, second)}
    assert len(ports) == 1  # both requests went over one connection


def test_large_file_streams(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    content = bytes(range(256)) * 8192  # 2 MiB
    fake_batch_api.add_file("file-big", content)
    with http.stream("GET", "/files/file-big/content") as response:
        assert response.headers["content-type"] == "application/octet-stream"
        assert b"".join(response.iter_bytes()) == content


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "OPTIONS"])
def test_any_method_gets_the_fakes_json_404(http: httpx.Client, method: str) -> None:
    response = http.request(method, "/batches/batch_1")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Invalid URL ({method} /v1/batches/batch_1)"


def test_head_gets_headers_only(http: httpx.Client) -> None:
    response = http.head("/batches/batch_1")
    assert response.status_code == 404
    assert response.content == b""
    assert http.get("/batches/batch_1").status_code == 404  # the connection is still in sync


@pytest.mark.parametrize(
    "body",
    [{"content": b'{"reason": "budget"}'}, {"content": iter([b"{", b"}"])}],
    ids=["content-length", "chunked"],
)
def test_request_bodies_are_consumed(fake_batch_api: FakeBatchAPI, http: httpx.Client, body: Any) -> None:
    fake_batch_api.add_batch("batch_1")
    response = http.post("/batches/batch_1/cancel", **body)
    assert response.status_code == 200
    assert http.get("/batches/batch_1").json()["status"] == "cancelling"  # the connection is still in sync


def test_chunked_trailers_are_skipped(fake_batch_server: FakeServer) -> None:
    with socket.create_connection(("127.0.0.1", fake_batch_server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n"
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 401 ")


@pytest.mark.parametrize(
    "head",
    [b"Content-Length: nope\r\n", b"Transfer-Encoding: chunked\r\n\r\nzz"],
)
def test_malformed_bodies_get_a_400(fake_batch_server: FakeServer, head: bytes) -> None:
    with socket.create_connection(("127.0.0.1", fake_batch_server.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/batches/b/cancel HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert b'"type":"invalid_request_error"' in reply


def test_unparseable_requests_get_json_errors_too(fake_batch_server: FakeServer) -> None:
    headers = b"".join(b"X-%d: 1\r\n" % n for n in range(101))  # the stdlib allows at most 100
    with socket.create_connection(("127.0.0.1", fake_batch_server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/batches/b HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"x-request-id: req_" in head
    assert json.loads(body)["error"]["message"] == "Too many headers"


def _exchange(port: int, request: bytes, *, finish_sending: bool = False) -> bytes:
    """Send raw bytes, optionally say no more will come (EOF), and read the reply until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        if finish_sending:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


@pytest.mark.parametrize("length", [DEFAULT_MAX_BODY_BYTES + 1, 10**15])
def test_a_huge_content_length_gets_a_413_without_the_body_being_read(
    fake_batch_server: FakeServer, length: int
) -> None:
    head = b"POST /v1/batches/b/cancel HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % length
    reply = _exchange(fake_batch_server.port, head)  # no body follows: answered and closed without waiting for it
    head_out, _, body = reply.partition(b"\r\n\r\n")
    assert head_out.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in head_out.lower()
    assert f"{length} bytes; at most {DEFAULT_MAX_BODY_BYTES}" in json.loads(body)["error"]["message"]
    assert fake_batch_server.errors == []


def test_the_upload_route_admits_every_file_size_openai_accepts(fake_batch_server: FakeServer) -> None:
    def upload_head(length: int) -> bytes:
        return (
            b"POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: %d\r\n\r\n" % length
        )

    # 512 MiB of file and its framing are read (here the client stops short, so the fake's own checks answer).
    admitted = _exchange(fake_batch_server.port, upload_head(FILE_MAX_BYTES + 4096), finish_sending=True)
    assert not admitted.startswith(b"HTTP/1.1 413 ")
    assert admitted.startswith(b"HTTP/1.1 4")
    refused = _exchange(fake_batch_server.port, upload_head(DEFAULT_MAX_UPLOAD_BYTES + 1))
    assert refused.startswith(b"HTTP/1.1 413 ")


def test_body_bounds_are_configurable_and_bound_chunked_bodies_too() -> None:
    with FakeServer(max_body_bytes=100, max_upload_bytes=1000) as server:
        auth = b"Connection: close\r\nAuthorization: Bearer " + DEFAULT_API_KEY.encode() + b"\r\n"
        head = b"POST /v1/batches HTTP/1.1\r\nHost: x\r\n" + auth
        small = b'{"a": 1}'
        answered = _exchange(server.port, head + b"Content-Length: %d\r\n\r\n" % len(small) + small)
        assert answered.startswith(b"HTTP/1.1 400 ")  # read and judged by the route
        chunked = head + b"Transfer-Encoding: chunked\r\n\r\n" + (b"50\r\n" + b"x" * 80 + b"\r\n") * 2 + b"0\r\n\r\n"
        assert _exchange(server.port, chunked).startswith(b"HTTP/1.1 413 ")
        upload = b"POST /v1/files HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 500\r\n\r\n" + b"x" * 500
        assert _exchange(server.port, upload).startswith(b"HTTP/1.1 400 ")  # over 100, under the upload bound
        assert server.errors == []
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="max_body_bytes must be a positive int"):
            FakeServer(max_body_bytes=bad)  # type: ignore[arg-type]


# --- faults -----------------------------------------------------------------------------------------------------------


def test_dropped_connection_closes_the_socket(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.drop_connections(1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/batches/batch_1")
    assert http.get("/batches/batch_1").status_code == 404  # a new connection works


def test_client_retries_a_dropped_connection(fake_batch_server: FakeServer) -> None:
    api = fake_batch_server.api
    api.add_batch("batch_1")
    api.drop_connections(1)
    with BatchesClient(api.api_key, base_url=fake_batch_server.base_url, sleep=lambda _: None) as client:
        assert client.cancel("batch_1").status == "cancelling"
    assert api.requests == [("POST", "/v1/batches/batch_1/cancel")] * 2


def test_injected_errors_then_success(fake_batch_server: FakeServer) -> None:
    api = fake_batch_server.api
    api.add_batch("batch_1")
    api.inject_errors(1, 500)
    api.inject_errors(1, 429, {"retry-after-ms": "1"})
    with BatchesClient(api.api_key, base_url=fake_batch_server.base_url, sleep=lambda _: None) as client:
        assert client.retrieve("batch_1").status == "in_progress"
    assert len(api.requests) == 3


def test_slow_response_really_waits(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.slow_responses(1, 0.05)
    started = time.monotonic()
    assert http.get("/batches/batch_1").status_code == 200
    assert time.monotonic() - started >= 0.05


def test_slow_response_past_the_client_timeout(fake_batch_server: FakeServer, http: httpx.Client) -> None:
    fake_batch_server.api.slow_responses(1, 0.1)
    with pytest.raises(httpx.ReadTimeout):
        http.get("/batches/batch_1", timeout=0.02)
    time.sleep(0.1)  # let the handler finish writing to the socket the client gave up on
    assert http.get("/batches/batch_1").status_code == 404
    assert fake_batch_server.errors == []  # the broken pipe is a client's choice, not a fake failure


def test_a_bug_in_the_fake_is_a_500_that_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeBatchAPI()

    def broken(*args: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(api, "respond", broken)
    with FakeServer(api) as server, BatchesClient(api.api_key, base_url=server.base_url) as client:
        with pytest.raises(errors.InternalServerError, match=r"batches_ext\.testing failed: KeyError") as caught:
            client.retrieve("batch_1")
        assert caught.value.response.headers["x-should-retry"] == "false"
        assert len(api.requests) == 1
        assert [type(e) for e in server.errors] == [KeyError]


# --- concurrency and shutdown -----------------------------------------------------------------------------------------


def test_concurrent_clients(fake_batch_server: FakeServer) -> None:
    api = fake_batch_server.api
    threads_n, requests_n = 16, 20
    for t in range(threads_n):
        api.add_batch(f"batch_{t}")
    request_ids: list[str | None] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        try:
            with BatchesClient(api.api_key, base_url=fake_batch_server.base_url, max_retries=0) as client:
                ids = [client.retrieve(f"batch_{t}").request_id for _ in range(requests_n - 1)]
                ids.append(client.cancel(f"batch_{t}").request_id)
            with lock:
                request_ids.extend(ids)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert failures == []
    assert len(api.requests) == threads_n * requests_n
    assert len(set(request_ids)) == threads_n * requests_n
    assert all(batch["status"] == "cancelling" for batch in api.batches.values())
    assert fake_batch_server.errors == []


def test_200_clients_connecting_at_once_all_complete_their_handshake() -> None:
    # Before the accept loop runs, only the listen backlog holds connections: the stdlib's 5 dropped the SYNs of the
    # rest, which then retried after 1 s and 3 s.
    server = _HTTPServer(("127.0.0.1", 0), FakeBatchAPI(), socket.AF_INET, [])
    clients = [socket.socket() for _ in range(200)]
    try:
        for client in clients:
            client.setblocking(False)
            client.connect_ex(server.server_address[:2])
        pending = set(clients)
        deadline = time.monotonic() + 2
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], list(pending), [], 0.05)
            pending -= {client for client in writable if client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0}
        assert len(pending) == 0
    finally:
        for client in clients:
            client.close()
        server.server_close()


def test_stop_does_not_wait_for_idle_or_stalled_clients() -> None:
    api = FakeBatchAPI()
    server = FakeServer(api).start()
    idle = httpx.Client(base_url=server.base_url, headers=AUTH)
    stalled = httpx.Client(base_url=server.base_url, headers=AUTH)
    outcome: list[object] = []

    def wait_for_slow_reply() -> None:
        try:
            outcome.append(stalled.get("/batches/batch_1"))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    try:
        assert idle.get("/nope").status_code == 404  # leaves a kept-alive connection open on the server
        api.slow_responses(1, 30.0)
        waiter = threading.Thread(target=wait_for_slow_reply)
        waiter.start()
        while len(api.requests) < 2:
            time.sleep(0.005)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
        waiter.join(timeout=5)
        assert isinstance(outcome[0], httpx.RemoteProtocolError)
        assert server_threads() == []
        with pytest.raises(httpx.ConnectError):
            idle.get("/nope")
    finally:
        idle.close()
        stalled.close()
        server.stop()


# --- serve and the command line ---------------------------------------------------------------------------------------


def test_serve_prints_where_and_never_the_key() -> None:
    secret = "sk-serve-secret-0123456789abcdef"
    out = io.StringIO()
    stop = threading.Event()
    answers: list[dict[str, Any]] = []

    def ready(server: FakeServer) -> None:
        headers = {"authorization": f"Bearer {secret}"}
        answers.append(httpx.get(server.base_url + "/batches/batch_demo_running", headers=headers).json())
        stop.set()

    serve(api_key=secret, cancel_delay=0.5, out=out, stop=stop, ready=ready)
    text = out.getvalue()
    assert re.search(r"listening on http://127\.0\.0\.1:\d+/v1", text)
    assert "batch_demo_running: in_progress" in text
    assert text.rstrip().endswith("Stopped.")
    assert secret not in text
    assert answers[0]["metadata"]["source"] == "batches-ext demo"
    assert server_threads() == []


def test_serve_an_existing_api_without_demo() -> None:
    api = FakeBatchAPI()
    stop = threading.Event()
    stop.set()
    serve(api, demo=False, out=io.StringIO(), stop=stop)
    assert api.batches == {}


def test_python_m_batches_ext_testing() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "batches_ext.testing", "--port", "0", "--cancel-delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", first)
        assert match, first
        base_url = match.group(1)
        with BatchesClient(DEFAULT_API_KEY, base_url=base_url) as client:
            assert client.cancel("batch_demo_running").status == "cancelling"
            assert client.retrieve("batch_demo_running").status == "cancelled"
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "Stopped." in rest
    assert DEFAULT_API_KEY not in first + rest


def test_main_reports_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(SystemExit) as caught:
            main(["--port", str(port), "--no-demo"])
    assert caught.value.code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_main_rejects_a_bad_cancel_delay(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--cancel-delay", "-1"])
    assert caught.value.code == 2
    assert "cancel_delay" in capsys.readouterr().err


def test_json_bodies_on_the_wire_are_compact(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("batch_1", metadata={"a": "b"})
    response = http.get("/batches/batch_1")
    assert response.content == json.dumps(response.json(), separators=(",", ":")).encode()


# --- conformance to the spec fragment ---------------------------------------------------------------------------------

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openai-batches.yaml"
KNOWN_STATUSES = DOCUMENTED_STATUSES


@pytest.fixture(scope="module")
def spec() -> Any:
    import schemathesis  # a dev dependency (scripts/dev.lock): a missing install must fail, not skip

    return schemathesis.openapi.from_path(SPEC)


def conforms(spec: Any, method: str, path: str, response: httpx.Response) -> None:
    """Raise unless the response's status, content type and body are what the fragment documents."""
    spec[path][method].validate_response(response)


@pytest.mark.parametrize("status", KNOWN_STATUSES)
def test_batch_responses_conform_to_the_spec(
    spec: Any, fake_batch_api: FakeBatchAPI, http: httpx.Client, status: str
) -> None:
    fake_batch_api.add_batch("batch_1", status=status, completed=5, failed=1, metadata={"k": "v"})
    conforms(spec, "GET", "/batches/{batch_id}", http.get("/batches/batch_1"))
    conforms(spec, "POST", "/batches/{batch_id}/cancel", http.post("/batches/batch_1/cancel"))  # 200 or 400


def test_error_and_file_responses_conform_to_the_spec(
    spec: Any, fake_batch_api: FakeBatchAPI, http: httpx.Client
) -> None:
    batch = fake_batch_api.add_batch("batch_1", status="completed", completed=2)
    file_path = "/files/{file_id}/content"
    conforms(spec, "GET", file_path, http.get(f"/files/{batch['output_file_id']}/content"))
    conforms(spec, "GET", file_path, http.get("/files/file-nope/content"))
    conforms(spec, "GET", "/batches/{batch_id}", http.get("/batches/nope"))
    conforms(spec, "GET", "/batches/{batch_id}", http.get("/batches/batch_1", headers={"authorization": "Bearer x"}))
    fake_batch_api.inject_errors(1, 429, {"retry-after-ms": "10"})
    fake_batch_api.inject_errors(1, 503)
    conforms(spec, "POST", "/batches/{batch_id}/cancel", http.post("/batches/batch_1/cancel"))
    conforms(spec, "POST", "/batches/{batch_id}/cancel", http.post("/batches/batch_1/cancel"))


def test_the_conformance_check_is_live(spec: Any, fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    # The fragment enumerates the statuses, so a status the API may add later is the one way to fail it.
    fake_batch_api.add_batch("batch_1", status="paused_for_maintenance")
    with pytest.raises(Exception, match="paused_for_maintenance"):  # schemathesis raises its own failure group
        conforms(spec, "GET", "/batches/{batch_id}", http.get("/batches/batch_1"))
