"""The JSONL a finished fake batch leaves behind: its output file (successes) and error file (failures).

Lines follow OpenAI's batch output format, one per request:
`{"id": "batch_req_...", "custom_id": "request-N", "response": {"status_code", "request_id", "body"}, "error": null}`.
Everything is derived from the batch id and the request's number, so the same batch always yields the same bytes.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from batches_ext.testing._wire import dumps, error_body

__all__ = ["batch_usage", "digest", "error_file", "file_id", "input_file", "output_file"]

# Tokens of every fake request, so the batch's `usage` is exactly the sum over its output file.
PROMPT_TOKENS: Final = 24
COMPLETION_TOKENS: Final = 9
# A real rejection of a malformed chat request, as the API words it.
_FAILED_REQUEST: Final = error_body(
    "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
    "invalid_request_error",
    param="messages",
    code="empty_array",
)


def _digest(*parts: object, length: int = 24) -> str:
    """A stable hex token for `parts`; ids must be unique per batch and request, not secret."""
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:length]


def digest(batch_id: str, custom_id: str) -> str:
    """A stable 32-hex-digit token for a request of a batch (its `batch_req_` and `req_` ids)."""
    return _digest(batch_id, custom_id, "req", length=32)


def file_id(batch_id: str, kind: str) -> str:
    """The id of a batch's `output` or `error` file, like `file-3f2a...`."""
    return f"file-{_digest(batch_id, kind)}"


def _custom_id(number: int) -> str:
    return f"request-{number}"


def _chat_completion(batch_id: str, number: int, model: str, created: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{_digest(batch_id, number, 'chat', length=29)}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": f"This is the fake answer to {_custom_id(number)}.",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": f"fp_{_digest(model, length=10)}",
    }


def _line(batch_id: str, number: int, status_code: int, body: dict[str, Any]) -> bytes:
    record = {
        "id": f"batch_req_{_digest(batch_id, number, 'req', length=32)}",
        "custom_id": _custom_id(number),
        "response": {
            "status_code": status_code,
            "request_id": f"req_{_digest(batch_id, number, 'request_id', length=32)}",
            "body": body,
        },
        "error": None,
    }
    return dumps(record) + b"\n"


def input_file(*, total: int, endpoint: str, model: str) -> bytes:
    """The input file of an added batch: requests request-1 ... request-total, one chat request per line."""
    return b"".join(
        dumps({"custom_id": _custom_id(number), "method": "POST", "url": endpoint,
               "body": {"model": model, "messages": [{"role": "user", "content": f"Fake request {number}."}]}})
        + b"\n"
        for number in range(1, total + 1)
    )  # fmt: skip


def output_file(batch_id: str, *, count: int, model: str, created: int) -> bytes:
    """The output file of a batch whose first `count` requests (request-1 ... request-count) succeeded."""
    return b"".join(
        _line(batch_id, number, 200, _chat_completion(batch_id, number, model, created + number))
        for number in range(1, count + 1)
    )


def error_file(batch_id: str, *, first: int, count: int) -> bytes:
    """The error file of a batch whose requests `first` ... `first + count - 1` were rejected with a 400."""
    return b"".join(_line(batch_id, number, 400, _FAILED_REQUEST) for number in range(first, first + count))


def batch_usage(completed: int) -> dict[str, Any]:
    """The batch object's `usage` after `completed` successful requests (the sum over its output file)."""
    input_tokens, output_tokens = completed * PROMPT_TOKENS, completed * COMPLETION_TOKENS
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }
