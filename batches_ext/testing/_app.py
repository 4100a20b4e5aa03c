"""`FakeBatchAPI`: the in-memory Batch API; routes a request to its reply, checks the key, logs, injects faults.

It speaks the wire format only (paths, headers, JSON bytes) and never imports the batches_ext client, so a test
that passes against it says something about the client, not about shared code.
"""

from __future__ import annotations

import hmac
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple
from urllib.parse import parse_qsl, unquote

from batches_ext.testing import _lifecycle_routes as lifecycle
from batches_ext.testing import _shapes
from batches_ext.testing._azure import DEFAULT_TOKEN_LIFETIME_S, AzureFront
from batches_ext.testing._faults import Fault, FaultQueue, fault_reply
from batches_ext.testing._requests import Responder
from batches_ext.testing._store import BatchStore, NotCancellableError, UnknownCursorError
from batches_ext.testing._wire import FileBody, Reply, binary_reply, error_reply, json_reply, mask_key

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CANCEL_DELAY_S",
    "DEFAULT_REQUEST_RATE",
    "FakeBatchAPI",
    "RecordedRequest",
    "SentHeaders",
]

DEFAULT_API_KEY: Final = "sk-fake-key"  # not a secret: documented, and only ever accepted by this fake
DEFAULT_REQUEST_RATE: Final = 10.0  # requests a created batch finishes per second of the fake's clock
DEFAULT_CANCEL_DELAY_S: Final = 5.0  # short enough for a demo; the real API takes "up to 10 minutes" (seeds)
_KEYS_URL: Final = "https://platform.openai.com/account/api-keys"
# OpenAI's answers when the Authorization header is missing or not `Bearer <key>`, and when the key is wrong.
_NO_KEY: Final = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
    f"(i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from {_KEYS_URL}."
)
_WRONG_KEY: Final = "Incorrect API key provided: {masked}. You can find your API key at " + _KEYS_URL + "."
# `GET /batches`: page sizes (OpenAI's documented range and default, seeds/ and shared/PROVIDERS.md "Listing").
LIST_LIMIT_DEFAULT: Final = 20
LIST_LIMIT_MAX: Final = 100
_RANGE: Final = re.compile(r"bytes=(\d+)-(\d*)")


class SentHeaders(dict[str, str]):
    """A request's headers as the fake received them; the repr hides credentials (the dict holds them)."""

    _HIDDEN: ClassVar[frozenset[str]] = frozenset({"authorization", "api-key", "proxy-authorization", "cookie"})

    def __repr__(self) -> str:
        shown = {name: "[hidden]" if name in self._HIDDEN else value for name, value in self.items()}
        return f"SentHeaders({shown!r})"


class RecordedRequest(NamedTuple):
    """A request the fake received: the method and the path as sent (percent-encoded, with any query)."""

    method: str
    path: str


class FakeBatchAPI:
    """An in-memory OpenAI Batch API with the real lifecycle, for tests and demos; no network, no real key.

    Serve it in-process with `transport()` or over a socket with `FakeServer`. Routes, under `/v1` (in Azure mode
    under `/openai/v1`, and under `/openai` with `?api-version=...`):
    `GET /batches` (newest first; `limit` 1-100, default 20; `after`; `has_more`, `first_id`, `last_id`),
    `POST /batches/{id}/cancel`, `GET /batches/{id}`, `POST /batches`, `POST /files`, `GET` and `DELETE
    /files/{id}`, `GET /files/{id}/content`; anything else is a 404.

    A batch created through the API (upload a `.jsonl` input, then `POST /batches`) runs it on the clock: input
    validated as OpenAI does (a `failed` batch names the bad lines), `validating` → `in_progress` with requests
    finishing at `request_rate` → `finalizing` → `completed`, or `expired` / `cancelled` with `batch_expired` /
    `batch_cancelled` lines for what never ran (see `_store.py`).

    Args:
        api_key: the only key accepted (as `Authorization: Bearer <key>`); never shown in replies or reprs.
        cancel_delay: seconds, on `clock`, that a cancelled batch stays `cancelling` before it is `cancelled`.
        clock: unix time in seconds; defaults to `time.time`. Pass a `FakeClock` to control time in tests.
        request_rate: requests per second a created batch finishes.
        responder: decides each request's answer: called with a `FakeRequest`, returns a `FakeResponse`
            (status code and body; a non-2xx one is a failed request). Default: a deterministic success per endpoint.
        azure: act as Azure OpenAI: accept `api_key` only as the `api-key` header (or a token from
            `issue_ad_token()` as `Authorization: Bearer`), serve Azure's paths, answer 401 and 404 in Azure's shape.
        shape: answer in another provider's shape: a preset (`"azure"`, `"zhipu"`, `"groq"`, `"cerebras"`), a
            quirk (`"iso_timestamps"`, `"upper_status"`, ...; `FakeBatchAPI.shape_quirks` lists them), or several.
        ranges: file downloads honour `Range: bytes=N-` with a 206 (the default), or ignore it and send the whole
            file (False); settable later as `fake.ranges`.

    Raises:
        ValueError: `api_key` is empty, `cancel_delay` is negative or not finite, or `shape` is unknown.
        TypeError: `cancel_delay` is not a number.

    """

    base_url: ClassVar[str] = "http://batches-fake.invalid/v1"  # for clients on transport(); never resolvable
    azure_endpoint: ClassVar[str] = "http://batches-fake.invalid"  # the same, for Azure clients in Azure mode
    shape_quirks: ClassVar[Mapping[str, str]] = _shapes.QUIRKS
    """Each quirk a `shape` may name, and what it changes."""
    shape_presets: ClassVar[Mapping[str, frozenset[str]]] = _shapes.PRESETS
    """Each provider a `shape` may name, and its quirks (the differences seen in what that provider sends)."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        cancel_delay: float = DEFAULT_CANCEL_DELAY_S,
        clock: Callable[[], float] | None = None,
        request_rate: float = DEFAULT_REQUEST_RATE,
        responder: Responder | None = None,
        azure: bool = False,
        shape: str | Iterable[str] | None = None,
        ranges: bool = True,
    ) -> None:
        if isinstance(request_rate, bool) or not isinstance(request_rate, int | float):
            raise TypeError(f"request_rate must be a number of requests per second, got {request_rate!r}")
        if not math.isfinite(request_rate) or request_rate <= 0:
            raise ValueError(f"request_rate must be finite and positive, got {request_rate!r}")
        if responder is not None and not callable(responder):
            raise TypeError(f"responder must be callable, got {responder!r}")
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("api_key must be a non-empty str")
        if isinstance(cancel_delay, bool) or not isinstance(cancel_delay, int | float):
            raise TypeError(f"cancel_delay must be a number of seconds, got {cancel_delay!r}")
        if not math.isfinite(cancel_delay) or cancel_delay < 0:
            raise ValueError(f"cancel_delay must be finite and not negative, got {cancel_delay!r}")
        self._api_key = api_key
        self._cancel_delay = float(cancel_delay)
        self._clock: Callable[[], float] = clock if clock is not None else time.time
        self._store = BatchStore(self._clock, self._cancel_delay, request_rate=float(request_rate), responder=responder)
        self._faults = FaultQueue()
        self._log_lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._request_headers: list[SentHeaders] = []
        self._azure = AzureFront(api_key, self._clock) if azure else None
        self._shape = _shapes.check_shape(shape)
        self.ranges = bool(ranges)
        """Whether file downloads honour `Range: bytes=N-` (a 206); when False they ignore it (the whole file, 200)."""

    # --- configuration -------------------------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The key clients must send (to wire a client to the fake; it is never echoed back)."""
        return self._api_key

    @property
    def cancel_delay(self) -> float:
        """Seconds a batch stays `cancelling`."""
        return self._cancel_delay

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the lifecycle runs on."""
        return self._clock

    @property
    def azure(self) -> bool:
        """Whether the fake acts as Azure OpenAI (see the class docstring)."""
        return self._azure is not None

    @property
    def shape(self) -> frozenset[str]:
        """The provider quirks the fake answers with (empty: OpenAI's shape). Set it to change them at any time."""
        return self._shape

    @shape.setter
    def shape(self, shape: str | Iterable[str] | None) -> None:
        self._shape = _shapes.check_shape(shape)

    def issue_ad_token(self, lifetime: float = DEFAULT_TOKEN_LIFETIME_S) -> str:
        """A new Microsoft Entra ID token that Azure mode accepts as `Bearer` for `lifetime` seconds on the clock.

        Use it as an Azure client's token provider (`azure_ad_token_provider=fake.issue_ad_token`) or let it expire
        to see a 401.

        Raises:
            RuntimeError: the fake is not in Azure mode.

        """
        if self._azure is None:
            raise RuntimeError("issue_ad_token() needs FakeBatchAPI(azure=True)")
        return self._azure.issue_token(lifetime)

    # --- seeding and inspection ----------------------------------------------------------------------------------

    def add_batch(
        self,
        batch_id: str | None = None,
        *,
        status: str = "in_progress",
        total: int = 100,
        completed: int = 0,
        failed: int = 0,
        progress_per_poll: int = 0,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a batch in any status, including ones the API may add later, and return its wire JSON.

        Timestamps fit the status (created_at, in_progress_at, ..., expires_at = created_at + 24 h), ending now on
        the clock. A `completed`, `cancelled` or `expired` batch gets its output and error files at once.

        Args:
            batch_id: the id; a random `batch_...` id when None.
            status: any string; unknown statuses are kept verbatim and never change.
            total: `request_counts.total`.
            completed: `request_counts.completed` (requests request-1 ... request-N of the output file).
            failed: `request_counts.failed` (the requests after those, in the error file).
            progress_per_poll: when > 0, each API read moves the batch one step: validating → in_progress,
                then `completed += progress_per_poll` until all requests are done, → finalizing → completed.
            **fields: wire fields to set or override verbatim (`metadata`, `model`, `created_at`, `usage`,
                `output_file_id`, fields the API does not have yet, ...).

        Returns:
            The batch object as the API would send it.

        Raises:
            ValueError: a bad count, an empty id or status, `id` in `fields`, or a batch with this id exists.

        """
        return self._store.add(
            batch_id,
            status=status,
            total=total,
            completed=completed,
            failed=failed,
            progress_per_poll=progress_per_poll,
            fields=fields,
        )

    def get_batch(self, batch_id: str) -> dict[str, Any]:
        """The batch's wire JSON now (time-driven transitions applied; progress_per_poll is not).

        Raises:
            KeyError: no batch has this id.

        """
        batch = self._store.get(batch_id)
        if batch is None:
            raise KeyError(f"no batch with id {batch_id!r}")
        return batch

    def remove_batch(self, batch_id: str) -> None:
        """Forget a batch, as if it vanished: requests for it get a 404.

        Raises:
            KeyError: no batch has this id.

        """
        if not self._store.remove(batch_id):
            raise KeyError(f"no batch with id {batch_id!r}")

    def add_file(self, file_id: str, content: bytes | os.PathLike[str]) -> None:
        """Store (or replace) a file that `GET /v1/files/{file_id}/content` returns.

        `content` is the bytes, or the path of a file on disk: that file is served from disk in pieces, never held
        in memory (a results file of any size; it must stay in place while the fake serves it).

        Raises:
            ValueError: `file_id` is empty, or the path is not a file.
            TypeError: `content` is neither bytes nor a path.

        """
        if not isinstance(file_id, str) or not file_id:
            raise ValueError(f"file_id must be a non-empty str, got {file_id!r}")
        if isinstance(content, os.PathLike):
            path = Path(content)
            if not path.is_file():
                raise ValueError(f"{path} is not a file")
            self._store.add_file(file_id, path)
            return
        if not isinstance(content, bytes | bytearray | memoryview):
            raise TypeError(f"content must be bytes or a path, got {type(content).__name__}")
        self._store.add_file(file_id, bytes(content))

    def get_file(self, file_id: str) -> bytes:
        """A stored file's content.

        Raises:
            KeyError: no file has this id.

        """
        content = self._store.file(file_id)
        if content is None:
            raise KeyError(f"no file with id {file_id!r}")
        return content

    @property
    def batches(self) -> dict[str, dict[str, Any]]:
        """Every batch's wire JSON now, by id (a copy)."""
        return self._store.snapshot()

    @property
    def files(self) -> dict[str, bytes]:
        """Every file's content, by id (a copy)."""
        return self._store.files()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, faulted ones included, in order (a copy)."""
        with self._log_lock:
            return list(self._requests)

    @property
    def request_headers(self) -> list[SentHeaders]:
        """The headers of each request in `requests`, in the same order (lower-case names; a copy).

        Their repr hides credential values; indexing shows them (`fake.request_headers[-1]["api-key"]`).
        """
        with self._log_lock:
            return list(self._request_headers)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._log_lock:
            self._requests.clear()
            self._request_headers.clear()

    # --- fault injection -----------------------------------------------------------------------------------------

    def inject_errors(
        self,
        count: int,
        status: int = 500,
        headers: Mapping[str, str] | None = None,
        *,
        share: float = 1.0,
        seed: int | None = None,
    ) -> None:
        """Answer the next `count` requests with `status` and an OpenAI error body, plus `headers`.

        With `share` below 1, each coming request is answered so with that probability (the others pass), until
        `count` have been; `seed` makes the draws repeatable. Faults injected later wait until these are used.

        Examples: `inject_errors(1, 429, {"retry-after-ms": "10"})`; one request in twenty rate limited, for the
        next ~20,000: `inject_errors(1000, 429, {"retry-after-ms": "50"}, share=0.05, seed=1)`.

        Raises:
            ValueError: `count` is negative, `status` is not 400-599, a header is not text, `share` is not in
                (0, 1], or `seed` is not an int.

        """
        self._faults.add_errors(count, status, headers, share=share, seed=seed)

    def drop_connections(self, count: int, *, share: float = 1.0, seed: int | None = None) -> None:
        """Drop the next `count` requests without an answer (with `share` < 1: that share of the coming requests).

        The transport raises `httpx.RemoteProtocolError`; the server closes the socket, so clients see the
        same error. `share` and `seed` work as for `inject_errors`.

        Raises:
            ValueError: `count` is negative, `share` is not in (0, 1], or `seed` is not an int.

        """
        self._faults.add_drops(count, share=share, seed=seed)

    def slow_responses(self, count: int, seconds: float, *, share: float = 1.0, seed: int | None = None) -> None:
        """Delay the next `count` answers by `seconds` each (with `share` < 1: that share of the coming requests).

        The server sleeps for real. The transport advances a `FakeClock` (or sleeps, with a real clock), and
        raises `httpx.ReadTimeout` when the delay exceeds the request's read timeout, as a real socket would.
        `share` and `seed` work as for `inject_errors`.

        Raises:
            ValueError: `count` or `seconds` is negative, `seconds` is not finite, `share` is not in (0, 1], or
                `seed` is not an int.

        """
        self._faults.add_delays(count, seconds, share=share, seed=seed)

    def cut_downloads(self, *after: int, every: bool = False) -> None:
        """Drop the connection of the next file downloads after `after[0]`, `after[1]`, ... bytes of their bodies.

        Each value is used by one download (`GET /files/{id}/content`), in order; other requests pass. With
        `every=True` (one value), every download is cut after that many bytes of its body until `clear_faults()`.
        A cut body still declares its full `Content-Length`: the transport raises `httpx.RemoteProtocolError`
        after the bytes, the server closes its socket (httpx: "peer closed connection without sending complete
        message body"). A body shorter than the cut is sent whole.

        Raises:
            ValueError: a value is not a non-negative int, or `every=True` with other than one value.

        """
        self._faults.add_cuts(after, every=every)

    @property
    def pending_faults(self) -> list[Fault]:
        """Injected faults no request has used yet, in the order they will be used."""
        return self._faults.pending()

    def clear_faults(self) -> None:
        """Forget every injected fault not used yet."""
        self._faults.clear()

    # --- serving -------------------------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that serves this fake in-process, for `httpx.Client` and `httpx.AsyncClient`."""
        from batches_ext.testing._transport import FakeTransport  # noqa: PLC0415 - _transport imports this module

        return FakeTransport(self)

    def receive(self, method: str, path: str, headers: Mapping[str, str] | None = None) -> Fault | None:
        """Log a request and its headers; return the injected fault it suffers, if any (for transports and servers)."""
        sent = SentHeaders({name.lower(): value for name, value in (headers or {}).items()})
        with self._log_lock:
            self._requests.append(RecordedRequest(method, path))
            self._request_headers.append(sent)
        return self._faults.take()

    def respond(
        self, method: str, path: str, headers: Mapping[str, str], fault: Fault | None = None, body: bytes = b""
    ) -> Reply:
        """The reply to a request that got through (after `receive`, and after any delay it suffered).

        Args:
            method: the HTTP method, as sent.
            path: the raw path, percent-encoded, optionally with a query (read by `GET /batches` only).
            headers: the request headers, with lower-case names.
            fault: the fault `receive` returned; an `error` fault becomes the reply.
            body: the request body.

        """
        if fault is not None and fault.kind == "error":
            return fault_reply(fault)
        if self._azure is not None:
            admitted = self._azure.admit(method, path, headers)
            if isinstance(admitted, Reply):
                return admitted
            path = admitted
        else:
            denied = self._check_key(headers.get("authorization"))
            if denied is not None:
                return denied
        return _shapes.render(self._route(method, path, headers, body), self._shape)

    def _check_key(self, authorization: str | None) -> Reply | None:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return error_reply(401, _NO_KEY)
        # Constant-time, so the fake does not model a timing leak that real servers avoid.
        if not hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self._api_key.encode()):
            return error_reply(401, _WRONG_KEY.format(masked=mask_key(token)), code="invalid_api_key")
        return None

    def _route(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:  # noqa: PLR0911 - a table
        raw, _, query = path.partition("?")
        # Split before decoding, so an id holding an encoded "/" (%2F) stays one segment.
        parts = [unquote(part) for part in raw.split("/")]
        match method, parts:
            case "GET", ["", "v1", "batches"]:
                return self._list(query)
            case "POST", ["", "v1", "batches", batch_id, "cancel"] if batch_id:
                return self._cancel(batch_id)
            case "GET", ["", "v1", "batches", batch_id] if batch_id:
                return self._retrieve(batch_id)
            case "GET", ["", "v1", "files", file_id, "content"] if file_id:
                return self._download(file_id, headers.get("range"))
            case "POST", ["", "v1", "batches"]:
                return lifecycle.create_batch_reply(self._store, body)
            case "POST", ["", "v1", "files"]:
                return lifecycle.upload_reply(self._store, headers, body)
            case "GET", ["", "v1", "files", file_id] if file_id:
                return lifecycle.file_reply(self._store, file_id)
            case "DELETE", ["", "v1", "files", file_id] if file_id:
                return lifecycle.delete_file_reply(self._store, file_id)
        # OpenAI's own answer to a route it does not have.
        return error_reply(404, f"Invalid URL ({method} {raw})")

    def _cancel(self, batch_id: str) -> Reply:
        try:
            batch = self._store.cancel(batch_id)
        except NotCancellableError as exc:
            # shared/ANCHORS.md: "third-party fakes answer 400 'Cannot cancel a batch with status <status>.';
            # the real status code is not documented in the seeds".
            return error_reply(400, f"Cannot cancel a batch with status '{exc.status}'.")
        return self._batch_reply(batch_id, batch)

    def _list(self, query: str) -> Reply:
        params = dict(parse_qsl(query, keep_blank_values=True))  # a repeated parameter: the last one counts
        limit_text = params.get("limit")
        limit = LIST_LIMIT_DEFAULT
        if limit_text is not None:
            try:
                limit = int(limit_text)
            except ValueError:
                return error_reply(
                    400,
                    "Invalid type for 'limit': expected an integer, but got a string instead.",
                    param="limit",
                    code="invalid_type",
                )
            # OpenAI's wording for a limit above the range (quoted in BerriAI/litellm#37149); the same pattern below.
            # (LiteLLM reports that the live API answers limit=0 with an empty page; the documented range is 1-100
            # and this fake refuses what the documentation does not allow.)
            if limit > LIST_LIMIT_MAX:
                return error_reply(
                    400,
                    f"Invalid 'limit': integer above maximum value. Expected a value <= {LIST_LIMIT_MAX}, "
                    f"but got {limit} instead.",
                    param="limit",
                    code="integer_above_max_value",
                )
            if limit < 1:
                return error_reply(
                    400,
                    f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {limit} instead.",
                    param="limit",
                    code="integer_below_min_value",
                )
        after = params.get("after") or None  # `after=` (empty) means no cursor
        try:
            batches, has_more = self._store.page(after, limit)
        except UnknownCursorError as exc:
            # What the real API answers to a cursor it does not know is not documented, nor reported in any public
            # issue found: a 400 naming the parameter, like its other invalid-parameter answers.
            return error_reply(400, f"Invalid 'after': no batch with id '{exc.cursor}' was found.", param="after")
        return json_reply(
            200,
            {
                "object": "list",
                "data": batches,
                "first_id": batches[0]["id"] if batches else None,
                "last_id": batches[-1]["id"] if batches else None,
                "has_more": has_more,
            },
        )

    def _retrieve(self, batch_id: str) -> Reply:
        return self._batch_reply(batch_id, self._store.get(batch_id, poll=True, deep=False))

    @staticmethod
    def _batch_reply(batch_id: str, batch: dict[str, Any] | None) -> Reply:
        if batch is None:
            return error_reply(404, f"No batch found with id '{batch_id}'.")
        return json_reply(200, batch)

    def _download(self, file_id: str, range_header: str | None) -> Reply:
        source = self._store.file_source(file_id)
        if source is None:
            # OpenAI's wording for a missing file.
            return error_reply(404, f"No such File object: {file_id}", param="id")
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        start = _range_start(range_header) if self.ranges else None
        if start is not None and start >= size:
            return error_reply(416, "Requested range not satisfiable.", headers={"content-range": f"bytes */{size}"})
        cut = self._faults.take_cut()
        if start is None:
            return binary_reply(
                FileBody(source, 0, size, cut), headers={"accept-ranges": "bytes"} if self.ranges else {}
            )
        headers = {"accept-ranges": "bytes", "content-range": f"bytes {start}-{size - 1}/{size}"}
        return binary_reply(FileBody(source, start, size, cut), 206, headers)

    def __repr__(self) -> str:
        batches, files = self._store.sizes()
        mode = ", azure=True" if self._azure is not None else ""
        shape = f", shape={sorted(self._shape)!r}" if self._shape else ""
        return (
            f"FakeBatchAPI(batches={batches}, files={files}, cancel_delay={self._cancel_delay!r}, "
            f"requests={len(self._requests)}{mode}{shape})"
        )


def _range_start(value: str | None) -> int | None:
    """The first byte a `Range: bytes=N-` (or `bytes=N-M`, read as `N-`) asks for; None for no or another range."""
    match = _RANGE.fullmatch((value or "").strip())
    return int(match[1]) if match else None
