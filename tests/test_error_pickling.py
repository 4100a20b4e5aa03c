"""Every exception in `batches_ext.errors` survives pickling, without the API key, and crosses a process pool."""

from __future__ import annotations

import gzip
import inspect
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import httpx
import pytest

from batches_ext import BatchesClient, errors
from batches_ext._batch import Batch
from batches_ext._lifecycle import RemainderReport
from tests.payloads import CANCELLING

KEY = "sk-pickle-0123456789abcdefSECRET"
ODD_KEY = "abc123def456ghi789jkl"  # no sk- prefix: a proxy's or another provider's key


def _raised_by(handler: Callable[[httpx.Request], httpx.Response], key: str = KEY) -> errors.APIError:
    """The error a real client raises when its one retrieve is answered by `handler`."""
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with BatchesClient(api_key=key, http_client=http, max_retries=0) as client:
        try:
            client.retrieve("batch_1")
        except errors.APIError as exc:
            return exc
    raise AssertionError("no error raised")


def _status_error(status: int, key: str = KEY) -> errors.APIError:
    """The error a real client raises for `status`; the server echoes the key in its message."""
    body = {"error": {"message": f"bad key {key}", "type": "invalid_request_error", "param": key, "code": None}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers={"x-request-id": f"req_{status}"})

    return _raised_by(handler, key)


def _connection_error(key: str = KEY) -> errors.APIError:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    return _raised_by(handler, key)


def _validation_error() -> errors.APIError:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>", headers={"x-request-id": "req_html"})

    return _raised_by(handler)


def _every_error() -> list[errors.BatchesError]:
    request = httpx.Request("GET", "https://api.example/v1/batches/b", headers={"Authorization": f"Bearer {KEY}"})
    gz_response = httpx.Response(
        500, content=gzip.compress(b"{}"), headers={"content-encoding": "gzip"}, request=request
    )
    return [
        *(_status_error(status) for status in (400, 401, 403, 404, 409, 418, 422, 429, 500)),
        errors.make_status_error(gz_response),
        _connection_error(),
        errors.APITimeoutError(request=request),
        errors.APIError("plain", request=request),
        _validation_error(),
        errors.APIResponseValidationError("no response"),
        errors.BatchesError("root"),
        errors.ConfigurationError("bad setting"),
        errors.ClientClosedError("closed"),
        errors.WaitTimeoutError("late", batch=Batch.from_dict(CANCELLING, request_id="req_wait")),
        errors.WaitTimeoutError("late", batch=None),
        errors.ResultsFormatError("not JSON", file_id="file_1", line_number=3),
        errors.ResultsDownloadError("broke", request=request, records=7, bytes_read=9000),
        errors.RemainderConflictError("ambiguous", report=RemainderReport()),
    ]


def test_every_error_class_is_covered() -> None:
    classes = {cls for cls in vars(errors).values() if inspect.isclass(cls) and issubclass(cls, errors.BatchesError)}
    assert {type(exc) for exc in _every_error()} == classes


@pytest.mark.parametrize("exc", _every_error(), ids=lambda exc: type(exc).__name__)
def test_errors_survive_pickling_without_the_key(exc: errors.BatchesError) -> None:
    data = pickle.dumps(exc)
    assert KEY.encode() not in data
    copy = pickle.loads(data)  # noqa: S301 - our own bytes
    assert type(copy) is type(exc)
    assert str(copy) == str(exc)
    for name in (
        "message",
        "status_code",
        "request_id",
        "body",
        "code",
        "file_id",
        "line_number",
        "records",
        "bytes_read",
    ):
        assert getattr(copy, name, None) == getattr(exc, name, None)
    if isinstance(exc, errors.APIStatusError):
        assert copy.response.status_code == exc.status_code
        assert copy.response.headers.get("x-request-id") == exc.request_id
        assert copy.response.request.url == exc.response.request.url
    if isinstance(exc, errors.WaitTimeoutError) and exc.batch is not None:
        assert copy.batch is not None
        assert copy.batch.to_dict() == exc.batch.to_dict()


def test_a_pickled_error_keeps_no_key_of_any_prefix() -> None:
    exc = _status_error(401, key=ODD_KEY)
    assert ODD_KEY.encode() not in pickle.dumps(exc)
    assert ODD_KEY.encode() not in pickle.dumps(_connection_error(key=ODD_KEY))


def _fail_in_worker(status: int) -> None:
    raise _status_error(status)


def test_a_failed_job_in_a_process_pool_raises_its_error_in_the_parent() -> None:
    # spawn, not fork: forking a process that runs threads (pytest plugins may) is unsafe.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        future = pool.submit(_fail_in_worker, 404)
        with pytest.raises(errors.NotFoundError) as caught:
            future.result(timeout=60)
        assert pool.submit(pow, 2, 5).result(timeout=60) == 32  # the pool survived the failed job
    assert caught.value.status_code == 404
    assert caught.value.request_id == "req_404"
    assert KEY not in str(caught.value)
