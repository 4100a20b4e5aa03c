"""The requests inside a fake batch: reading its input file as OpenAI validates it, and answering each request.

`parse_input` applies OpenAI's documented input rules (one JSON object per line, a unique string `custom_id`,
`method` POST, `url` equal to the batch's endpoint, one model per file, at most 50,000 requests) and returns either
the requests or the `errors.data` entries of a `failed` batch, each naming its line. A responder decides what each
request gets: `default_responder` answers deterministically per endpoint; pass your own to `FakeBatchAPI`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Final, NamedTuple

__all__ = [
    "BATCH_ENDPOINTS",
    "MAX_REQUESTS",
    "FakeRequest",
    "FakeResponse",
    "Responder",
    "default_responder",
    "parse_input",
]

MAX_REQUESTS: Final = 50_000  # "The file can contain up to 50,000 requests" (CreateBatchRequest.input_file_id)
# CreateBatchRequest.endpoint: "Currently /v1/responses, /v1/chat/completions, ... are supported".
BATCH_ENDPOINTS: Final = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
_MAX_ERRORS: Final = 100  # errors listed for a failed batch; a broken file can have 50,000 bad lines
_TOKENS: Final = (24, 9)  # prompt and completion tokens of every default answer


class FakeRequest(NamedTuple):
    """One request of a fake batch, as a responder sees it."""

    batch_id: str
    position: int
    """Its position among the file's requests, from 0."""
    custom_id: str
    method: str
    url: str
    body: dict[str, Any]


class FakeResponse(NamedTuple):
    """What a responder returns: the HTTP status the request got and its JSON body (non-2xx = failed)."""

    status_code: int
    body: Any


Responder = Callable[[FakeRequest], FakeResponse]


def _error(code: str, message: str, line: int | None, param: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def parse_input(batch_id: str, content: bytes, endpoint: str) -> tuple[list[FakeRequest], list[dict[str, Any]]]:
    """The requests of an input file, or (when any line breaks a rule) the errors that fail the batch."""
    requests: list[FakeRequest] = []
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    model: object = None
    for number, raw in enumerate(content.split(b"\n"), start=1):
        if not raw.strip():
            continue
        problem = _line_problem(raw, number, endpoint, seen)
        if isinstance(problem, dict):
            problems.append(problem)
        else:
            line_model = problem.body.get("model")
            if model is None:
                model = line_model
            elif line_model != model:
                problems.append(
                    _error("mismatched_model", f"All requests must use the same model; expected {model!r}.", number)
                )
            requests.append(problem._replace(batch_id=batch_id, position=len(requests)))
        if len(problems) >= _MAX_ERRORS:
            break
    if not problems and not requests:
        problems.append(_error("empty_file", "The input file contains no requests.", None))
    if len(requests) > MAX_REQUESTS:
        problems.append(
            _error("too_many_requests", f"The input file has {len(requests)} requests; at most {MAX_REQUESTS}.", None)
        )
    return (requests, []) if not problems else ([], problems)


def _line_problem(raw: bytes, number: int, endpoint: str, seen: set[str]) -> dict[str, Any] | FakeRequest:  # noqa: PLR0911
    try:
        line = json.loads(raw)
    except ValueError:
        return _error("invalid_json_line", "This line is not parseable as valid JSON.", number)
    if not isinstance(line, dict):
        return _error("invalid_json_line", "Each line must be a JSON object.", number)
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return _error("missing_required_parameter", "Missing required parameter: 'custom_id'.", number, "custom_id")
    if custom_id in seen:
        return _error("duplicate_custom_id", f"The custom_id {custom_id!r} is used more than once.", number)
    seen.add(custom_id)
    if line.get("method") != "POST":
        return _error("invalid_method", "Only the POST method is supported.", number, "method")
    if line.get("url") != endpoint:
        return _error("invalid_url", f"The url must be the batch's endpoint, {endpoint!r}.", number, "url")
    body = line.get("body")
    if not isinstance(body, dict):
        return _error("missing_required_parameter", "Missing required parameter: 'body'.", number, "body")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _error("missing_required_parameter", "Missing required parameter: 'body.model'.", number, "body.model")
    return FakeRequest("", 0, custom_id, "POST", endpoint, body)


def _digest(*parts: object, length: int) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:length]


def _usage() -> dict[str, int]:
    prompt, completion = _TOKENS
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def default_responder(request: FakeRequest) -> FakeResponse:
    """A deterministic success per endpoint: a chat completion, an embedding, a completion, a response, ..."""
    model = request.body.get("model")
    text = f"This is the fake answer to {request.custom_id}."
    ident = _digest(request.batch_id, request.custom_id, length=24)
    body: dict[str, Any]
    if request.url == "/v1/chat/completions":
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        body = {"id": f"chatcmpl-{ident}", "object": "chat.completion", "created": 0, "model": model,
                "choices": [choice], "usage": _usage()}  # fmt: skip
    elif request.url == "/v1/embeddings":
        vector = [int(_digest(ident, i, length=4), 16) / 65_535 for i in range(8)]
        body = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": vector}],
                "model": model, "usage": {"prompt_tokens": _TOKENS[0], "total_tokens": _TOKENS[0]}}  # fmt: skip
    elif request.url == "/v1/completions":
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}
        body = {"id": f"cmpl-{ident}", "object": "text_completion", "created": 0, "model": model,
                "choices": [choice], "usage": _usage()}  # fmt: skip
    elif request.url == "/v1/responses":
        content = [{"type": "output_text", "text": text, "annotations": []}]
        output = [{"type": "message", "id": f"msg_{ident}", "status": "completed", "role": "assistant",
                   "content": content}]  # fmt: skip
        body = {"id": f"resp_{ident}", "object": "response", "created_at": 0, "status": "completed", "model": model,
                "output": output, "usage": {"input_tokens": _TOKENS[0], "output_tokens": _TOKENS[1],
                                            "total_tokens": sum(_TOKENS)}}  # fmt: skip
    elif request.url == "/v1/moderations":
        body = {"id": f"modr-{ident}", "model": model, "results": [{"flagged": False, "categories": {},
                                                                    "category_scores": {}}]}  # fmt: skip
    else:
        body = {"id": ident, "object": "fake.response", "model": model, "text": text}
    return FakeResponse(200, body)
