"""Conformance with software we did not write: Stoplight's Prism mock server serving openapi/openai-batches.yaml.

Prism validates every request against the fragment (`--errors`: a violation becomes an error response instead of a
warning) and answers with data generated from the Batch schema: fixed in static mode, random in dynamic mode
(nulls, negative counts, extra keys at every level). The clients must send what the spec allows and parse whatever
it allows back.

Prism comes from npm at a pinned version, installed once into `.cache/prism/` (gitignored) and reused. Without npm
the module is skipped locally and fails in CI (`CI=true`); a failed install always fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, errors

PRISM_PACKAGE = "@stoplight/prism-cli"
PRISM_VERSION = "5.16.0"  # pinned: Prism's generator and validator change between releases
ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "openai-batches.yaml"
CACHE = Path(os.environ.get("BATCHES_EXT_PRISM_DIR", ROOT / ".cache" / "prism"))
INSTALL_TIMEOUT_S = 300.0
START_TIMEOUT_S = 60.0  # Prism starts in about 1.6 s on the fragment; CI machines can be much slower
DYNAMIC_SAMPLES = 20  # per operation; each draws a fresh random Batch
API_KEY = "sk-prism-test"
DYNAMIC = {"Prefer": "dynamic=true"}  # Prism's per-request switch to random data

pytestmark = pytest.mark.slow


# --- installing and running Prism -----------------------------------------------------------------------------


def _installed_version(cache: Path) -> str | None:
    manifest = cache / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        version = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version if isinstance(version, str) else None


def install_prism(cache: Path, npm: str) -> Path:
    """Install the pinned Prism into `cache` unless it is already there; return its entry script.

    A file lock keeps two test sessions in the same tree from installing at once.
    """
    cache.mkdir(parents=True, exist_ok=True)
    entry = cache / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
    with (cache / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(cache) == PRISM_VERSION and entry.is_file():
            return entry
        shutil.rmtree(cache / "node_modules", ignore_errors=True)
        # --ignore-scripts: Prism needs none, and one dependency's postinstall only reports usage over the network.
        command = [
            *(npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--no-save", "--ignore-scripts"),
            f"{PRISM_PACKAGE}@{PRISM_VERSION}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
        if done.returncode != 0 or _installed_version(cache) != PRISM_VERSION or not entry.is_file():
            raise RuntimeError(f"`{' '.join(command)}` failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        return entry


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Prism:
    """A running Prism: where it listens and the log that records every request it received."""

    url: str
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def requests_received(self) -> int:
        """How many requests Prism has logged so far."""
        return self.log.read_bytes().count(b"Request received")


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Prism exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            httpx.get(f"{url}/batches/ready", timeout=1.0)  # any answer, even 401, means it is serving
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError(f"Prism did not answer within {START_TIMEOUT_S:.0f} s:\n{log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Prism's process group (it was started in its own session, so nothing else is in it)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def prism_entry() -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("npm/node not found: CI must run the Prism conformance tests (install Node.js >= 18)")
        pytest.skip("npm/node not found: Prism cannot be installed (these tests fail instead of skipping in CI)")
    try:
        return install_prism(CACHE, npm)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"could not install {PRISM_PACKAGE}@{PRISM_VERSION}: {exc}")


@pytest.fixture(scope="session")
def prism(prism_entry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    node = shutil.which("node")
    assert node is not None
    port = _free_port()  # another process may take it before Prism binds: then Prism exits and the error says so
    url = f"http://127.0.0.1:{port}"
    command = [node, str(prism_entry), "mock", "--errors", "--host", "127.0.0.1", "--port", str(port), str(SPEC)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_ready(process, url, log)
        yield Prism(url=url, log=log, process=process)
    finally:
        _stop(process)


# --- clients that record the wire -----------------------------------------------------------------------------


@dataclass
class Wire:
    """Every request sent and every response received by one client, bodies read."""

    requests: list[httpx.Request] = field(default_factory=list)
    responses: list[httpx.Response] = field(default_factory=list)

    def on_request(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)


@pytest.fixture
def wire() -> Wire:
    return Wire()


def _http(wire: Wire, headers: dict[str, str] | None = None) -> httpx.Client:
    hooks = {"request": [wire.on_request], "response": [wire.on_response]}
    return httpx.Client(headers=headers, event_hooks=hooks)  # type: ignore[arg-type]


@pytest.fixture
def client(prism: Prism, wire: Wire) -> Iterator[BatchesClient]:
    with _http(wire) as http, BatchesClient(api_key=API_KEY, base_url=prism.url, http_client=http) as batches:
        yield batches


@pytest.fixture
def dynamic_client(prism: Prism, wire: Wire) -> Iterator[BatchesClient]:
    # No retries: a 5xx here is Prism reporting a violation, and must be seen, not retried away.
    with (
        _http(wire, DYNAMIC) as http,
        BatchesClient(api_key=API_KEY, base_url=prism.url, http_client=http, max_retries=0) as batches,
    ):
        yield batches


def _read_every_field(batch: Batch) -> dict[str, Any]:
    """Read every public attribute and property: none may raise on data the schema allows."""
    names = [name for name in dir(Batch) if not name.startswith("_") and name not in {"from_dict", "to_dict"}]
    values = {name: getattr(batch, name) for name in names}
    values["duration"] = batch.duration()
    values["repr"] = repr(batch)
    return values


def _check_conforming_exchange(wire: Wire, batch: Batch) -> None:
    """Prism accepted the request (no violation reported) and the Batch holds exactly the JSON it sent."""
    response = wire.responses[-1]
    assert response.status_code == 200
    assert "sl-violations" not in response.headers, response.headers["sl-violations"]
    assert batch.to_dict() == response.json()
    _read_every_field(batch)


# --- the tests ------------------------------------------------------------------------------------------------


def test_static_cancel_and_retrieve_conform(client: BatchesClient, wire: Wire) -> None:
    cancelled = client.cancel("batch_abc123")
    _check_conforming_exchange(wire, cancelled)
    retrieved = client.retrieve("batch_abc123")
    _check_conforming_exchange(wire, retrieved)
    assert [(r.method, r.url.path) for r in wire.requests] == [
        ("POST", "/batches/batch_abc123/cancel"),
        ("GET", "/batches/batch_abc123"),
    ]
    assert wire.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("batch_id", ["batch_abc123", "a/b", "a?b#c", "100%", "batch_ü", "%2e%2e"])
def test_ids_that_need_encoding_stay_one_path_segment(client: BatchesClient, wire: Wire, batch_id: str) -> None:
    _check_conforming_exchange(wire, client.cancel(batch_id))
    assert wire.requests[-1].url.raw_path.count(b"/") == 3  # /batches/{id}/cancel: the id added no segment


def test_dynamic_responses_parse(dynamic_client: BatchesClient, wire: Wire) -> None:
    """Random valid Batches (nulls, extra keys, odd numbers) parse, repeatedly, for both operations.

    Prism's generator ignores `maxProperties` under `anyOf` (metadata with more than 16 keys), and `--errors` turns
    that into a 500 naming the response: such draws are Prism's own slips and are counted, not failed. Anything else
    (a violation in our request, a parse error) fails.
    """
    parsed, prism_slips = 0, []
    for call in [dynamic_client.cancel, dynamic_client.retrieve] * DYNAMIC_SAMPLES:
        try:
            batch = call("batch_abc123")
        except errors.InternalServerError as exc:
            prism_slips.append(exc.body)
            continue
        _check_conforming_exchange(wire, batch)
        parsed += 1
    for body in prism_slips:
        assert {v["location"][0] for v in body["validation"]} == {"response"}, body  # never our request
    assert parsed >= DYNAMIC_SAMPLES, f"{parsed} of {2 * DYNAMIC_SAMPLES} draws valid: Prism slipped {prism_slips}"
    # Dynamic mode really was on: the draws differ, and the optional fields came back null at least once.
    bodies = [r.json() for r in wire.responses if r.is_success]
    assert len({json.dumps(body, sort_keys=True) for body in bodies}) > 1
    assert any(value is None for body in bodies for value in body.values())


def test_async_client_conforms(prism: Prism, wire: Wire) -> None:
    async def run() -> tuple[Batch, Batch]:
        hooks = {"request": [_async(wire.on_request)], "response": [_async_read(wire)]}
        async with (
            httpx.AsyncClient(event_hooks=hooks) as http,  # type: ignore[arg-type]
            AsyncBatchesClient(api_key=API_KEY, base_url=prism.url, http_client=http) as batches,
        ):
            return await batches.cancel("batch_abc123"), await batches.retrieve("batch_abc123")

    cancelled, retrieved = asyncio.run(run())
    assert [r.status_code for r in wire.responses] == [200, 200]
    assert cancelled.to_dict() == wire.responses[0].json()
    assert retrieved.to_dict() == wire.responses[1].json()


def _async(hook: Any) -> Any:
    async def call(arg: Any) -> None:
        hook(arg)

    return call


def _async_read(wire: Wire) -> Any:
    async def call(response: httpx.Response) -> None:
        await response.aread()
        wire.responses.append(response)

    return call


def test_missing_bearer_token_is_authentication_error(prism: Prism, wire: Wire) -> None:
    def drop_auth(request: httpx.Request) -> None:
        del request.headers["Authorization"]
        wire.on_request(request)

    hooks = {"request": [drop_auth], "response": [wire.on_response]}
    with (
        httpx.Client(event_hooks=hooks) as http,  # type: ignore[arg-type]
        BatchesClient(api_key=API_KEY, base_url=prism.url, http_client=http) as batches,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        batches.cancel("batch_abc123")
    assert caught.value.status_code == 401
    assert "Invalid security scheme" in wire.responses[-1].headers["sl-violations"]
    assert isinstance(caught.value.body, dict)
    assert "error" in caught.value.body  # the ErrorResponse body Prism generated for the 4XX response
    assert len(wire.requests) == 1  # 401 is final: not retried


@pytest.mark.parametrize("bad_id", ["", ".", "..", "batch 1", "batch\n1", "batch\x00", "\u200bbatch", 42])
def test_bad_ids_never_reach_prism(prism: Prism, client: BatchesClient, wire: Wire, bad_id: Any) -> None:
    before = prism.requests_received()
    with pytest.raises(ValueError):  # the messages are checked by the unit tests
        client.cancel(bad_id)
    with pytest.raises(ValueError):
        client.retrieve(bad_id)
    assert wire.requests == []
    # A good request after the bad ones: once Prism has logged it, any request that reached it before would show too.
    client.retrieve("batch_after_bad_ids")
    deadline = time.monotonic() + 5
    while prism.requests_received() == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert prism.requests_received() == before + 1
