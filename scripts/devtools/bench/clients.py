"""The three clients under test, each behind the same small interface, used as their users would use them.

- `batches_ext`: `BatchesClient(...).cancel(id)`, parsing with `json.loads` + `Batch.from_dict`.
- `openai`: the official SDK, `OpenAI(...).batches.cancel(id)`, parsing as the SDK does by default
  (`construct_type`, non-validating: `_strict_response_validation` is off).
- `httpx`: bare `httpx` + `json.loads`, the floor: what any Python client on httpx must at least pay.

Each client module is imported only inside the functions that need it, so a worker process that measures one
client never loads the others.
"""

# ruff: noqa: PLC0415 - the clients are imported lazily on purpose (see above): a worker loads only its own

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, contextmanager
from typing import Any, Final

from devtools.bench.server import BATCH_PAYLOAD

CLIENTS: Final = ("batches_ext", "openai", "httpx")
API_KEY: Final = "sk-bench-0000000000000000"
BATCH_ID: Final = "batch_abc123"
FILE_ID: Final = "file-bench-results"
IMPORTS: Final = {"batches_ext": "import batches_ext", "openai": "import openai", "httpx": "import httpx, json"}
# httpx 0.28 imports its command-line client (click, rich, pygments: ~45 ms) whenever those happen to be installed, as
# they are in the dev venv; `pip install batches-ext` does not install them. Mapping them to None in sys.modules
# makes their import fail at once, as it does in a user's environment. (openai's httpx2 imports its CLI lazily.)
WITHOUT_HTTPX_CLI: Final = "import sys; sys.modules.update(dict.fromkeys(('click', 'rich', 'pygments'))); "

SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]


# --- one cancel, sync -------------------------------------------------------------------------------------------


def sync_cancel(name: str, base_url: str) -> AbstractContextManager[SyncCall]:
    """A context manager yielding a zero-argument `cancel(BATCH_ID)` on one keep-alive client."""
    return {"batches_ext": _ext_sync, "openai": _openai_sync, "httpx": _httpx_sync}[name](base_url)


@contextmanager
def _ext_sync(base_url: str) -> Iterator[SyncCall]:
    from batches_ext import BatchesClient

    with BatchesClient(api_key=API_KEY, base_url=base_url) as client:
        yield lambda: client.cancel(BATCH_ID)


@contextmanager
def _openai_sync(base_url: str) -> Iterator[SyncCall]:
    import openai

    with openai.OpenAI(api_key=API_KEY, base_url=base_url) as client:
        yield lambda: client.batches.cancel(BATCH_ID)


@contextmanager
def _httpx_sync(base_url: str) -> Iterator[SyncCall]:
    import httpx

    url = f"{base_url}/batches/{BATCH_ID}/cancel"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client() as client:
        yield lambda: json.loads(client.post(url, headers=headers).content)


# --- one cancel, async ------------------------------------------------------------------------------------------


def async_cancel(name: str, base_url: str, concurrency: int) -> AbstractAsyncContextManager[AsyncCall]:
    """An async context manager yielding a zero-argument coroutine function that cancels `BATCH_ID`."""
    return {"batches_ext": _ext_async, "openai": _openai_async, "httpx": _httpx_async}[name](base_url, concurrency)


@asynccontextmanager
async def _ext_async(base_url: str, concurrency: int) -> AsyncIterator[AsyncCall]:
    from batches_ext import AsyncBatchesClient

    del concurrency  # the client's own default pool, as users get it
    async with AsyncBatchesClient(api_key=API_KEY, base_url=base_url) as client:
        yield lambda: client.cancel(BATCH_ID)


@asynccontextmanager
async def _openai_async(base_url: str, concurrency: int) -> AsyncIterator[AsyncCall]:
    import openai

    del concurrency  # the SDK's own default pool (1000 connections, 100 kept alive)
    async with openai.AsyncOpenAI(api_key=API_KEY, base_url=base_url) as client:
        yield lambda: client.batches.cancel(BATCH_ID)


@asynccontextmanager
async def _httpx_async(base_url: str, concurrency: int) -> AsyncIterator[AsyncCall]:
    import httpx

    del concurrency  # httpx's default pool, the one batches_ext gets: the ratio then isolates the layer's own cost
    url = f"{base_url}/batches/{BATCH_ID}/cancel"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient() as client:

        async def call() -> object:
            return json.loads((await client.post(url, headers=headers)).content)

        yield call


# --- parsing: wire bytes to the object users get ------------------------------------------------------------------


def parser(name: str) -> Callable[[bytes], object]:
    """The function that turns a response body into what the client hands its user."""
    if name == "batches_ext":
        from batches_ext import Batch

        return lambda raw: Batch.from_dict(json.loads(raw))
    if name == "openai":
        from openai._models import construct_type
        from openai.types import Batch as OpenAIBatch

        # What `SyncAPIClient._process_response_data` does for `cast_to=Batch` with strict validation off.
        return lambda raw: construct_type(type_=OpenAIBatch, value=json.loads(raw))
    if name == "httpx":
        return json.loads
    raise ValueError(f"unknown client {name!r}")


# --- iterating a results file ---------------------------------------------------------------------------------


def results_available(name: str) -> bool:
    """Whether the client can iterate a results file line by line (batches_ext's `iter_results` is new)."""
    if name != "batches_ext":
        return True
    from batches_ext import BatchesClient

    return hasattr(BatchesClient, "iter_results")


def preload(name: str, base_url: str) -> None:
    """Import the client and build (then close) one instance, so a memory baseline taken after this is fair."""
    if name == "batches_ext":
        from batches_ext import BatchesClient

        BatchesClient(api_key=API_KEY, base_url=base_url).close()
    elif name == "openai":
        import openai

        openai.OpenAI(api_key=API_KEY, base_url=base_url).close()
    else:
        import httpx

        httpx.Client().close()


def iter_results(name: str, base_url: str) -> Iterator[Any]:
    """Yield one record per line of the server's results file, streaming, as each client's user would."""
    if name == "batches_ext":
        from batches_ext import Batch, BatchesClient

        # A finished batch whose output file is the one to read: no retrieve round trip is needed.
        finished = Batch.from_dict({**BATCH_PAYLOAD, "status": "cancelled", "output_file_id": FILE_ID})
        with BatchesClient(api_key=API_KEY, base_url=base_url) as client:
            yield from client.iter_results(finished)  # type: ignore[attr-defined]
    elif name == "openai":
        import openai

        with (
            openai.OpenAI(api_key=API_KEY, base_url=base_url) as client,
            client.files.with_streaming_response.content(FILE_ID) as response,
        ):
            for line in response.iter_lines():
                if line:
                    yield json.loads(line)
    elif name == "httpx":
        import httpx

        headers = {"Authorization": f"Bearer {API_KEY}"}
        with (
            httpx.Client() as client,
            client.stream("GET", f"{base_url}/files/{FILE_ID}/content", headers=headers) as r,
        ):
            for line in r.iter_lines():
                if line:
                    yield json.loads(line)
    else:
        raise ValueError(f"unknown client {name!r}")
