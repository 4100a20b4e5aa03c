"""What a hostile or broken server sends never turns into a traceback, invalid JSON or terminal control in the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from batches_ext import cli
from batches_ext._batch import Batch
from batches_ext._file import FileObject
from batches_ext._page import BatchPage
from tests import local_server
from tests.payloads import CANCELLING

SECRET = "sk-test-hostile-0123456789"
# Instants and counts no server should send: milliseconds, far future, NaN, infinities, huge and negative numbers.
# As JSON literals, because NaN and Infinity are not JSON (Python's json module reads them anyway).
HOSTILE_NUMBERS = ["1711471533123", "1e18", "NaN", "Infinity", "-Infinity", "1" + "0" * 400, "1e400", "-5", "-1e18"]


def _strict(text: str) -> object:
    """`json.loads` that refuses NaN and Infinity, as `jq` and every other JSON parser do."""

    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _batch_body(number: str) -> bytes:
    """A batch whose every timestamp and count is `number` (a JSON literal)."""
    payload: dict[str, Any] = dict(CANCELLING, metadata={"k": "v"})
    marker = "__NUMBER__"
    for key in payload:
        if key.endswith("_at"):
            payload[key] = marker
    payload["request_counts"] = {"total": marker, "completed": marker, "failed": marker}
    return json.dumps(payload).replace(f'"{marker}"', number).encode()


@pytest.fixture
def serve_body(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bytes], str]]:
    """Serve a fixed body for every GET; returns the base URL."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    bodies: list[bytes] = []

    def reply(method: str, path: str, headers: dict[str, str]) -> local_server.Reply:
        del method, headers
        body = bodies[-1]
        if path.split("?", maxsplit=1)[0].endswith("/batches"):  # the list: the batch wrapped in a page
            body = b'{"object":"list","data":[' + body + b'],"has_more":false}'
        return 200, {"content-type": "application/json"}, body

    with local_server.serve(reply) as url:

        def serve(body: bytes) -> str:
            bodies.append(body)
            return url

        yield serve


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
def test_no_attribute_of_a_batch_file_or_page_raises_on_hostile_numbers(number: str) -> None:
    data = json.loads(_batch_body(number))
    file_data = json.loads(
        f'{{"id":"file_1","object":"file","bytes":{number},"created_at":{number},"expires_at":{number},'
        '"filename":"in.jsonl","purpose":"batch"}'
    )
    page = BatchPage.from_dict({"object": "list", "data": [data], "first_id": data["id"], "has_more": False})
    for obj in (Batch.from_dict(data), FileObject.from_dict(file_data), page, *page.data):
        for name in dir(obj):
            if not name.startswith("_"):
                str(getattr(obj, name))


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
@pytest.mark.parametrize("command", [["retrieve", "batch_abc123"], ["list"]])
def test_json_output_is_strict_json_whatever_the_server_sends(
    command: list[str], number: str, serve_body: Callable[[bytes], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_body(_batch_body(number))
    assert cli.main([*command, "--json", "--base-url", url]) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert err == ""
    for document in [out] if command[0] == "retrieve" else out.splitlines():
        parsed = _strict(document)
        assert isinstance(parsed, dict)
        assert parsed["id"] == "batch_abc123"
    if number in ("NaN", "Infinity", "-Infinity", "1e400"):  # not representable in JSON: null, like JSON.stringify
        assert "null" in out


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
@pytest.mark.parametrize("command", [["retrieve", "batch_abc123"], ["list"]])
def test_table_output_survives_hostile_numbers(
    command: list[str], number: str, serve_body: Callable[[bytes], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_body(_batch_body(number))
    assert cli.main([*command, "--base-url", url]) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert "batch_abc123" in out
    assert err == ""
