"""Where a JSONL line ends and how it is read: LF only, strict UTF-8, a BOM, a bound on a line's length."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batches_ext import Batch, BatchesClient, errors
from batches_ext._jsonl import BOM, LineSplitter
from tests.conftest import PeakMemory, streaming_client
from tests.test_results import CANCELLED, Files, collect, jsonl, output_line

SEPARATORS = "a\u2028b\u2029c\u0085d"  # JSON allows these raw in strings; str.splitlines() splits on each


def with_text(n: int, text: str) -> dict[str, Any]:
    record = output_line(n)
    record["response"]["body"]["text"] = text
    return record


def raw_jsonl(records: list[dict[str, Any]], newline: bytes = b"\n") -> bytes:
    """JSONL written as the API (and the fake) write it: UTF-8, non-ASCII unescaped."""
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + newline for r in records)


class Labelled(Files):
    """Serves the files with a content type of our choosing."""

    def __init__(self, files: dict[str, bytes], content_type: str) -> None:
        super().__init__(files)
        self.content_type = content_type

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if request.url.path.startswith("/v1/files/"):
            response.headers["content-type"] = self.content_type
        return response


def test_line_separators_inside_strings_do_not_split_records(kind: str) -> None:
    records = [output_line(1), output_line(2), with_text(3, SEPARATORS), output_line(4), output_line(5)]
    results = collect(kind, Files({"file-out": raw_jsonl(records)}), "iter_results", Batch.from_dict(CANCELLED))
    assert [r.custom_id for r in results] == [f"request-{n}" for n in range(1, 6)]
    assert results[2].body["text"] == SEPARATORS
    assert [r.line_number for r in results] == [1, 2, 3, 4, 5]


def test_invalid_utf8_is_an_error_naming_the_line(kind: str) -> None:
    bad = json.dumps(with_text(3, "X")).encode().replace(b"X", b"\xff")
    content = jsonl([output_line(1), output_line(2)]) + bad + b"\n" + jsonl([output_line(4)])
    with pytest.raises(errors.ResultsFormatError, match=r"file-out line 3: not valid UTF-8") as info:
        collect(kind, Files({"file-out": content}), "iter_results", Batch.from_dict(CANCELLED))
    assert (info.value.file_id, info.value.line_number) == ("file-out", 3)


def test_the_servers_charset_never_changes_the_decoding(kind: str) -> None:
    files = Labelled({"file-out": raw_jsonl([with_text(1, "café ☕")])}, "application/jsonl; charset=iso-8859-1")
    [result] = collect(kind, files, "iter_results", Batch.from_dict(CANCELLED))
    assert result.body["text"] == "café ☕"


def test_a_leading_bom_and_crlf_newlines_are_tolerated(kind: str) -> None:
    content = BOM + raw_jsonl([output_line(n) for n in range(3)], newline=b"\r\n")
    results = collect(kind, Files({"file-out": content}), "iter_results", Batch.from_dict(CANCELLED))
    assert [r.custom_id for r in results] == ["request-0", "request-1", "request-2"]


def test_a_bom_after_the_first_line_is_not_skipped(kind: str) -> None:
    content = jsonl([output_line(1)]) + BOM + jsonl([output_line(2)])
    with pytest.raises(errors.ResultsFormatError, match="file-out line 2: not valid JSON"):
        collect(kind, Files({"file-out": content}), "iter_results", Batch.from_dict(CANCELLED))


def test_a_line_over_the_bound_is_an_error(kind: str) -> None:
    content = jsonl([output_line(1)]) + json.dumps(with_text(2, "x" * 5000)).encode() + b"\n"
    with pytest.raises(errors.ResultsFormatError, match="file-out line 2: line longer than 4096 bytes"):
        collect(kind, Files({"file-out": content}), "iter_results", Batch.from_dict(CANCELLED), max_line_bytes=4096)
    assert len(collect(kind, Files({"file-out": content}), "iter_results", Batch.from_dict(CANCELLED))) == 2


@pytest.mark.parametrize("bound", [0, -1, 1.5, True, "64"])
def test_a_bad_line_bound_is_refused_before_any_request(kind: str, bound: object) -> None:
    files = Files({"file-out": jsonl([output_line(1)])})
    with pytest.raises(ValueError, match="max_line_bytes must be a positive int"):
        collect(kind, files, "iter_results", "batch_abc123", max_line_bytes=bound)
    assert files.requests == []


def test_a_never_ending_line_stops_at_the_bound_not_at_memory() -> None:
    """A server streaming one endless line: the error comes once the bound is passed, with memory near it."""
    sent: list[int] = []

    class Endless(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            chunk = b"x" * 65536
            while True:
                sent.append(len(chunk))
                yield chunk

    with (
        streaming_client(Endless()) as client,
        PeakMemory() as memory,
        pytest.raises(errors.ResultsFormatError, match="line 1: line longer than 2000000 bytes"),
    ):
        list(client.iter_results(Batch.from_dict(CANCELLED), max_line_bytes=2_000_000))
    assert 2_000_000 < sum(sent) <= 2_000_000 + 65536
    assert memory.peak < 6_000_000, f"peak {memory.peak / 1e6:.1f} MB for a 2 MB bound"


def test_remainder_keeps_an_input_line_with_separators_whole() -> None:
    from batches_ext.testing import FakeBatchAPI

    api = FakeBatchAPI()
    lines = [
        json.dumps({"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
                    "body": {"model": "m", "messages": [{"role": "user", "content": SEPARATORS}]}},
                   ensure_ascii=False).encode()
        for n in range(3)
    ]  # fmt: skip
    api.add_file("file-in", b"\n".join(lines) + b"\n")
    api.add_file("file-out", b"")
    api.add_batch("batch_1", status="cancelled", total=3, input_file_id="file-in", output_file_id="file-out",
                  error_file_id=None)  # fmt: skip
    with BatchesClient(api.api_key, base_url=api.base_url, http_client=httpx.Client(transport=api.transport())) as c:
        assert list(c.remainder("batch_1")) == lines


def test_splitter_reports_where_the_last_complete_line_ended() -> None:
    splitter = LineSplitter("file-x")
    assert splitter.feed(BOM + b"ab\r") == []
    assert splitter.feed(b"\ncd\nef") == [b"ab", b"cd"]
    assert (splitter.line_end, splitter.lines) == (len(BOM) + 7, 2)
    assert splitter.end() == [b"ef"]
    assert (splitter.line_end, splitter.lines) == (len(BOM) + 9, 3)


def test_a_resumed_splitter_counts_on_and_skips_no_bom() -> None:
    splitter = LineSplitter("file-x", offset=100, lines=7)
    assert splitter.feed(BOM + b"x\n") == [BOM + b"x"]
    assert (splitter.line_end, splitter.lines) == (105, 8)


def test_splitter_bound_names_the_line_within_a_chunk() -> None:
    splitter = LineSplitter("file-x", max_line_bytes=4, lines=10)
    assert splitter.feed(b"abcd\n") == [b"abcd"]
    with pytest.raises(errors.ResultsFormatError, match="file-x line 14: line longer than 4 bytes"):
        splitter.feed(b"ab\nabcd\nabcde\n")
