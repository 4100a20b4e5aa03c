"""The exceptions batches_ext raises, named as in the openai SDK so code can switch without renaming.

BatchesError
├── ConfigurationError            bad client settings (missing API key, bad base URL); nothing was sent
├── ClientClosedError             the client was used after close()/aclose(); nothing was sent
├── APIError                      something went wrong talking to the API
│   ├── APIStatusError            the API answered 4xx/5xx
│   │   ├── BadRequestError              400
│   │   ├── AuthenticationError          401
│   │   ├── PermissionDeniedError        403
│   │   ├── NotFoundError                404
│   │   ├── ConflictError                409
│   │   ├── UnprocessableEntityError     422
│   │   ├── RateLimitError               429
│   │   └── InternalServerError          5xx
│   ├── APIConnectionError        no response: DNS, refused, reset, TLS, ...
│   │   ├── APITimeoutError       the request timed out
│   │   └── ResultsDownloadError  a results download broke and could not be resumed; says how far it got
│   └── APIResponseValidationError  a 2xx whose body is not what the API documents
├── WaitTimeoutError              a wait passed its deadline; carries the last Batch seen
├── ResultsFormatError            a line of a results file is not a batch output record
└── RemainderConflictError        a batch's input and results disagree (duplicate or unknown custom_ids)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from batches_ext._json import loads
from batches_ext._redact import redact_masked_keys

if TYPE_CHECKING:
    from batches_ext._batch import Batch

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchesError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RemainderConflictError",
    "ResultsDownloadError",
    "ResultsFormatError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "make_status_error",
]


class BatchesError(Exception):
    """Root of every exception raised on purpose by batches_ext.

    Every one pickles (a `ProcessPoolExecutor` job may raise it): class, message and attributes survive. The
    httpx request and response are replaced by bare copies: method and URL; status, headers and the request.
    Headers we sent are not kept (they hold the credential, `Authorization` or `api-key`), nor the raw body
    (`body` holds it decoded, with the key scrubbed).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state = {name: _picklable(value) for name, value in self.__dict__.items()}
        return _restore, (type(self), self.args, state)


def _restore(cls: type[BatchesError], args: tuple[object, ...], state: dict[str, object]) -> BatchesError:
    """Rebuild a pickled error without calling `__init__` (whose signature differs in every class)."""
    exc = cls.__new__(cls, *args)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


def _picklable(value: object) -> object:
    """`value`, or for an httpx request or response a copy without what we sent in headers or the raw body."""
    if isinstance(value, httpx.Request):
        return _without_headers(value)
    if isinstance(value, httpx.Response):
        request = value._request  # not `.request`: it raises when none was set
        bare = httpx.Response(value.status_code, headers=value.headers)
        if request is not None:
            bare.request = _without_headers(request)
        return bare
    return value


def _without_headers(request: httpx.Request) -> httpx.Request:
    """A copy of `request` (never sent) without the headers we sent: they hold the credential."""
    bare = copy.copy(request)  # httpx's own pickling state: no stream, no extensions
    bare.headers = httpx.Headers()
    return bare


class ConfigurationError(BatchesError, ValueError):
    """The client was configured with a missing or invalid setting; no request was sent."""


class ClientClosedError(BatchesError, RuntimeError):
    """The client was used after `close()` (`aclose()`); nothing was sent and no connection opened.

    A `RuntimeError`, as httpx's own error for a closed client is, so code catching that still catches this.
    """


class APIError(BatchesError):
    """A request failed. `message` says why; `body` is the decoded error body, when there was one."""

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        body: object = None,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        self.code = code
        self.param = param
        self.type = type


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status."""

    status_code: int

    def __init__(self, message: str, *, response: httpx.Response, body: object = None, **fields: Any) -> None:
        super().__init__(message, request=response.request, body=body, **fields)
        self.response = response
        self.status_code = response.status_code
        self.request_id: str | None = response.headers.get("x-request-id")


class BadRequestError(APIStatusError):
    """400: the request was malformed, or the batch cannot be cancelled in its state."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not act on this batch (another project or organization)."""


class NotFoundError(APIStatusError):
    """404: no batch (or file) has this id."""


class ConflictError(APIStatusError):
    """409: the resource changed concurrently; retried by default."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but semantically wrong."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried by default, honouring the server's retry hint."""


class InternalServerError(APIStatusError):
    """5xx: the API failed; retried by default."""


class APIConnectionError(APIError):
    """The request got no response (connection refused, reset, DNS or TLS failure)."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class ResultsDownloadError(APIConnectionError):
    """A file download broke and could not be resumed within the retry budget (the cause is the last failure).

    `records` lines were read whole (and yielded) and `bytes_read` bytes of the file kept before it stopped.
    """

    def __init__(
        self, message: str, *, request: httpx.Request | None = None, records: int = 0, bytes_read: int = 0
    ) -> None:
        super().__init__(message, request=request)
        self.records = records
        self.bytes_read = bytes_read


class APIResponseValidationError(APIError):
    """A successful response whose body is not what the API documents (HTML, truncated JSON, wrong shape)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response | None = None,
        body: object = None,
        request: httpx.Request | None = None,
    ) -> None:
        super().__init__(message, request=response.request if response is not None else request, body=body)
        self.response = response
        self.status_code: int | None = response.status_code if response is not None else None
        self.request_id: str | None = response.headers.get("x-request-id") if response is not None else None


class WaitTimeoutError(BatchesError):
    """A wait reached its deadline before the batch reached a terminal status."""

    def __init__(self, message: str, *, batch: Batch | None) -> None:
        super().__init__(message)
        self.batch = batch
        """The last batch retrieved, or None if no poll succeeded."""


class ResultsFormatError(BatchesError, ValueError):
    """A line of a batch output or error file is not a valid record; `line_number` counts from 1."""

    def __init__(self, message: str, *, file_id: str, line_number: int) -> None:
        super().__init__(f"{file_id} line {line_number}: {message}")
        self.file_id = file_id
        self.line_number = line_number


class RemainderConflictError(BatchesError, ValueError):
    """What remains of a batch is ambiguous: its input repeats a custom_id, or a result names one it does not have.

    Raised before anything is uploaded; `report` (a `RemainderReport`) holds the counts and the ids in question.
    """

    def __init__(self, message: str, *, report: Any) -> None:
        super().__init__(message)
        self.report = report


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


_ERROR_FIELDS = ("code", "param", "type")


def _parse_error_body(content: bytes) -> tuple[object, str | None, dict[str, str | None]]:
    """Read OpenAI's error body `{"error": {"message", "type", "param", "code"}}` leniently."""
    try:
        body: object = loads(content) if content else None
    except ValueError:
        return content.decode("utf-8", "replace")[:500] or None, None, {}
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return body, None, {}
    message = error.get("message")
    fields = {name: _text(error.get(name)) for name in _ERROR_FIELDS}
    return body, message if isinstance(message, str) else None, fields


def _cleaned_body(body: object, clean: Callable[[str], str]) -> object:
    """The decoded body with `clean` applied to its text; the cleaned JSON text if it no longer decodes."""
    if body is None:
        return None
    text = json.dumps(body)
    cleaned = clean(text)
    if cleaned == text:
        return body
    try:
        return json.loads(cleaned)
    except ValueError:  # a key holding `"` or `\\` was cut out of an escape sequence: keep the text
        return cleaned


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def make_status_error(response: httpx.Response, *, redact: Callable[[str], str] | None = None) -> APIStatusError:
    """Build the `APIStatusError` subclass for a 4xx/5xx `response` (whose body has been read).

    Every text taken from the body loses the masked keys a 401 echoes (`sk-abc***xyz`, any prefix), and `redact`,
    when given, is applied to it too (the client passes one that removes its key, whole or in part).
    """

    def clean(text: str) -> str:
        return redact_masked_keys(redact(text) if redact is not None else text)

    body, message, fields = _parse_error_body(response.content)
    message = clean(message) if message else message
    fields = {name: clean(value) if value else value for name, value in fields.items()}
    body = _cleaned_body(body, clean)
    cls = _STATUS_CLASSES.get(response.status_code, InternalServerError if response.status_code >= 500 else None)
    cls = cls or APIStatusError
    reason = response.reason_phrase or "Error"
    text = f"{response.status_code} {reason}: {message or 'no error message in the response body'}"
    request_id = response.headers.get("x-request-id")
    if request_id:
        text += f" (request_id: {request_id})"
    return cls(text, response=response, body=body, **fields)
