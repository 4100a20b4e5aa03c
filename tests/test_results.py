"""iter_results / cancel_and_collect: streaming JSONL results, typed records, exact counts, named bad lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, errors
from batches_ext._results import BatchResult, CancelledBatch
from tests.conftest import API_KEY, PeakMemory, error, streaming_client
from tests.payloads import CANCELLING, batch

CANCELLED = batch(
    CANCELLING, status="cancelled", cancelled_at=1711475733, output_file_id="file-out", error_file_id="file-err"
)


def output_line(n: int) -> dict[str, Any]:
    body = {"id": f"chatcmpl-{n}", "object": "chat.completion", "choices": [{"message": {"content": f"answer {n}"}}]}
    return {
        "id": f"batch_req_{n}",
        "custom_id": f"request-{n}",
        "response": {"status_code": 200, "request_id": f"req_{n}", "body": body},
        "error": None,
    }


def error_line(n: int) -> dict[str, Any]:
    return {
        "id": f"batch_req_e{n}",
        "custom_id": f"request-e{n}",
        "response": None,
        "error": {"code": "batch_cancelled", "message": "cancelled"},
    }


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


class Files:
    """Serves batches and file contents; records requests."""

    def __init__(self, files: dict[str, bytes], batch_payload: dict[str, Any] = CANCELLED) -> None:
        self.files = files
        self.batch_payload = batch_payload
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.startswith("/v1/files/"):
            file_id = path.split("/")[3]
            if file_id not in self.files:
                return error(404, f"No such File object: {file_id}")
            return httpx.Response(
                200, content=self.files[file_id], headers={"content-type": "application/octet-stream"}
            )
        if request.method == "POST":
            return httpx.Response(200, json=batch(self.batch_payload, status="cancelling"))
        return httpx.Response(200, json=self.batch_payload)


def collect(kind: str, handler: Files, call: str, *args: Any, **kwargs: Any) -> Any:
    if kind == "sync":
        with BatchesClient(
            api_key=API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None
        ) as client:
            result = getattr(client, call)(*args, **kwargs)
            return list(result) if call == "iter_results" else result

    async def run() -> Any:
        async def no_sleep(seconds: float) -> None:
            pass

        async with AsyncBatchesClient(
            api_key=API_KEY, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=no_sleep
        ) as client:
            if call == "iter_results":
                return [r async for r in client.iter_results(*args, **kwargs)]
            return await getattr(client, call)(*args, **kwargs)

    return asyncio.run(run())


def test_iter_results_yields_typed_records_in_file_order(kind: str) -> None:
    files = Files({"file-out": jsonl([output_line(n) for n in range(5)])})
    results = collect(kind, files, "iter_results", Batch.from_dict(CANCELLED))
    assert [r.custom_id for r in results] == [f"request-{n}" for n in range(5)]
    first = results[0]
    assert isinstance(first, BatchResult)
    assert (first.id, first.status_code, first.request_id, first.ok) == ("batch_req_0", 200, "req_0", True)
    assert first.body["choices"][0]["message"]["content"] == "answer 0"
    assert first.error is None
    assert first.to_dict() == output_line(0)
    assert [r.line_number for r in results] == [1, 2, 3, 4, 5]
    assert [r.url.path for r in files.requests] == ["/v1/files/file-out/content"]


def test_iter_results_by_id_and_error_file(kind: str) -> None:
    files = Files({"file-err": jsonl([error_line(1), error_line(2)])})
    results = collect(kind, files, "iter_results", "batch_abc123", errors=True)
    assert [(r.custom_id, r.ok, r.status_code, r.error["code"]) for r in results] == [
        ("request-e1", False, None, "batch_cancelled"),
        ("request-e2", False, None, "batch_cancelled"),
    ]
    assert [r.url.path for r in files.requests] == ["/v1/batches/batch_abc123", "/v1/files/file-err/content"]


@pytest.mark.parametrize("missing", [None, ""])
def test_no_output_file_yields_nothing(kind: str, missing: str | None) -> None:
    files = Files({}, batch(CANCELLED, output_file_id=missing))
    assert collect(kind, files, "iter_results", "b1") == []
    assert [r.url.path for r in files.requests] == ["/v1/batches/b1"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"custom_id": 5, "response": null, "error": {}}', "custom_id"),
        (b'{"custom_id": "x", "response": null, "error": null}', "neither a 'response' nor an 'error'"),
        (b'{"custom_id": "x", "response": {"status_code": "200"}, "error": null}', "status_code"),
        (b'{"custom_id": "x", "response": {"status_code": 200}, "error": "oops"}', "'error' must be an object"),
    ],
)
def test_malformed_line_names_the_line(kind: str, line: bytes, problem: str) -> None:
    content = jsonl([output_line(1), output_line(2)]) + line + b"\n" + jsonl([output_line(4)])
    files = Files({"file-out": content})
    with pytest.raises(errors.ResultsFormatError, match=f"file-out line 3: .*{problem}") as info:
        collect(kind, files, "iter_results", Batch.from_dict(CANCELLED))
    assert info.value.line_number == 3
    assert isinstance(info.value, ValueError)


def test_blank_lines_hold_no_record_but_keep_line_numbers(kind: str) -> None:
    content = jsonl([output_line(1)]) + b"\n" + jsonl([output_line(3)]) + b"\n\n"
    results = collect(kind, Files({"file-out": content}), "iter_results", Batch.from_dict(CANCELLED))
    assert [(r.custom_id, r.line_number) for r in results] == [("request-1", 1), ("request-3", 3)]


def test_download_errors_are_typed(kind: str) -> None:
    with pytest.raises(errors.NotFoundError, match="No such File object"):
        collect(kind, Files({}), "iter_results", Batch.from_dict(CANCELLED))


def test_cancel_and_collect(kind: str) -> None:
    files = Files({"file-out": jsonl([output_line(n) for n in range(23)]), "file-err": jsonl([error_line(1)])})
    outcome = collect(kind, files, "cancel_and_collect", "batch_abc123")
    assert isinstance(outcome, CancelledBatch)
    final, results, failed = outcome
    assert final.status == "cancelled"
    assert len(results) == 23
    assert all(r.ok for r in results)
    assert [r.custom_id for r in failed] == ["request-e1"]


def test_stopping_early_closes_the_stream() -> None:
    closed: list[bool] = []

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for n in range(10_000):
                yield json.dumps(output_line(n)).encode() + b"\n"

        def close(self) -> None:
            closed.append(True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Body())

    with BatchesClient(api_key=API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler))) as client:
        results = client.iter_results(Batch.from_dict(CANCELLED))
        assert next(results).custom_id == "request-0"
        results.close()
    assert closed == [True]


def test_a_break_that_never_progresses_ends_saying_how_far_it_got() -> None:
    line = json.dumps(output_line(1)).encode() + b"\n"

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield line
            raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Body())  # ignores Range: the same first line, then the same break

    sleeps: list[float] = []
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with BatchesClient(api_key=API_KEY, http_client=http, max_retries=2, sleep=sleeps.append) as client:
        results = client.iter_results(Batch.from_dict(CANCELLED))
        assert next(results).custom_id == "request-1"
        with pytest.raises(errors.ResultsDownloadError) as info:
            next(results)
    assert str(info.value) == (
        "download of file-out failed after 3 breaks: ReadError: connection reset; "
        f"read 1 records, {len(line)} of ? bytes"
    )
    assert isinstance(info.value, errors.APIConnectionError)
    assert (info.value.records, info.value.bytes_read) == (1, len(line))
    assert len(sleeps) == 2  # the client's max_retries: two resumptions without progress, then the error


def test_streaming_memory_stays_bounded() -> None:
    """A ~20 MB file streams with far less than its size held at once (scripts/bench measures 200 MB)."""
    line = json.dumps(output_line(0)).encode() + b"\n"
    count = 20_000_000 // len(line)

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            chunk = line * 256
            for _ in range(count // 256):
                yield chunk

    with streaming_client(Body()) as client, PeakMemory() as memory:
        seen = sum(1 for _ in client.iter_results(Batch.from_dict(CANCELLED)))
    assert seen == (count // 256) * 256
    assert memory.peak < 10_000_000, f"peak {memory.peak / 1e6:.1f} MB while streaming {count * len(line) / 1e6:.0f} MB"
