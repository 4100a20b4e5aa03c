"""Records of a batch's output and error files (JSONL, one request's outcome per line).

Each line is OpenAI's batch output object:
`{"id", "custom_id", "response": {"status_code", "request_id", "body"} | null, "error": {"code", "message"} | null}`.
Other servers vary it (PROVIDERS.md): no `id` (Azure), the batch's id in `id` or in `batch_id`, no `request_id` or a
bare hex one. A failed HTTP request keeps `error: null` and carries its error in `response.body.error`; a request that
never ran has `response: null` and a top-level `error`. A `BatchResult` keeps the decoded line, so `to_dict()` is
lossless, and its stored bytes (`raw`); it checks once the two fields everything needs (`custom_id`, and a `response`
with an integer `status_code` or an `error`), and reads the others tolerantly: a field of an unexpected type reads as
None.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

from batches_ext._batch import Batch
from batches_ext._json import loads
from batches_ext._jsonl import decode_line_error
from batches_ext.errors import ResultsFormatError

__all__ = [
    "NOT_RUN_CODES",
    "BatchResult",
    "CancelledBatch",
    "Outcome",
    "ResultFile",
    "classify_result",
    "parse_result_line",
]


class BatchResult:
    """The outcome of one request of a batch: its HTTP response, or an error that kept it from running."""

    __slots__ = ("_record", "file", "line_number", "raw")

    def __init__(
        self, record: dict[str, Any], line_number: int, raw: bytes = b"", file: ResultFile | None = None
    ) -> None:
        """Wrap an already checked record; `parse_result_line` builds one from a line of text."""
        self._record = record
        self.line_number = line_number
        self.raw = raw
        """The line exactly as the file stored it (UTF-8, without its newline): to copy records byte for byte."""
        self.file = file
        """The file the line came from: `output` (the batch's `output_file_id`) or `error`; None when not read."""

    @property
    def custom_id(self) -> str:
        """The id the batch's author gave this request, to match results to inputs."""
        return str(self._record["custom_id"])

    @property
    def id(self) -> str | None:
        """The line's `id`: OpenAI's id of this request (`batch_req_...`), some servers' batch id; None when absent."""
        return _string(self._record.get("id"))

    @property
    def batch_id(self) -> str | None:
        """The `batch_id` some servers write on each line; None when absent (OpenAI's lines have none)."""
        return _string(self._record.get("batch_id"))

    @property
    def status_code(self) -> int | None:
        """The HTTP status of the request's response, or None when it never ran."""
        response = self._record.get("response")
        return response.get("status_code") if response else None

    @property
    def request_id(self) -> str | None:
        """The `x-request-id` of the request's response, for support; None when the server wrote none."""
        response = self._record.get("response")
        return _string(response.get("request_id")) if response else None

    @property
    def body(self) -> Any:
        """The JSON body of the request's response (a chat completion, an embedding, an error...)."""
        response = self._record.get("response")
        return response.get("body") if response else None

    @property
    def error(self) -> dict[str, Any] | None:
        """The top-level `{"code", "message"}`: set when the request never got an HTTP response, else None.

        A request that ran and failed keeps this None; its error is `response_error`.
        """
        error = self._record.get("error")
        return error if isinstance(error, dict) else None

    @property
    def response_error(self) -> dict[str, Any] | None:
        """`response.body.error` (`{"message", "type", "code", ...}`) of a request that ran and failed, else None."""
        body = self.body
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else None

    @property
    def ok(self) -> bool:
        """True when the request succeeded: the one rule of `classify_result` says `done`."""
        return self.outcome == "done"

    @property
    def outcome(self) -> Outcome:
        """What this line means for resubmitting: `done`, `not_run`, `retryable` or `failed` (`classify_result`)."""
        return classify_result(self._record)

    def to_dict(self) -> dict[str, Any]:
        """The line's JSON object exactly as read (a deep copy)."""
        return copy.deepcopy(self._record)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BatchResult):
            return NotImplemented
        return (self._record, self.line_number) == (other._record, other.line_number)

    __hash__ = None  # type: ignore[assignment]  # equal by content, not hashable

    def __repr__(self) -> str:
        outcome = f"status_code={self.status_code}" if self.error is None else f"error={self.error.get('code')!r}"
        where = f", file={self.file!r}" if self.file is not None else ""
        return f"BatchResult(custom_id={self.custom_id!r}, {outcome}{where}, line_number={self.line_number})"


class CancelledBatch(NamedTuple):
    """What `cancel_and_collect` returns: the final batch and what its requests produced before it stopped."""

    batch: Batch
    results: list[BatchResult]
    """Records of the output file: requests that ran (mostly successes)."""
    errors: list[BatchResult]
    """Records of the error file: requests that failed."""


def parse_result_line(
    line: str | bytes, line_number: int, file_id: str, *, file: ResultFile | None = None
) -> BatchResult:
    """Decode one line of an output or error file (bytes are UTF-8, strictly).

    Raises:
        ResultsFormatError: the line is not UTF-8, or not a JSON batch output object; the error names the file and
            line.
    """
    if isinstance(line, bytes):
        try:
            raw, text = line, line.decode("utf-8")
        except UnicodeDecodeError:
            raise decode_line_error(line, file_id, line_number) from None
    else:
        raw, text = line.encode("utf-8", "surrogatepass"), line
    try:
        record = loads(text)
    except ValueError as exc:
        raise ResultsFormatError(f"not valid JSON ({exc})", file_id=file_id, line_number=line_number) from None
    if not _usual(record):
        problem = _record_problem(record)
        if problem:
            raise ResultsFormatError(problem, file_id=file_id, line_number=line_number)
    return BatchResult(record, line_number, raw, file)


def _usual(record: object) -> bool:
    """The shape of almost every line, checked at a glance: a `custom_id` string, a response with an int status.

    Only a line that is not so is checked item by item (`_record_problem`): the fast path of a 1 GB file.
    """
    if type(record) is not dict or type(record.get("custom_id")) is not str or record.get("error") is not None:
        return False
    response = record.get("response")
    return type(response) is dict and type(response.get("status_code")) is int


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _record_problem(record: object) -> str | None:  # noqa: PLR0911 - one flat checklist
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    if not isinstance(record.get("custom_id"), str):
        return "missing or non-string 'custom_id'"
    response, error = record.get("response"), record.get("error")
    if response is None and error is None:
        return "neither a 'response' nor an 'error'"
    if response is not None:
        if not isinstance(response, dict):  # decoded JSON: an object is a dict
            return "'response' must be an object or null"
        code = response.get("status_code")
        if not isinstance(code, int) or isinstance(code, bool):
            return "'response.status_code' must be an integer"
    if error is not None and not isinstance(error, dict):
        return "'error' must be an object or null"
    return None


# --- which results count as done: the remainder rule, in one place -----------------------------------------------

ResultFile = Literal["output", "error"]
"""Which of a batch's files a result line came from."""

Outcome = Literal["done", "not_run", "retryable", "failed"]
"""What a result line says about its request, for resubmitting (see `classify_result`)."""

# The codes of the lines a batch writes for requests it never started (PROVIDERS.md: `response: null`, a top-level
# `error`), when it expired or was cancelled first.
NOT_RUN_CODES: Final = frozenset({"batch_expired", "batch_cancelled"})
_RETRYABLE_STATUSES: Final = frozenset({408, 429})  # plus every 5xx: the status codes worth sending again


def classify_result(record: Mapping[str, Any]) -> Outcome:
    """The remainder rule: what one result line (a decoded, checked record) means for its request.

    This is the one rule of success: `BatchResult.ok` is `outcome == "done"`, and the remainder logic resubmits by it.

    - `done`: it ran, got a 2xx response, and the line carries no top-level `error`. Never resubmitted.
    - `not_run`: the batch stopped before running it (`error.code` `batch_expired` or `batch_cancelled`, no
      response). Always resubmitted, like a request with no result line at all.
    - `retryable`: it ran and failed in a way that may pass next time (`response.status_code` 408, 429 or 5xx).
      Resubmitted only with `retry_failed=True`.
    - `failed`: it ran and failed for good (any other status: another 4xx will fail again), or it carries an error
      code this rule does not know. Never resubmitted: sending it again would cost money for the same failure.
    """
    response = record.get("response")
    if isinstance(response, Mapping):
        code = response.get("status_code")
        if isinstance(code, int) and 200 <= code < 300:
            return "done" if record.get("error") is None else "failed"
        if isinstance(code, int) and (code in _RETRYABLE_STATUSES or 500 <= code < 600):
            return "retryable"
        return "failed"
    error = record.get("error")
    if isinstance(error, Mapping) and error.get("code") in NOT_RUN_CODES:
        return "not_run"
    return "failed"
