"""Result lines as the servers of PROVIDERS.md write them: every shape parses, and one rule says what succeeded."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batches_ext._results import BatchResult, classify_result, parse_result_line

RESPONSE_OK = {"status_code": 200, "request_id": "req_1", "body": {"object": "chat.completion", "choices": []}}
HTTP_FAILURE = {
    "status_code": 400,
    "request_id": "req_2",
    "body": {"error": {"message": "max_tokens is too large", "type": "invalid_request_error", "code": None}},
}


def parsed(record: dict[str, Any]) -> BatchResult:
    return parse_result_line(json.dumps(record).encode(), 1, "file-out")


# (what kind of line, the line, id, batch_id, request_id, ok, outcome)
SHAPES = [
    (
        "openai success",
        {"id": "batch_req_1", "custom_id": "a", "response": RESPONSE_OK, "error": None},
        "batch_req_1",
        None,
        "req_1",
        True,
        "done",
    ),
    (
        "openai http failure in response.body.error",
        {"id": "batch_req_2", "custom_id": "b", "response": HTTP_FAILURE, "error": None},
        "batch_req_2",
        None,
        "req_2",
        False,
        "failed",
    ),
    (
        "never ran: top-level error, response null",
        {"id": "batch_req_3", "custom_id": "c", "response": None, "error": {"code": "batch_expired", "message": "x"}},
        "batch_req_3",
        None,
        None,
        False,
        "not_run",
    ),
    (
        "azure: no id at all",
        {"custom_id": "d", "response": RESPONSE_OK, "error": None},
        None,
        None,
        "req_1",
        True,
        "done",
    ),
    (
        "the batch's id in id, no request_id",
        {"id": "batch_9", "custom_id": "e", "response": {"status_code": 201, "body": {}}},
        "batch_9",
        None,
        None,
        True,
        "done",
    ),
    (
        "batch_id instead of id, bare hex request id",
        {"batch_id": "batch_9", "custom_id": "f", "response": dict(RESPONSE_OK, request_id="9f8e7d6c")},
        None,
        "batch_9",
        "9f8e7d6c",
        True,
        "done",
    ),
    (
        "id and request_id of unexpected types read as None",
        {"id": 17, "custom_id": "g", "response": {"status_code": 503, "request_id": 5, "body": None}},
        None,
        None,
        None,
        False,
        "retryable",
    ),
    (
        "a 2xx that also carries a top-level error is not a success",
        {"custom_id": "h", "response": RESPONSE_OK, "error": {"code": "server_error", "message": "partial"}},
        None,
        None,
        "req_1",
        False,
        "failed",
    ),
]


@pytest.mark.parametrize(
    ("record", "line_id", "batch_id", "request_id", "ok", "outcome"),
    [shape[1:] for shape in SHAPES],
    ids=[shape[0] for shape in SHAPES],
)
def test_every_servers_result_line_parses_and_succeeds_by_one_rule(
    record: dict[str, Any], line_id: str | None, batch_id: str | None, request_id: str | None, ok: bool, outcome: str
) -> None:
    result = parsed(record)
    assert (result.id, result.batch_id, result.request_id) == (line_id, batch_id, request_id)
    assert (result.ok, result.outcome) == (ok, outcome)
    assert result.outcome == classify_result(record)  # the remainder logic and `ok` read the same rule
    assert result.to_dict() == record
    assert repr(result).startswith(f"BatchResult(custom_id={record['custom_id']!r}")


def test_a_failed_request_s_error_is_found_where_the_server_put_it() -> None:
    ran_and_failed = parsed({"custom_id": "b", "response": HTTP_FAILURE, "error": None})
    assert ran_and_failed.error is None
    assert ran_and_failed.response_error == HTTP_FAILURE["body"]["error"]  # type: ignore[index]
    never_ran = parsed({"custom_id": "c", "response": None, "error": {"code": "batch_cancelled", "message": "x"}})
    assert never_ran.error == {"code": "batch_cancelled", "message": "x"}
    assert never_ran.response_error is None
    body_not_an_object = parsed({"custom_id": "d", "response": {"status_code": 500, "body": "upstream timeout"}})
    assert body_not_an_object.response_error is None
    assert body_not_an_object.body == "upstream timeout"
