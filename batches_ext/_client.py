"""`BatchesClient`: the synchronous client. Its async twin is `_async_client.py`; both share `ClientCore`."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import httpx
from openai_batches_client.client import Client as GeneratedClient

from batches_ext._batch import Batch
from batches_ext._core import ClientCore
from batches_ext._settings import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, NOT_GIVEN, NotGiven, Settings, TimeoutTypes

__all__ = ["BatchesClient"]


class BatchesClient:
    """Cancel and inspect OpenAI batches.

    Args:
        api_key: defaults to `OPENAI_API_KEY`; required.
        base_url: defaults to `OPENAI_BASE_URL`, then `https://api.openai.com/v1`.
        organization: sent as `OpenAI-Organization`; defaults to `OPENAI_ORG_ID`.
        project: sent as `OpenAI-Project`; defaults to `OPENAI_PROJECT_ID`.
        timeout: seconds per request (5 s to connect), an `httpx.Timeout`, or None for none.
        max_retries: retries of connection errors, timeouts, 408, 409, 429 and 5xx; 0 disables.
        http_client: your own `httpx.Client` (proxies, mTLS); it is not closed by `close()`.
        sleep: how to wait between attempts and polls (a test hook; default `time.sleep`).
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
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = Settings(
            api_key, base_url=base_url, organization=organization, project=project, timeout=timeout,
            max_retries=max_retries,
        )  # fmt: skip
        self._core = ClientCore(settings)
        self._generated = GeneratedClient(base_url=settings.base_url, timeout=settings.timeout)
        if http_client is not None:
            if not isinstance(http_client, httpx.Client):
                raise TypeError(f"http_client must be an httpx.Client, got {type(http_client).__name__}")
            self._generated.set_httpx_client(http_client)
        self._owns_http = http_client is None
        self._sleep = sleep
        self._clock = clock

    def cancel(self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Batch:
        """Cancel a batch; it moves to `cancelling`, then (within about 10 minutes) to `cancelled`.

        Raises:
            ValueError: `batch_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries (see `batches_ext.errors`).

        """
        http = self._generated.get_httpx_client()
        return self._core.parse_batch(self._send(self._core.cancel_request(http, batch_id, timeout)))

    def retrieve(self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Batch:
        """Fetch a batch's current state.

        Raises:
            ValueError: `batch_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries.

        """
        http = self._generated.get_httpx_client()
        return self._core.parse_batch(self._send(self._core.retrieve_request(http, batch_id, timeout)))

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send with retries; return a successful response or raise the typed error."""
        http = self._generated.get_httpx_client()
        retry = self._core.retry_state(request)
        while True:
            try:
                response = http.send(request, stream=stream)
            except httpx.RequestError as exc:
                self._sleep(retry.after_exception(exc))
                continue
            delay = retry.after_response(response)
            if delay is None:
                break
            response.close()
            self._sleep(delay)
        if response.is_error:
            response.read()
            response.close()
            raise self._core.status_error(response)
        return response

    def close(self) -> None:
        """Close the connection pool (unless it belongs to an `http_client` you passed in)."""
        if self._owns_http:
            self._generated.get_httpx_client().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        settings = self._core.settings
        return f"BatchesClient(base_url={settings.base_url!r}, max_retries={settings.max_retries})"
