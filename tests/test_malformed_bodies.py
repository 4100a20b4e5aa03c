"""Bodies that are JSON nested absurdly deep, or lie about their encoding, end as typed errors naming the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, BatchesClient, errors
from batches_ext._json import MAX_DEPTH, JSONDepthError, loads
from batches_ext._results import parse_result_line
from tests.conftest import Script
from tests.payloads import CANCELLING, batch

DEEP = 100_000  # far past the ~1,000 levels at which json.loads raises RecursionError


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_deep_metadata(depth: int) -> bytes:
    return json.dumps(dict(CANCELLING, metadata={"k": "__DEEP__"})).encode().replace(b'"__DEEP__"', nested(depth))


FILE = b'{"id":"file_1","object":"file","bytes":1,"created_at":1,"filename":"f.jsonl","purpose":"batch","deep":%s}'


def json_response(content: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("call", "content"),
    [
        (lambda client: client.retrieve("batch_abc123"), with_deep_metadata(DEEP)),
        (lambda client: client.retrieve("batch_abc123"), with_deep_metadata(MAX_DEPTH)),  # decodes, too deep to use
        (lambda client: client.retrieve("batch_abc123"), nested(DEEP)),
        (lambda client: next(client.list()), b'{"object":"list","has_more":false,"data":' + nested(DEEP) + b"}"),
        (lambda client: client.retrieve_file("file_1"), FILE % nested(DEEP)),
    ],
    ids=["batch", "batch-just-too-deep", "bare-array", "page", "file"],
)
def test_deeply_nested_json_is_a_validation_error_not_a_recursion_error(
    call: Callable[[BatchesClient], Any], content: bytes, make_client: Callable[..., BatchesClient]
) -> None:
    client = make_client(Script(json_response(content)))
    with pytest.raises(errors.APIResponseValidationError, match=f"nested more than {MAX_DEPTH} levels deep"):
        call(client)


async def test_deeply_nested_json_is_a_validation_error_for_the_async_client(
    make_async_client: Callable[..., AsyncBatchesClient],
) -> None:
    client = make_async_client(Script(json_response(with_deep_metadata(DEEP))))
    with pytest.raises(errors.APIResponseValidationError, match="nested more than"):
        await client.retrieve("batch_abc123")


pytestmark = pytest.mark.anyio


def test_a_deeply_nested_error_body_still_gives_the_status_error(make_client: Callable[..., BatchesClient]) -> None:
    client = make_client(Script(json_response(b'{"error":' + nested(DEEP) + b"}", status=404)))
    with pytest.raises(errors.NotFoundError) as caught:
        client.retrieve("batch_abc123")
    assert caught.value.status_code == 404


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, DEEP])
def test_a_deeply_nested_result_line_is_a_results_format_error(depth: int) -> None:
    line = b'{"custom_id":"r1","response":{"status_code":200,"body":' + nested(depth) + b"}}"
    with pytest.raises(errors.ResultsFormatError, match=r"line 7: .*nested more than"):
        parse_result_line(line, 7, "file_out")


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (nested(MAX_DEPTH), True),
        (nested(MAX_DEPTH + 1), False),
        (b"[" + b"[],[]," * 500 + b"[]]", True),  # many brackets, shallow: the walk runs and passes
        (json.dumps({"a": [{"b": [1, {"c": "[[[[[[[[" * 20}]}]}).encode(), True),  # brackets in strings do not nest
        (b'{"a":[{"b":' + nested(MAX_DEPTH - 3) + b"}," + b"[1]," * 200 + b"2]}", True),  # objects and arrays mixed
        (b'{"a":[{"b":' + nested(MAX_DEPTH - 2) + b"}," + b"[1]," * 200 + b"2]}", False),  # one level more
        (b"[" + b"{}," * 300 + nested(MAX_DEPTH) + b"]", False),  # deep past many shallow siblings
    ],
)
def test_json_depth_bound(text: bytes, ok: bool) -> None:
    if ok:
        assert loads(text) == json.loads(text)
        assert loads(text.decode()) == json.loads(text)
    else:
        with pytest.raises(JSONDepthError):
            loads(text)


def _not_gzip(status: int = 200) -> httpx.Response:
    body = json.dumps(batch(status="completed")).encode()
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    return httpx.Response(status, stream=httpx.ByteStream(body), headers=headers)


@pytest.mark.parametrize("status", [200, 404, 500])
def test_a_body_wrongly_labelled_gzip_is_a_validation_error_not_a_connection_error(
    status: int, make_client: Callable[..., BatchesClient]
) -> None:
    script = Script(*[_not_gzip(status)] * 3)
    client = make_client(script)
    with pytest.raises(errors.APIResponseValidationError, match="Content-Encoding") as caught:
        client.retrieve("batch_abc123")
    assert not isinstance(caught.value, errors.APIConnectionError)
    assert len(script.requests) == 1  # the server answered: sending again would get the same


async def test_a_body_wrongly_labelled_gzip_is_a_validation_error_for_the_async_client(
    make_async_client: Callable[..., AsyncBatchesClient],
) -> None:
    client = make_async_client(Script(_not_gzip()))
    with pytest.raises(errors.APIResponseValidationError, match="Content-Encoding"):
        await client.retrieve("batch_abc123")


def test_a_results_file_wrongly_labelled_gzip_is_a_validation_error(make_client: Callable[..., BatchesClient]) -> None:
    completed = batch(status="completed", output_file_id="file_out")
    line = b'{"custom_id":"r1","response":{"status_code":200,"body":{}}}\n'
    not_gzip = httpx.Response(200, stream=httpx.ByteStream(line), headers={"content-encoding": "gzip"})
    client = make_client(Script(json_response(json.dumps(completed).encode()), not_gzip))
    with pytest.raises(errors.APIResponseValidationError, match="Content-Encoding"):
        list(client.iter_results("batch_abc123"))
