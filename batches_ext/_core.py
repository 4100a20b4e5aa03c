"""Everything the sync and async clients share except the lines that perform I/O.

Requests are built from the generated endpoint modules (`_get_kwargs`: method and percent-encoded path), so the
spec stays the source of truth for what is called. The clients send them themselves instead of calling the
generated `sync_detailed`, because that helper turns the status into `HTTPStatus(code)` (a `ValueError` on codes
like 520), returns `None` on undocumented statuses, cannot stream a file, and knows no retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from batches_ext._batch import Batch
from batches_ext._bulk import MAX_CONCURRENCY
from batches_ext._deadline import Deadline
from batches_ext._ids import check_id
from batches_ext._json import JSONDepthError, loads
from batches_ext._page import BatchPage
from batches_ext._retry import GROUP_RATE_LIMIT_RETRIES, RetryState, undecodable_body
from batches_ext._settings import NOT_GIVEN, NotGiven, Settings, TimeoutTypes, as_timeout
from batches_ext.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    make_status_error,
)

if TYPE_CHECKING:
    from httpx._client import UseClientDefault  # the type of httpx.USE_CLIENT_DEFAULT, not exported by httpx

__all__ = [
    "ClientCore",
    "default_async_sleep",
    "default_sleep",
    "owned_async_httpx_args",
    "owned_httpx_args",
    "stream_error",
    "with_body",
]

_HTTP = httpx.Client | httpx.AsyncClient


default_sleep = time.sleep
_MAX_CONNECTIONS = 100  # httpx's own default: what one client may open at once


def owned_httpx_args() -> dict[str, Any]:
    """Extra arguments for the httpx.Client the sync client builds for itself: a kept-alive connection per worker.

    httpx keeps 20 idle connections by default, so `cancel_many(concurrency=64)` closed and reopened connections
    all along (27 to 781 connections for 1,070 requests on the fake; against the API each is a TLS handshake).
    """
    return {"limits": httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=MAX_CONCURRENCY)}


def owned_async_httpx_args() -> dict[str, Any]:
    """Extra arguments for the httpx.AsyncClient the async client builds: a sharded pool (see `_pool.py`)."""
    from batches_ext._pool import ShardedAsyncTransport  # noqa: PLC0415 - sync users never need it

    return {"transport": ShardedAsyncTransport()}


async def default_async_sleep(seconds: float) -> None:
    """`asyncio.sleep`, imported on first use: `import batches_ext` stays ~10 ms lighter for sync users."""
    import asyncio  # noqa: PLC0415 - deferred on purpose (import time is a product feature)

    await asyncio.sleep(seconds)


class ClientCore:
    """Settings plus request building and response parsing for one client."""

    __slots__ = (
        "_cancel_kwargs",
        "_download_kwargs",
        "_list_kwargs",
        "_retrieve_kwargs",
        "default_timeout",
        "now",
        "request_headers",
        "settings",
    )

    def __init__(self, settings: Settings, *, users_http_client: bool, now: Callable[[], float] = time.time) -> None:
        """Hold `settings`; with `users_http_client`, every request carries our headers and timeout.

        Otherwise the client's own httpx client already has them (set once, not merged per request: ~15 µs a call).
        """
        self.settings = settings
        self.now = now
        self.request_headers = settings.headers if users_http_client else None
        self.default_timeout: httpx.Timeout | UseClientDefault = (
            settings.timeout if users_http_client else httpx.USE_CLIENT_DEFAULT
        )
        # The generated endpoint definitions (method, percent-encoded path), imported with the first client rather
        # than with the package: the generated code and attrs cost ~25 ms of import time.
        from openai_batches_client.api.batch import cancel_batch, list_batches, retrieve_batch  # noqa: PLC0415
        from openai_batches_client.api.files import download_file  # noqa: PLC0415

        self._cancel_kwargs = cancel_batch._get_kwargs
        self._retrieve_kwargs = retrieve_batch._get_kwargs
        self._download_kwargs = download_file._get_kwargs
        self._list_kwargs = list_batches._get_kwargs

    def cancel_request(self, http: _HTTP, batch_id: str, timeout: TimeoutTypes | NotGiven) -> httpx.Request:
        """The `cancelBatch` request for `batch_id` (validated first: nothing is sent for a bad id)."""
        kwargs = self._cancel_kwargs(batch_id=check_id(batch_id))
        return self.build(http, kwargs, timeout)

    def retrieve_request(self, http: _HTTP, batch_id: str, timeout: TimeoutTypes | NotGiven) -> httpx.Request:
        """The `retrieveBatch` request for `batch_id`."""
        kwargs = self._retrieve_kwargs(batch_id=check_id(batch_id))
        return self.build(http, kwargs, timeout)

    def list_request(self, http: _HTTP, after: str | None, limit: int | None) -> httpx.Request:
        """The `listBatches` request for the page after `after` (None: the first); `limit` None: the server's size.

        The values were checked by `_listing.Pager`; None leaves a parameter out (the generated code drops it).
        """
        # None, not the generated UNSET: the generated code leaves out both, and its default `limit=20` is not ours.
        params: dict[str, Any] = {"after": after, "limit": limit}
        return self.build(http, self._list_kwargs(**params), NOT_GIVEN)

    def download_request(self, http: _HTTP, file_id: str, timeout: TimeoutTypes | NotGiven) -> httpx.Request:
        """The `downloadFile` request for `file_id`.

        The id always comes from a batch the server sent (its input, output or error file): one that cannot be
        requested is the server's fault, an `APIResponseValidationError`, not the caller's `ValueError`.
        """
        try:
            checked = check_id(file_id, "file_id")
        except ValueError as exc:
            raise APIResponseValidationError(f"the batch names a file that cannot be requested: {exc}") from None
        kwargs = self._download_kwargs(file_id=checked)
        request = self.build(http, kwargs, timeout)
        request.headers["Accept"] = "application/octet-stream, application/jsonl, */*"
        request.headers["Accept-Encoding"] = "identity"  # byte offsets (Range, Content-Length) count stored bytes
        return request

    def build(
        self, http: _HTTP, kwargs: dict[str, Any], timeout: TimeoutTypes | NotGiven, **extra: Any
    ) -> httpx.Request:
        """The request for a generated operation's `_get_kwargs`, addressed as the provider says.

        Every request of every operation is built here: the provider's base URL (its path kept) and query (Azure's
        `api-version`, `default_query`) go on each. `extra` is passed to httpx (`json=`, `files=`). A per-attempt
        credential is not on it yet: the clients attach it before each attempt (see `_providers`).
        """
        resolved = self.default_timeout if isinstance(timeout, NotGiven) else as_timeout(timeout)
        provider = self.settings.provider
        return http.build_request(
            kwargs["method"],
            provider.url(kwargs["url"]),
            params=provider.params(kwargs.get("params")),
            headers=self.request_headers,
            timeout=resolved,
            **extra,
        )

    def retry_state(
        self, request: httpx.Request, deadline: Deadline | None = None, *, grouped: bool = False
    ) -> RetryState:
        """A fresh retry budget for one logical request.

        With `deadline`, every attempt and sleep ends before it; `grouped`: one of a rate-gated group's (see `_retry`).
        """
        max_retries = self.settings.max_retries
        extra = GROUP_RATE_LIMIT_RETRIES if grouped and max_retries else 0  # max_retries=0 turns every retry off
        return RetryState(request, max_retries, self.now, rate_limit_retries=extra, deadline=deadline)

    def status_error(self, response: httpx.Response) -> APIStatusError:
        """The typed error for a non-2xx response whose body has been read; the API key is scrubbed from it.

        Redirects are not followed (a redirected download would otherwise look like an empty file, and a redirect
        may point at another host): a 3xx is an `APIStatusError` naming the status and its `Location`.
        """
        if response.status_code < 400:
            location = self.settings.redact(response.headers.get("location", "(none)"))
            return APIStatusError(
                f"{response.status_code} {response.reason_phrase or 'Redirect'}: the API redirected "
                f"{response.request.method} {response.request.url.path} to {location!r}; redirects are not followed",
                response=response,
            )
        return make_status_error(self._scrubbed(response), redact=self.settings.redact)

    def _scrubbed(self, response: httpx.Response) -> httpx.Response:
        """`response`, or a copy whose body no longer holds a credential (a 401 echoes the key masked)."""
        text = response.content.decode("utf-8", "surrogateescape")  # any bytes, back unchanged when untouched
        scrubbed = self.settings.redact(text)
        return response if scrubbed == text else with_body(response, scrubbed.encode("utf-8", "surrogateescape"))

    def parse_batch(self, response: httpx.Response) -> Batch:
        """The Batch in a 2xx response.

        Raises:
            APIResponseValidationError: the body is not JSON, or not a batch object.

        """
        data = _decode(response)
        try:
            return Batch.from_dict(data, request_id=response.headers.get("x-request-id"))
        except APIResponseValidationError as exc:
            raise APIResponseValidationError(exc.message, response=response, body=data) from None

    def parse_page(self, response: httpx.Response) -> BatchPage:
        """The page of batches in a 2xx `listBatches` response (OpenAI's envelope, Azure's, Groq's).

        Raises:
            APIResponseValidationError: the body is not JSON, or not a list envelope (no `data` list).

        """
        data = _decode(response)
        try:
            return BatchPage.from_dict(data, request_id=response.headers.get("x-request-id"))
        except APIResponseValidationError as exc:
            raise APIResponseValidationError(exc.message, response=response, body=data) from None


def _decode(response: httpx.Response) -> object:
    """The JSON body of a 2xx response.

    Raises:
        APIResponseValidationError: the body is not JSON.

    """
    try:
        return loads(response.content)
    except ValueError as exc:
        snippet = response.content[:80].decode("utf-8", "replace")
        problem = str(exc) if isinstance(exc, JSONDepthError) else "not JSON"
        raise APIResponseValidationError(
            f"response body is {problem} ({response.headers.get('content-type', 'no content-type')}): {snippet!r}",
            response=response,
        ) from None


def with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """A closed copy of `response` holding `body`, its already decoded content (so no `Content-Encoding`)."""
    headers = [(name, value) for name, value in response.headers.multi_items() if name != "content-encoding"]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
    )


def stream_error(exc: httpx.RequestError, request: httpx.Request) -> APIError:
    """The error for a failure in the middle of reading a streamed body (not retried: part was consumed)."""
    if isinstance(exc, httpx.DecodingError):
        return undecodable_body(exc, request)
    return APIConnectionError(
        f"Connection lost while reading {request.method} {request.url.path}: {type(exc).__name__}: {exc}",
        request=request,
    )
