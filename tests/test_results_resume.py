"""Results downloads that survive breaks: resumed with Range (or by skipping), every record once, in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, errors
from batches_ext._download import ContentRange, parse_content_range
from batches_ext.testing import FakeBatchAPI, FakeServer
from tests.conftest import API_KEY, call_on_fake, fake_client
from tests.test_results import CANCELLED, output_line

RECORDS = 40


def seeded(api: FakeBatchAPI, records: int = RECORDS) -> tuple[str, bytes]:
    """A completed batch with `records` output lines; its id and its output file."""
    data = api.add_batch("batch_big", status="completed", total=records, completed=records)
    return data["id"], api.get_file(data["output_file_id"])


def read_all(
    kind: str, api: FakeBatchAPI, batch_id: str, *, max_retries: int = 2, method: str = "iter_results", **options: Any
) -> list[Any]:
    results: list[Any] = call_on_fake(kind, api, method, batch_id, max_retries=max_retries, **options)
    return results


def downloads(api: FakeBatchAPI) -> list[str | None]:
    """The Range header of each file download the fake received (None: the whole file)."""
    return [
        headers.get("range")
        for request, headers in zip(api.requests, api.request_headers, strict=True)
        if request.path.endswith("/content")
    ]


def line_ends(content: bytes) -> list[int]:
    return [index + 1 for index, byte in enumerate(content) if byte == ord("\n")]


def test_three_cuts_resume_with_range_and_yield_every_record_once(kind: str) -> None:
    api = FakeBatchAPI()
    batch_id, content = seeded(api)
    api.cut_downloads(1000, 5000, 12_345)
    results = read_all(kind, api, batch_id)
    assert [r.custom_id for r in results] == [f"request-{n}" for n in range(1, RECORDS + 1)]
    assert [r.line_number for r in results] == list(range(1, RECORDS + 1))
    assert [r.raw + b"\n" for r in results] == content.splitlines(keepends=True)
    ends = line_ends(content)
    first = max(end for end in ends if end <= 1000)
    second = max(end for end in ends if end <= first + 5000)
    third = max(end for end in ends if end <= second + 12_345)
    assert downloads(api) == [None, f"bytes={first}-", f"bytes={second}-", f"bytes={third}-"]


def test_a_server_ignoring_range_is_read_past_what_was_read(kind: str) -> None:
    api = FakeBatchAPI(ranges=False)
    batch_id, _ = seeded(api)
    api.cut_downloads(2500, 9000)
    results = read_all(kind, api, batch_id)
    assert [r.custom_id for r in results] == [f"request-{n}" for n in range(1, RECORDS + 1)]
    assert len(downloads(api)) == 3


def test_progress_resets_the_budget_so_a_cut_every_time_still_completes(kind: str) -> None:
    api = FakeBatchAPI()
    batch_id, content = seeded(api)
    api.cut_downloads(3000, every=True)  # every download, also the resumed ones: ~14 breaks with max_retries=1
    results = read_all(kind, api, batch_id, max_retries=1)
    api.clear_faults()
    assert len(results) == RECORDS
    assert len(downloads(api)) > len(content) // 3000


def test_a_line_longer_than_the_cuts_still_progresses(kind: str) -> None:
    api = FakeBatchAPI()
    long = output_line(1)
    long["response"]["body"]["padding"] = "x" * 10_000
    content = json.dumps(long).encode() + b"\n" + json.dumps(output_line(2)).encode() + b"\n"
    api.add_file("file-long", content)
    api.add_batch("batch_long", status="completed", total=2, completed=2, output_file_id="file-long")
    api.cut_downloads(4000, 8000)  # each resumption starts again at 0, and reaching further is progress
    results = read_all(kind, api, "batch_long", max_retries=1)
    assert [r.custom_id for r in results] == ["request-1", "request-2"]


def test_breaks_without_progress_spend_the_budget_and_say_how_far_they_got(kind: str) -> None:
    api = FakeBatchAPI()
    batch_id, content = seeded(api)
    api.cut_downloads(3000, 0, 0)  # progress, then two attempts that get nothing
    with pytest.raises(errors.ResultsDownloadError) as info:
        read_all(kind, api, batch_id, max_retries=2)
    kept = max(end for end in line_ends(content) if end <= 3000)
    records = content[:kept].count(b"\n")
    assert str(info.value) == (
        f"download of {api.get_batch(batch_id)['output_file_id']} failed after 3 breaks: RemoteProtocolError: peer "
        f"closed connection without sending complete message body (received 0 bytes, expected {len(content) - kept})"
        f"; read {records} records, {kept} of {len(content)} bytes"
    )
    assert (info.value.records, info.value.bytes_read) == (records, kept)
    assert isinstance(info.value, errors.APIConnectionError)


def test_a_retryable_status_on_the_resumption_is_retried_within_the_budget() -> None:
    api = FakeBatchAPI()
    batch_id, _ = seeded(api)
    api.cut_downloads(2000)
    with fake_client(api) as client:
        results = client.iter_results(batch_id)
        first = next(results)  # the first download is under way (and will be cut)
        api.inject_errors(1, 503)  # the resumption's first attempt
        rest = list(results)
    assert [r.custom_id for r in [first, *rest]] == [f"request-{n}" for n in range(1, RECORDS + 1)]
    ranges = downloads(api)
    assert len(ranges) == 3
    assert ranges[1] == ranges[2] is not None  # the attempt that got the 503 and its retry asked the same range


def test_a_status_error_after_a_break_is_a_download_error() -> None:
    api = FakeBatchAPI()
    batch_id, _ = seeded(api)
    api.cut_downloads(2000)
    with fake_client(api) as client:
        results = client.iter_results(batch_id)
        next(results)
        api.inject_errors(1, 404)
        with pytest.raises(errors.ResultsDownloadError, match=r"failed after 1 break: 404 Not Found") as info:
            list(results)
    assert isinstance(info.value.__cause__, errors.NotFoundError)


def scripted_206(content: bytes, answers: list[Any]) -> Any:
    """A server that cuts the first answer at 1,000 bytes, then answers from `answers` (status, headers, start)."""
    requests: list[httpx.Request] = []
    ranges: list[str | None] = []  # as sent (the client reuses one request object across attempts)

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        ranges.append(request.headers.get("range"))
        if not request.url.path.endswith("/content"):
            return httpx.Response(200, json=CANCELLED)
        if len(requests) == 1:

            def cut() -> Any:
                yield content[:1000]
                raise httpx.RemoteProtocolError("peer closed connection")

            return httpx.Response(200, content=cut(), headers={"content-length": str(len(content))})
        status, headers, start, *other = answers.pop(0)
        body = (other[0] if other else content)[start:]
        return httpx.Response(status, content=body, headers={"content-length": str(len(body)), **headers})

    handler.ranges = ranges  # type: ignore[attr-defined]
    return handler


def lines_file(count: int) -> bytes:
    return b"".join(json.dumps(output_line(n)).encode() + b"\n" for n in range(count))


@pytest.mark.parametrize(
    "content_range",
    ["bytes 0-{last}/{total}", "bytes {start}-{last}/999999", "bytes {start}-{last}", ""],
    ids=["another start", "another total", "malformed", "missing"],
)
def test_a_206_for_another_range_is_asked_again_without_range(content_range: str) -> None:
    content = lines_file(20)
    start = max(end for end in line_ends(content) if end <= 1000)
    header = content_range.format(start=start, last=len(content) - 1, total=len(content))
    wrong_start = 0 if header.startswith("bytes 0-") else start
    handler = scripted_206(content, [(206, {"content-range": header} if header else {}, wrong_start), (200, {}, 0)])
    with BatchesClient(api_key=API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler))) as client:
        results = list(client.iter_results(Batch.from_dict(CANCELLED)))
    assert [r.custom_id for r in results] == [f"request-{n}" for n in range(20)]
    assert handler.ranges == [None, f"bytes={start}-", None]


def test_a_file_that_changed_size_between_attempts_is_an_error() -> None:
    content = lines_file(20)
    handler = scripted_206(content, [(200, {}, 0, content + b"{}\n")])  # then the whole file is longer
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        BatchesClient(api_key=API_KEY, http_client=http, sleep=lambda s: None) as client,
        pytest.raises(errors.ResultsDownloadError, match="the file changed"),
    ):
        list(client.iter_results(Batch.from_dict(CANCELLED)))


def test_the_ranged_request_keeps_azures_api_version() -> None:
    from batches_ext import AzureBatchesClient

    api = FakeBatchAPI(azure=True)
    batch_id, _ = seeded(api)
    api.cut_downloads(2000)
    http = httpx.Client(transport=api.transport())
    with AzureBatchesClient(
        azure_endpoint=api.azure_endpoint, api_key=api.api_key, api_version="2024-10-21", http_client=http,
        sleep=lambda s: None,
    ) as client:  # fmt: skip
        assert len(list(client.iter_results(batch_id))) == RECORDS
    contents = [(r.path, h) for r, h in zip(api.requests, api.request_headers, strict=True) if "/content" in r.path]
    assert len(contents) == 2
    assert all(path.endswith("/content?api-version=2024-10-21") for path, _ in contents)
    assert contents[1][1]["range"].startswith("bytes=")


def test_cuts_on_real_sockets_resume(kind: str) -> None:
    api = FakeBatchAPI()
    batch_id, _ = seeded(api, 300)
    api.cut_downloads(70_000, 100_000, 5)
    with FakeServer(api) as server:
        if kind == "sync":
            with BatchesClient(api.api_key, base_url=server.base_url, sleep=lambda s: None) as client:
                results = list(client.iter_results(batch_id))
        else:

            async def sleep(seconds: float) -> None:
                pass

            async def run() -> list[Any]:
                async with AsyncBatchesClient(api.api_key, base_url=server.base_url, sleep=sleep) as client:
                    return [result async for result in client.iter_results(batch_id)]

            results = asyncio.run(run())
        assert server.errors == []
    assert [r.custom_id for r in results] == [f"request-{n}" for n in range(1, 301)]
    assert len(downloads(api)) == 4


def test_remainder_resumes_too() -> None:
    api = FakeBatchAPI()
    api.add_file("file-in", b"".join(b'{"custom_id": "r%d", "body": {}}\n' % n for n in range(500)))
    api.add_file("file-out", b"")
    api.add_batch("batch_1", status="cancelled", total=500, input_file_id="file-in", output_file_id="file-out",
                  error_file_id=None)  # fmt: skip
    api.cut_downloads(0, 3000, 7000)  # the output file (empty) uses the first
    with fake_client(api) as client:
        lines = list(client.remainder("batch_1"))
    assert lines == [b'{"custom_id": "r%d", "body": {}}' % n for n in range(500)]


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("bytes 10-99/100", ContentRange(10, 99, 100)),
        ("bytes 10-99/*", ContentRange(10, 99, None)),
        ("bytes 10-100/100", None),
        ("bytes 20-10/100", None),
        ("bytes */100", None),
        ("items 1-2/3", None),
        (None, None),
    ],
)
def test_parse_content_range(value: str | None, parsed: ContentRange | None) -> None:
    assert parse_content_range(value) == parsed


def test_iter_all_results_reads_both_files_in_one_pass(kind: str) -> None:
    api = FakeBatchAPI()
    data = api.add_batch("batch_both", status="cancelled", total=30, completed=20, failed=4)
    api.cut_downloads(3000, 900)  # one break in each file
    results = read_all(kind, api, "batch_both", method="iter_all_results")
    assert [(r.file, r.ok) for r in results] == [("output", True)] * 20 + [("error", False)] * 4
    assert [r.custom_id for r in results] == [f"request-{n}" for n in range(1, 25)]
    stored = api.get_file(data["output_file_id"]) + api.get_file(data["error_file_id"])
    assert b"".join(r.raw + b"\n" for r in results) == stored
    assert [r.ok for r in results] == [r.outcome == "done" for r in results]  # the remainder's rule


def test_iter_all_results_of_a_batch_without_files(kind: str) -> None:
    api = FakeBatchAPI()
    api.add_batch("batch_new", status="in_progress")
    assert read_all(kind, api, "batch_new", method="iter_all_results") == []


def etag_server(content: bytes, first_tag: str, then: tuple[int, str, bytes]) -> tuple[Any, list[dict[str, str]]]:
    """Cuts the first answer (tagged `first_tag`) at 1,000 bytes; then answers `(status, tag, body)`."""
    sent: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(dict(request.headers))
        if len(sent) == 1:

            def cut() -> Iterator[bytes]:
                yield content[:1000]
                raise httpx.RemoteProtocolError("peer closed connection")

            return httpx.Response(200, content=cut(), headers={"content-length": str(len(content)), "etag": first_tag})
        status, tag, body = then
        headers = {"content-length": str(len(body)), "etag": tag}
        if status == 206:
            start = len(content) - len(body)
            headers["content-range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
        return httpx.Response(status, content=body, headers=headers)

    return handler, sent


def test_if_range_carries_the_etag_and_a_changed_file_is_an_error() -> None:
    content = lines_file(20)
    start = max(end for end in line_ends(content) if end <= 1000)
    handler, sent = etag_server(content, '"v1"', (200, '"v2"', content + b"{}\n"))  # If-Range missed: a new file
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        BatchesClient(api_key=API_KEY, http_client=http, sleep=lambda s: None) as client,
        pytest.raises(errors.ResultsDownloadError, match=r"""the file changed: ETag '"v2"' now, '"v1"' before"""),
    ):
        list(client.iter_results(Batch.from_dict(CANCELLED)))
    assert (sent[1]["range"], sent[1]["if-range"]) == (f"bytes={start}-", '"v1"')


def test_a_weak_etag_is_never_sent_as_if_range() -> None:
    content = lines_file(20)
    start = max(end for end in line_ends(content) if end <= 1000)
    handler, sent = etag_server(content, 'W/"v1"', (206, 'W/"v1"', content[start:]))
    with BatchesClient(
        api_key=API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None
    ) as client:
        assert len(list(client.iter_results(Batch.from_dict(CANCELLED)))) == 20
    assert sent[1]["range"] == f"bytes={start}-"
    assert "if-range" not in sent[1]
