"""pytest fixtures for testing code that cancels OpenAI batches, against the offline fake (`batches_ext.testing`).

Registered through the `pytest11` entry point, so installing batches-ext is enough:

    def test_stop(fake_batch_api, batches_client):
        fake_batch_api.add_batch("batch_1", status="in_progress")
        assert batches_client.cancel("batch_1").status == "cancelling"

To test against Azure OpenAI or another provider's shape, mark the test; the fixtures follow:

    @pytest.mark.fake_batch_api(azure=True, api_version="2024-10-21", shape="azure")
    def test_on_azure(fake_batch_api, batches_client):   # batches_client is an AzureBatchesClient
        ...

Faults are the fake's own methods: `fake_batch_api.inject_errors(1, 503)`, `drop_connections(1)`,
`slow_responses(1, 30)`, and for downloads `cut_downloads(1000, 5000)` (the next two file downloads drop after that
many bytes; `every=True` cuts every one). `@pytest.mark.fake_batch_api(ranges=False)` makes downloads ignore `Range`:

    @pytest.mark.fake_batch_api(ranges=False)
    def test_resumes(fake_batch_api, batches_client):
        data = fake_batch_api.add_batch("batch_1", status="completed", total=50, completed=50)
        fake_batch_api.cut_downloads(1000, 20_000)
        assert len(list(batches_client.iter_results("batch_1"))) == 50

pytest loads this module in every session of every project where batches-ext is installed, so it imports only
pytest at load time; the fake and the clients are imported when a fixture is first used.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from batches_ext import AsyncBatchesClient, BatchesClient
    from batches_ext.testing import FakeBatchAPI, FakeClock, FakeServer, Fault

__all__ = [
    "async_batches_client",
    "batches_client",
    "fake_batch_api",
    "fake_batch_server",
    "fake_clock",
    "pytest_configure",
]

_MARKER = "fake_batch_api"


def pytest_configure(config: pytest.Config) -> None:
    """Register the `fake_batch_api` marker."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**options): options of the fake_batch_api fixture (azure=True, shape='azure', cancel_delay=..., "
        "ranges=False); "
        "api_version='2024-10-21' puts the Azure client fixtures on Azure's dated surface",
    )


def _marked(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(_MARKER)
    return dict(marker.kwargs) if marker is not None else {}


@pytest.fixture
def fake_clock() -> FakeClock:
    """The fake's clock: `fake_clock.advance(seconds)` moves every fake batch through time."""
    from batches_ext.testing import FakeClock  # noqa: PLC0415 - keep the plugin free to load

    return FakeClock()


@pytest.fixture
def fake_batch_api(request: pytest.FixtureRequest, fake_clock: FakeClock) -> Iterator[FakeBatchAPI]:
    """A fresh, empty `FakeBatchAPI` on `fake_clock`, with the options of the test's `fake_batch_api` marker.

    At teardown, faults injected but never used fail the test: the test expected requests that did not happen
    (for faults injected with a `share`, the count is how many requests they hit; inject no more than the test
    sends, or clear them).
    """
    from batches_ext.testing import FakeBatchAPI  # noqa: PLC0415

    options = _marked(request)
    options.pop("api_version", None)  # the clients' option, not the fake's
    api = FakeBatchAPI(clock=fake_clock, **options)
    yield api
    unused = api.pending_faults
    if unused:
        pytest.fail(
            f"{len(unused)} injected fault(s) were never used ({_describe(unused)}); inject only what the test "
            "consumes, or call fake_batch_api.clear_faults()",
            pytrace=False,
        )


def _describe(faults: list[Fault]) -> str:
    """`error, drop`, or `950 x error at share 0.05`: runs of equal faults counted once."""
    parts = []
    for fault, run in itertools.groupby(faults):
        count = sum(1 for _ in run)
        text = fault.kind if fault.share == 1 else f"{fault.kind} at share {fault.share:g}"
        parts.append(text if count == 1 else f"{count} x {text}")
    return ", ".join(parts)


@pytest.fixture
def batches_client(
    request: pytest.FixtureRequest, fake_batch_api: FakeBatchAPI, fake_clock: FakeClock
) -> Iterator[BatchesClient]:
    """A `BatchesClient` wired in-process to `fake_batch_api`; its sleeps advance `fake_clock` instantly.

    When the fake is in Azure mode, an `AzureBatchesClient` with its key (on the v1 surface, or the dated one with
    the marker's `api_version`).
    """
    import httpx  # noqa: PLC0415

    from batches_ext import AzureBatchesClient, BatchesClient  # noqa: PLC0415

    http = httpx.Client(transport=fake_batch_api.transport())
    client = (
        AzureBatchesClient(
            azure_endpoint=fake_batch_api.azure_endpoint, api_key=fake_batch_api.api_key,
            api_version=_marked(request).get("api_version"), http_client=http, sleep=fake_clock.advance,
            clock=fake_clock,
        )
        if fake_batch_api.azure
        else BatchesClient(
            fake_batch_api.api_key, base_url=fake_batch_api.base_url, http_client=http, sleep=fake_clock.advance,
            clock=fake_clock,
        )
    )  # fmt: skip
    with http:
        yield client


@pytest.fixture
def async_batches_client(
    request: pytest.FixtureRequest, fake_batch_api: FakeBatchAPI, fake_clock: FakeClock
) -> AsyncBatchesClient:
    """An `AsyncBatchesClient` wired in-process to `fake_batch_api`; its sleeps advance `fake_clock` instantly.

    In Azure mode, an `AsyncAzureBatchesClient`, as for `batches_client`. A plain (sync) fixture, so it works under
    any async test runner (anyio, pytest-asyncio) or `asyncio.run`; the in-process transport holds no sockets, so
    there is nothing to close on the event loop.
    """
    import httpx  # noqa: PLC0415

    from batches_ext import AsyncAzureBatchesClient, AsyncBatchesClient  # noqa: PLC0415

    async def sleep(seconds: float) -> None:
        fake_clock.advance(seconds)

    http = httpx.AsyncClient(transport=fake_batch_api.transport())
    if fake_batch_api.azure:
        return AsyncAzureBatchesClient(
            azure_endpoint=fake_batch_api.azure_endpoint, api_key=fake_batch_api.api_key,
            api_version=_marked(request).get("api_version"), http_client=http, sleep=sleep, clock=fake_clock,
        )  # fmt: skip
    return AsyncBatchesClient(
        fake_batch_api.api_key, base_url=fake_batch_api.base_url, http_client=http, sleep=sleep, clock=fake_clock
    )


@pytest.fixture
def fake_batch_server(fake_batch_api: FakeBatchAPI) -> Iterator[FakeServer]:
    """`fake_batch_api` served on a real loopback port (`fake_batch_server.base_url`), stopped at teardown.

    At teardown, an exception raised inside the fake while serving fails the test.
    """
    from batches_ext.testing import FakeServer  # noqa: PLC0415

    with FakeServer(fake_batch_api) as server:
        yield server
    if server.errors:
        pytest.fail(f"the fake server failed while serving: {server.errors!r}", pytrace=False)
