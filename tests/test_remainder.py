"""After a cancel or an expiry: the remainder rule, the checks before any upload, and resubmitting (issue 14)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, errors
from batches_ext._jsonl import LineSplitter
from batches_ext._lifecycle import (
    ORIGIN_KEY,
    RemainderReport,
    RemainderScan,
    check_metadata,
    remainder_filename,
    resubmit_metadata,
)
from batches_ext._results import classify_result, parse_result_line
from batches_ext.testing import FakeBatchAPI, FakeClock, FakeRequest, FakeResponse
from tests.conftest import API_KEY, Script

ENDPOINT = "/v1/chat/completions"


def request_line(custom_id: str, *, model: str = "gpt-4o-mini", url: str = ENDPOINT) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": f"question {custom_id}"}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode()


def write_input(path: Path, count: int, *, newline: bytes = b"\n") -> Path:
    path.write_bytes(b"".join(request_line(f"r{i}") + newline for i in range(count)))
    return path


def response_line(custom_id: str, status: int) -> dict[str, Any]:
    return {"id": "batch_req_1", "custom_id": custom_id, "error": None,
            "response": {"status_code": status, "request_id": "req_1", "body": {}}}  # fmt: skip


def not_run_line(custom_id: str, code: str) -> dict[str, Any]:
    return {"id": "batch_req_1", "custom_id": custom_id, "response": None, "error": {"code": code, "message": "."}}


# --- the rule ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "outcome"),
    [
        (response_line("a", 200), "done"),
        (response_line("a", 204), "done"),
        (response_line("a", 408), "retryable"),
        (response_line("a", 429), "retryable"),
        (response_line("a", 500), "retryable"),
        (response_line("a", 503), "retryable"),
        (response_line("a", 599), "retryable"),
        (response_line("a", 400), "failed"),
        (response_line("a", 401), "failed"),
        (response_line("a", 404), "failed"),
        (response_line("a", 422), "failed"),
        (response_line("a", 302), "failed"),
        (not_run_line("a", "batch_expired"), "not_run"),
        (not_run_line("a", "batch_cancelled"), "not_run"),
        (not_run_line("a", "something_new"), "failed"),
        ({"custom_id": "a", "response": None, "error": None}, "failed"),
    ],
)
def test_classify_result(record: dict[str, Any], outcome: str) -> None:
    assert classify_result(record) == outcome
    line = json.dumps(record).encode()
    if record["response"] is not None or record["error"] is not None:
        assert parse_result_line(line, 1, "file-x").outcome == outcome


def test_line_splitter_keeps_every_byte_but_the_newline() -> None:
    splitter = LineSplitter("file-x")
    assert splitter.feed(b'{"a":1}\r\n{"b"') == [b'{"a":1}']
    assert splitter.feed(b":2}\n\n") == [b'{"b":2}', b""]
    assert splitter.feed(b'{"c":3}') == []
    assert splitter.end() == [b'{"c":3}']
    assert splitter.end() == []


def test_line_splitter_gathers_a_line_longer_than_its_chunks() -> None:
    splitter = LineSplitter("file-x")
    assert [splitter.feed(b"ab"), splitter.feed(b""), splitter.feed(b"cd")] == [[], [], []]
    assert splitter.feed(b"e\nf") == [b"abcde"]
    assert splitter.feed(b"\n") == [b"f"]
    assert splitter.end() == []


def finished_batch(**fields: Any) -> Batch:
    data = {"id": "batch_old", "status": "cancelled", "endpoint": ENDPOINT, "completion_window": "24h",
            "input_file_id": "file-in", "output_file_id": "file-out", "error_file_id": "file-err"}  # fmt: skip
    data.update(fields)
    return Batch.from_dict(data)


def scan_of(results: list[dict[str, Any]], inputs: list[str], *, retry_failed: bool = False) -> tuple[list[str], Any]:
    scan = RemainderScan(finished_batch(), retry_failed=retry_failed)
    for record in results:
        scan.add_result_line(json.dumps(record).encode(), "file-out")
    taken = [custom_id for custom_id in inputs if scan.take(request_line(custom_id))]
    return taken, scan


def test_scan_yields_unrun_and_missing_and_retryable_only_when_asked() -> None:
    results = [response_line("ok", 200), response_line("busy", 429), response_line("bad", 400),
               not_run_line("late", "batch_expired"), not_run_line("stopped", "batch_cancelled")]  # fmt: skip
    inputs = ["ok", "busy", "bad", "late", "stopped", "never"]
    taken, scan = scan_of(results, inputs)
    assert taken == ["late", "stopped", "never"]
    report = scan.finish(None)
    assert (report.finished, report.to_resubmit, report.failed) == (1, 3, 2)
    taken, scan = scan_of(results, inputs, retry_failed=True)
    assert taken == ["busy", "late", "stopped", "never"]
    assert scan.finish(None).failed == 1


def test_scan_reports_duplicates_and_unknown_ids_instead_of_merging() -> None:
    taken, scan = scan_of([response_line("a", 200), response_line("ghost", 200)], ["a", "b", "b"])
    assert taken == ["b", "b"]
    with pytest.raises(errors.RemainderConflictError) as caught:
        scan.finish(None)
    assert "'b'" in str(caught.value)
    assert "'ghost'" in str(caught.value)
    assert caught.value.report.duplicate_ids == ["b"]
    assert caught.value.report.unknown_ids == ["ghost"]
    given = RemainderReport()
    assert scan.finish(given) is given  # with a report to fill, the caller decides
    assert given.conflicts


def test_scan_repeated_results_keep_the_most_final_outcome() -> None:
    results = [not_run_line("a", "batch_cancelled"), response_line("a", 200), response_line("a", 500)]
    taken, scan = scan_of(results, ["a"], retry_failed=True)
    assert taken == []
    report = RemainderReport()
    scan.finish(report)
    assert report.repeated_results == ["a", "a"]


def test_scan_refuses_a_running_batch_and_bad_input_lines() -> None:
    with pytest.raises(ValueError, match="in_progress"):
        RemainderScan(finished_batch(status="in_progress"), retry_failed=False)
    with pytest.raises(ValueError, match="no input file"):
        RemainderScan(finished_batch(input_file_id=None), retry_failed=False)
    scan = RemainderScan(finished_batch(), retry_failed=False)
    assert scan.take(b"   ") is False
    with pytest.raises(errors.ResultsFormatError, match="file-in line 2"):
        scan.take(b"{not json")
    with pytest.raises(errors.ResultsFormatError, match="custom_id"):
        scan.take(b'{"custom_id": 3}')


# --- metadata ------------------------------------------------------------------------------------------------------


def test_resubmit_metadata_adds_the_origin_and_replaces_an_older_one() -> None:
    batch = finished_batch(metadata={"owner": "me", ORIGIN_KEY: "batch_older"})
    assert resubmit_metadata(batch, None) == {"owner": "me", ORIGIN_KEY: "batch_old"}
    assert resubmit_metadata(batch, {"x": "y"}) == {"x": "y", ORIGIN_KEY: "batch_old"}


def test_resubmit_metadata_when_full_raises_naming_the_limit() -> None:
    full = {f"k{i}": "v" for i in range(16)}
    with pytest.raises(ValueError, match="already has 16 keys"):
        resubmit_metadata(finished_batch(metadata=full), None)
    # A full set that includes the origin key has room: that key is replaced.
    fifteen = dict(list(full.items())[:15])
    assert len(resubmit_metadata(finished_batch(metadata={**fifteen, ORIGIN_KEY: "x"}), None)) == 16
    with pytest.raises(ValueError, match="must be a str"):
        resubmit_metadata(finished_batch(metadata={"n": 1}), None)


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ([("a", "b")], "mapping"),
        ({f"k{i}": "v" for i in range(17)}, "17 keys"),
        ({"k" * 65: "v"}, "65 characters"),
        ({"k": "v" * 513}, "513 characters"),
        ({"": "v"}, "non-empty"),
    ],
)
def test_check_metadata(metadata: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_metadata(metadata)


def test_remainder_filename_is_a_safe_jsonl_name() -> None:
    assert remainder_filename("batch_a/b c") == "remainder-of-batch_a_b_c.jsonl"


# --- the client against the fake ----------------------------------------------------------------------------------


def run_batch(
    api: FakeBatchAPI, client: BatchesClient, clock: FakeClock, tmp_path: Path, count: int, *, seconds: float
) -> Batch:
    uploaded = client.upload_file(write_input(tmp_path / "in.jsonl", count))
    batch = client.create_batch(uploaded.id, endpoint=ENDPOINT, metadata={"owner": "tests"})
    clock.advance(seconds)
    return batch


def test_cancel_and_resubmit_runs_the_rest(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, fake_clock: FakeClock, tmp_path: Path
) -> None:
    # validating 0.5 s, then 10 requests/s: 2.5 s in, 20 of 50 requests are done.
    batch = run_batch(fake_batch_api, batches_client, fake_clock, tmp_path, 50, seconds=2.5)
    old, results, failures, new = batches_client.cancel_and_resubmit(batch.id, timeout=60)
    assert old.status == "cancelled"
    assert [r.custom_id for r in results] == [f"r{i}" for i in range(20)]
    assert {r.error["code"] for r in failures if r.error} == {"batch_cancelled"}
    assert new is not None
    assert new.metadata == {"owner": "tests", ORIGIN_KEY: batch.id}
    assert new.endpoint == ENDPOINT
    finished = batches_client.wait(new.id, timeout=600)
    assert finished.status == "completed"
    assert finished.request_counts.total == 30
    resubmitted = fake_batch_api.get_file(finished.input_file_id)
    assert resubmitted == b"".join(request_line(f"r{i}") + b"\n" for i in range(20, 50))
    # Nothing remains of a completed batch: nothing is uploaded.
    fake_batch_api.clear_requests()
    assert batches_client.resubmit(finished) is None
    assert all(request.method == "GET" for request in fake_batch_api.requests)


def test_expiry_keeps_what_finished_and_resubmits_the_rest(tmp_path: Path) -> None:
    clock = FakeClock()
    api = FakeBatchAPI(clock=clock, request_rate=1 / 30_000)  # 1 request per 30,000 s: 2 finish in 24 h
    http = httpx.Client(transport=api.transport())
    client = BatchesClient(api.api_key, base_url=api.base_url, http_client=http, sleep=clock.advance, clock=clock)
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(request_line(f"r{i}") + b"\r\n" for i in range(5)))
    batch = client.create_batch(client.upload_file(path).id, endpoint=ENDPOINT)
    clock.advance(86_401)
    expired = client.retrieve(batch.id)
    assert expired.status == "expired"
    assert [r.custom_id for r in client.iter_results(expired)] == ["r0", "r1"]
    assert {r.error["code"] for r in client.iter_results(expired, errors=True) if r.error} == {"batch_expired"}
    assert list(client.remainder(batch.id)) == [request_line(f"r{i}") for i in range(2, 5)]  # CRLF is a newline
    out = tmp_path / "rest.jsonl"
    report = client.write_remainder(expired, out)
    assert out.read_bytes() == b"".join(request_line(f"r{i}") + b"\n" for i in range(2, 5))
    assert (report.finished, report.to_resubmit, report.failed) == (2, 3, 0)


def failing_responder(request: FakeRequest) -> FakeResponse:
    status = {"r1": 429, "r2": 500, "r3": 400}.get(request.custom_id, 200)
    return FakeResponse(status, {"error": {"message": "no"}} if status != 200 else {"ok": True})


def test_retry_failed_resubmits_retryable_failures_only(tmp_path: Path) -> None:
    clock = FakeClock()
    api = FakeBatchAPI(clock=clock, responder=failing_responder)
    http = httpx.Client(transport=api.transport())
    client = BatchesClient(api.api_key, base_url=api.base_url, http_client=http, sleep=clock.advance, clock=clock)
    batch = client.create_batch(client.upload_file(write_input(tmp_path / "in.jsonl", 5)).id, endpoint=ENDPOINT)
    done = client.wait(batch.id, timeout=60)
    assert done.status == "completed"
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 3)
    assert list(client.remainder(done)) == []
    assert list(client.remainder(done, retry_failed=True)) == [request_line("r1"), request_line("r2")]
    again = client.resubmit(done, retry_failed=True, completion_window="24h")
    assert again is not None
    assert api.get_file(again.input_file_id) == request_line("r1") + b"\n" + request_line("r2") + b"\n"


def test_remainder_conflicts_are_raised_before_any_upload(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, tmp_path: Path
) -> None:
    # A seeded cancelled batch: request-1 and request-2 finished; its input repeats request-4 and lacks request-2.
    fake_batch_api.add_file("file-in", b"\n".join(request_line(f"request-{i}") for i in (1, 3, 4, 4, 5)))
    fake_batch_api.add_batch("batch_dup", status="cancelled", total=5, completed=2, input_file_id="file-in")
    with pytest.raises(errors.RemainderConflictError) as caught:
        list(batches_client.remainder("batch_dup"))
    assert caught.value.report.duplicate_ids == ["request-4"]
    assert caught.value.report.unknown_ids == ["request-2"]
    fake_batch_api.clear_requests()
    with pytest.raises(errors.RemainderConflictError):
        batches_client.resubmit("batch_dup")
    assert not [r for r in fake_batch_api.requests if r.method == "POST"]
    target = tmp_path / "rest.jsonl"
    with pytest.raises(errors.RemainderConflictError):
        batches_client.write_remainder("batch_dup", target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_full_metadata_refuses_before_cancelling_or_uploading(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_full", status="in_progress", metadata={f"k{i}": "v" for i in range(16)})
    with pytest.raises(ValueError, match="16 keys"):
        batches_client.cancel_and_resubmit("batch_full", timeout=60)
    assert [r.method for r in fake_batch_api.requests] == ["GET"]
    assert fake_batch_api.get_batch("batch_full")["status"] == "in_progress"


def test_a_refused_create_deletes_the_uploaded_remainder(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, fake_clock: FakeClock, tmp_path: Path
) -> None:
    batch = run_batch(fake_batch_api, batches_client, fake_clock, tmp_path, 10, seconds=0.6)
    stopped = batches_client.cancel_and_wait(batch.id, timeout=60)
    files_before = set(fake_batch_api.files)
    with pytest.raises(errors.BadRequestError, match="48h"):
        batches_client.resubmit(stopped, completion_window="48h")
    assert set(fake_batch_api.files) == files_before  # uploaded, then deleted


@pytest.mark.parametrize(
    ("name", "content", "options", "problem"),
    [
        ("in.jsonl", b"", {}, "empty"),
        ("in.txt", b"{}\n", {}, r"\*\.jsonl"),
        ("in.txt", b"{}\n", {"purpose": "user_data"}, None),
        ("in.jsonl", b"{}\n", {"purpose": ""}, "purpose"),
        ("in.jsonl", b"{}\n", {"filename": "a/b.jsonl"}, "plain file name"),
    ],
)
def test_upload_checks_before_sending(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, tmp_path: Path,
    name: str, content: bytes, options: dict[str, Any], problem: str | None,
) -> None:  # fmt: skip
    path = tmp_path / name
    path.write_bytes(content)
    if problem is None:
        assert batches_client.upload_file(path, **options).purpose == options["purpose"]
        return
    with pytest.raises(ValueError, match=problem):
        batches_client.upload_file(path, **options)
    assert fake_batch_api.requests == []


def test_upload_refuses_a_missing_or_oversized_file(batches_client: BatchesClient, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a file"):
        batches_client.upload_file(tmp_path / "missing.jsonl")
    big = tmp_path / "big.jsonl"
    with big.open("wb") as out:
        out.truncate(200 * 1024 * 1024 + 1)  # sparse: nothing is written
    with pytest.raises(ValueError, match="at most 209715200"):
        batches_client.upload_file(big)


def test_upload_streams_multipart_with_a_random_boundary(tmp_path: Path) -> None:
    file_object = {"id": "file-1", "object": "file", "bytes": 3, "created_at": 1, "filename": "in.jsonl",
                   "purpose": "batch"}  # fmt: skip
    script = Script(httpx.Response(500), httpx.Response(200, json=file_object))
    http = httpx.Client(transport=httpx.MockTransport(script))
    client = BatchesClient(API_KEY, http_client=http, sleep=lambda _: None)
    uploaded = client.upload_file(write_input(tmp_path / "in.jsonl", 1))
    assert uploaded.id == "file-1"
    first, retried = script.requests
    content_type = retried.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert "boundary=+++" not in content_type
    assert retried.content == first.content  # the retry re-read the file from its start
    assert request_line("r0") in retried.content
    assert b'name="purpose"' in retried.content


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"input_file_id": ""}, "input_file_id"),
        ({"endpoint": "v1/chat/completions"}, "endpoint"),
        ({"completion_window": ""}, "completion_window"),
        ({"metadata": {"k": 1}}, "must be a str"),
    ],
)
def test_create_batch_checks_before_sending(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, kwargs: dict[str, Any], problem: str
) -> None:
    arguments: dict[str, Any] = {"input_file_id": "file-1", "endpoint": ENDPOINT, **kwargs}
    with pytest.raises(ValueError, match=problem):
        batches_client.create_batch(arguments.pop("input_file_id"), **arguments)
    assert fake_batch_api.requests == []


def test_file_retrieve_and_delete(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, tmp_path: Path) -> None:
    uploaded = batches_client.upload_file(write_input(tmp_path / "in.jsonl", 2), filename="named.jsonl")
    described = batches_client.retrieve_file(uploaded.id)
    assert (described.filename, described.purpose, described.bytes) == ("named.jsonl", "batch", uploaded.bytes)
    assert batches_client.delete_file(uploaded.id).deleted
    with pytest.raises(errors.NotFoundError):
        batches_client.retrieve_file(uploaded.id)
    with pytest.raises(ValueError, match="file_id"):
        batches_client.delete_file("..")


def test_async_twin_resubmits(
    fake_batch_api: FakeBatchAPI, async_batches_client: AsyncBatchesClient, fake_clock: FakeClock, tmp_path: Path
) -> None:
    async def main() -> tuple[Any, list[bytes], Batch | None]:
        client = async_batches_client
        uploaded = await client.upload_file(write_input(tmp_path / "in.jsonl", 20))
        batch = await client.create_batch(uploaded.id, endpoint=ENDPOINT)
        fake_clock.advance(1.0)  # 5 done
        result = await client.cancel_and_resubmit(batch.id, timeout=60)
        lines = [line async for line in client.remainder(result.batch)]
        target = tmp_path / "rest.jsonl"
        await client.write_remainder(result.batch, target)
        assert target.read_bytes() == b"".join(line + b"\n" for line in lines)
        return result, lines, result.resubmitted

    result, lines, new = asyncio.run(main())
    assert len(result.results) == 5
    assert lines == [request_line(f"r{i}") for i in range(5, 20)]
    assert new is not None
    assert new.metadata == {ORIGIN_KEY: result.batch.id}
