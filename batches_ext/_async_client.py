"""`AsyncBatchesClient`: the async client, GENERATED from `_client.py` by scripts/devtools/unasync.py."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Self, Unpack

import httpx

from batches_ext import errors
from batches_ext._batch import Batch
from batches_ext._core import ClientCore, default_async_sleep, owned_async_httpx_args, stream_error
from batches_ext._results import BatchResult, CancelledBatch, parse_result_line
from batches_ext._retry import is_transient
from batches_ext._settings import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, NOT_GIVEN, NotGiven, Settings, TimeoutTypes
from batches_ext._waiting import DEFAULT_WAIT_TIMEOUT_S, Poller, WaitOptions, poll_after_seconds

__all__ = ["AsyncBatchesClient"]


class AsyncBatchesClient:
    """Cancel and inspect OpenAI batches, with coroutines.

    Args:
        api_key: defaults to `OPENAI_API_KEY`; required.
        base_url: defaults to `OPENAI_BASE_URL`, then `https://api.openai.com/v1`.
        organization: sent as `OpenAI-Organization`; defaults to `OPENAI_ORG_ID`.
        project: sent as `OpenAI-Project`; defaults to `OPENAI_PROJECT_ID`.
        timeout: seconds per request (5 s to connect), an `httpx.Timeout`, or None for none.
        max_retries: retries of connection errors, timeouts, 408, 409, 429 and 5xx; 0 disables.
        http_client: your own `httpx.AsyncClient` (proxies, mTLS); it is not closed by `aclose()`.
        sleep: how to wait between attempts and polls (a test hook; default `asyncio.sleep`).
        clock: a monotonic clock for deadlines (a test hook; default `time.monotonic`).

    Raises:
        ConfigurationError: no API key, or an invalid setting.

    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = Settings(
            api_key, base_url=base_url, organization=organization, project=project, timeout=timeout,
            max_retries=max_retries,
        )  # fmt: skip
        # set_async_httpx_client() drops the generated client's own headers: a user's client gets ours per request.
        self._core = ClientCore(settings, users_http_client=http_client is not None)
        from openai_batches_client.client import Client as GeneratedClient  # noqa: PLC0415 - import time, see _core

        self._generated = GeneratedClient(
            base_url=settings.base_url,
            timeout=settings.timeout,
            httpx_args=owned_async_httpx_args() if http_client is None else {},
        )
        if http_client is not None:
            if not isinstance(http_client, httpx.AsyncClient):
                raise TypeError(f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__}")
            self._generated.set_async_httpx_client(http_client)
        self._http = http_client
        self._owns_http = http_client is None
        self._sleep = sleep if sleep is not None else default_async_sleep
        self._clock = clock

    async def cancel(self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Batch:
        """Cancel a batch; it moves to `cancelling`, then (within about 10 minutes) to `cancelled`.

        Raises:
            ValueError: `batch_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries (see `batches_ext.errors`).

        """
        http = self._http_client()
        return self._core.parse_batch(await self._send(self._core.cancel_request(http, batch_id, timeout)))

    async def retrieve(self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Batch:
        """Fetch a batch's current state.

        Raises:
            ValueError: `batch_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries.

        """
        http = self._http_client()
        return self._core.parse_batch(await self._send(self._core.retrieve_request(http, batch_id, timeout)))

    async def wait(
        self,
        batch_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        poll_interval: float | None = None,
        on_update: Callable[[Batch], object] | None = None,
    ) -> Batch:
        """Poll a batch until it is terminal (completed, failed, expired or cancelled) and return it.

        Args:
            batch_id: the batch to watch.
            timeout: the deadline in seconds.
            poll_interval: a fixed interval; by default 1 s growing to 10 s. A server `openai-poll-after-ms`
                header wins over both.
            on_update: called with the batch whenever its status or request counts change (and on the first poll).

        Raises:
            errors.WaitTimeoutError: past the deadline; `.batch` is the last batch seen.
            errors.APIError: a poll failed for good (404, 401, ...). Transient failures do not end the wait.
        """
        poller = Poller(batch_id, timeout=timeout, poll_interval=poll_interval, on_update=on_update, clock=self._clock)
        while True:
            hint = None
            try:
                response = await self._send(self._core.retrieve_request(self._http_client(), batch_id, NOT_GIVEN))
            except errors.APIError as exc:
                if not is_transient(exc):
                    raise
                poller.observe_failure(exc)
            else:
                hint = poll_after_seconds(response.headers.get("openai-poll-after-ms"))
                if poller.observe(self._core.parse_batch(response)):
                    assert poller.batch is not None  # noqa: S101 - observe() just stored it
                    return poller.batch
            await self._sleep(poller.next_delay(hint))

    async def cancel_and_wait(self, batch_id: str, **wait_options: Unpack[WaitOptions]) -> Batch:
        """Cancel a batch and wait until it is `cancelled` (or otherwise terminal); return the final batch.

        A batch that is already `cancelling` is waited for; one that already finished is returned as it is.
        `wait_options` (`timeout`, `poll_interval`, `on_update`) and the errors are those of `wait`.
        """
        try:
            batch = await self.cancel(batch_id)
        except (errors.BadRequestError, errors.ConflictError) as exc:
            # Some servers refuse to cancel a batch that is already cancelling or finished (shared/ANCHORS.md):
            # not an error here, as long as the batch really is past the point of cancelling.
            batch = await self.retrieve(batch_id)
            if batch.is_cancellable:
                raise exc from None
        if batch.is_terminal:
            return batch
        return await self.wait(batch_id, **wait_options)

    async def iter_results(self, batch_or_id: Batch | str, *, errors: bool = False) -> AsyncIterator[BatchResult]:
        """Stream a batch's output file (or, with `errors=True`, its error file), one record per line.

        Memory stays bounded whatever the file's size. A batch without such a file yields nothing.

        Raises:
            errors.ResultsFormatError: a line is not a batch output record (the error names the line).
            errors.APIError: the download failed.
        """
        batch = batch_or_id if isinstance(batch_or_id, Batch) else await self.retrieve(batch_or_id)
        file_id = batch.error_file_id if errors else batch.output_file_id
        if file_id is None:
            return
        http = self._http_client()
        response = await self._send(self._core.download_request(http, file_id, NOT_GIVEN), stream=True)
        number = 0
        try:
            async for line in response.aiter_lines():
                number += 1
                if line.strip():  # a blank line (e.g. a trailing newline) holds no record
                    yield parse_result_line(line, number, file_id)
        except httpx.RequestError as exc:
            raise stream_error(exc, response.request) from exc
        finally:
            await response.aclose()

    async def cancel_and_collect(self, batch_id: str, **wait_options: Unpack[WaitOptions]) -> CancelledBatch:
        """Stop a batch and return what it finished: `(batch, results, errors)`.

        Cancels, waits until the batch is terminal (see `cancel_and_wait`, which takes the same `wait_options`),
        then reads its output and error files.
        """
        batch = await self.cancel_and_wait(batch_id, **wait_options)
        return CancelledBatch(
            batch,
            [result async for result in self.iter_results(batch)],
            [result async for result in self.iter_results(batch, errors=True)],
        )

    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send with retries; return a successful response or raise the typed error."""
        http = self._http_client()
        retry = self._core.retry_state(request)
        while True:
            try:
                response = await http.send(request, stream=stream)
            except httpx.RequestError as exc:
                await self._sleep(retry.after_exception(exc))
                continue
            delay = retry.after_response(response)
            if delay is None:
                break
            await response.aclose()
            await self._sleep(delay)
        if response.is_error:
            await response.aread()
            await response.aclose()
            raise self._core.status_error(response)
        return response

    def _http_client(self) -> httpx.AsyncClient:
        """The httpx client; ours is built by the generated client on first use, with our headers set once."""
        http = self._http
        if http is None:
            http = self._http = self._generated.get_async_httpx_client()
            http.headers.update(self._core.settings.headers)  # merged by httpx, not rebuilt per request (~12 µs)
        return http

    async def aclose(self) -> None:
        """Close the connection pool (unless it belongs to an `http_client` you passed in)."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        settings = self._core.settings
        return f"AsyncBatchesClient(base_url={settings.base_url!r}, max_retries={settings.max_retries})"
