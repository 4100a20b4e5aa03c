"""The ergonomic `Batch`: the API's batch object with datetimes, lists and dicts instead of unix ints and nulls.

A `Batch` keeps the JSON object it was built from, so `to_dict()` is lossless (nulls and unknown fields included)
and reading a field costs one dict lookup. The generated model is built on first use of `raw`. Shapes are checked
once, at construction, for exactly the fields this layer reads: a wrong type is an
`APIResponseValidationError`, never a `KeyError` or `TypeError` later.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from openai_batches_client.models.batch_status import BatchStatus

from batches_ext import convert
from batches_ext.errors import APIResponseValidationError

if TYPE_CHECKING:
    from openai_batches_client.models.batch import Batch as GeneratedBatch

__all__ = [
    "CANCELLABLE_STATUSES",
    "TERMINAL_STATUSES",
    "TIMESTAMP_FIELDS",
    "Batch",
    "BatchErrorDetail",
    "BatchStatus",
    "RequestCounts",
    "Usage",
]

TERMINAL_STATUSES: Final = frozenset(
    {BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.EXPIRED, BatchStatus.CANCELLED}
)
# The statuses a cancel request moves to `cancelling` (seeds: "Cancels an in-progress batch").
CANCELLABLE_STATUSES: Final = frozenset({BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS, BatchStatus.FINALIZING})
TIMESTAMP_FIELDS: Final = (
    "created_at",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)
# For a terminal status, the timestamp that records reaching it.
_ENDED_AT: Final = {
    BatchStatus.COMPLETED: "completed_at",
    BatchStatus.FAILED: "failed_at",
    BatchStatus.EXPIRED: "expired_at",
    BatchStatus.CANCELLED: "cancelled_at",
}


_AnyObject = object  # `Batch.object` (the API's field) shadows the builtin inside the class body


@dataclass(frozen=True, slots=True)
class RequestCounts:
    """How many of the batch's requests finished, and how."""

    total: int
    completed: int
    failed: int

    @property
    def finished(self) -> int:
        """Requests that completed or failed."""
        return self.completed + self.failed

    @property
    def progress(self) -> float | None:
        """The finished share in [0, 1], or None while the total is unknown (0)."""
        return convert.progress(self.completed, self.failed, self.total)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of the batch (only on batches created after 2025-09-07)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_tokens: int
    reasoning_tokens: int


@dataclass(frozen=True, slots=True)
class BatchErrorDetail:
    """One entry of the batch's `errors.data`: why (part of) the input was rejected."""

    code: str | None
    message: str | None
    param: str | None
    line: int | None


class Batch:
    """A batch, as returned by cancel and retrieve.

    Every field of the API's object is an attribute; `*_at` timestamps are aware UTC datetimes (or None),
    `errors` is a list, `metadata` a dict. Unknown fields are kept: see `extra` and `to_dict()`.
    """

    __slots__ = ("_data", "_raw", "request_id")

    def __init__(self, data: dict[str, Any], *, request_id: str | None = None) -> None:
        """Wrap an already validated JSON object; use `Batch.from_dict` for untrusted input."""
        self._data = data
        self._raw: GeneratedBatch | None = None
        self.request_id = request_id

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, request_id: str | None = None) -> Batch:
        """Build a Batch from the API's JSON object, checking the shape of every field this class reads.

        Raises:
            APIResponseValidationError: `data` is not a batch object (missing or mistyped field).

        """
        problem = _shape_problem(data)
        if problem:
            raise APIResponseValidationError(f"response is not a Batch: {problem}", body=data)
        return cls(dict(data), request_id=request_id)

    # --- identity and the request ------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The batch's id, like `batch_abc123`."""
        return str(self._data["id"])

    @property
    def object(self) -> str:
        """Always `batch`."""
        return str(self._data["object"])

    @property
    def status(self) -> BatchStatus:
        """The current status; a value this client does not know is kept verbatim and equals its string."""
        return BatchStatus(self._data["status"])

    @property
    def endpoint(self) -> str:
        """The API endpoint the batch's requests go to, like `/v1/chat/completions`."""
        return str(self._data["endpoint"])

    @property
    def model(self) -> str | None:
        """The model that processes the batch, when the API says."""
        return self._data.get("model")

    @property
    def input_file_id(self) -> str:
        """The file holding the batch's requests."""
        return str(self._data["input_file_id"])

    @property
    def completion_window(self) -> str:
        """The time frame within which the batch should be processed, like `24h`."""
        return str(self._data["completion_window"])

    @property
    def output_file_id(self) -> str | None:
        """The file of successful results, or None (an empty id counts as none)."""
        return self._data.get("output_file_id") or None

    @property
    def error_file_id(self) -> str | None:
        """The file of failed requests' results, or None (an empty id counts as none)."""
        return self._data.get("error_file_id") or None

    # --- timestamps ----------------------------------------------------------------------------------------------

    @property
    def created_at(self) -> datetime:
        """When the batch was created."""
        created = convert.from_unix(self._data["created_at"])
        assert created is not None  # noqa: S101 - required and checked non-null in from_dict
        return created

    @property
    def in_progress_at(self) -> datetime | None:
        """When the batch started processing."""
        return convert.from_unix(self._data.get("in_progress_at"))

    @property
    def expires_at(self) -> datetime | None:
        """When the batch will expire."""
        return convert.from_unix(self._data.get("expires_at"))

    @property
    def finalizing_at(self) -> datetime | None:
        """When the batch started finalizing."""
        return convert.from_unix(self._data.get("finalizing_at"))

    @property
    def completed_at(self) -> datetime | None:
        """When the batch completed."""
        return convert.from_unix(self._data.get("completed_at"))

    @property
    def failed_at(self) -> datetime | None:
        """When the batch failed."""
        return convert.from_unix(self._data.get("failed_at"))

    @property
    def expired_at(self) -> datetime | None:
        """When the batch expired."""
        return convert.from_unix(self._data.get("expired_at"))

    @property
    def cancelling_at(self) -> datetime | None:
        """When the batch started cancelling."""
        return convert.from_unix(self._data.get("cancelling_at"))

    @property
    def cancelled_at(self) -> datetime | None:
        """When the batch was cancelled."""
        return convert.from_unix(self._data.get("cancelled_at"))

    # --- nested objects ------------------------------------------------------------------------------------------

    @property
    def request_counts(self) -> RequestCounts | None:
        """Requests total, completed and failed; None when the API omits them."""
        counts = self._data.get("request_counts")
        if counts is None:
            return None
        return RequestCounts(total=counts["total"], completed=counts["completed"], failed=counts["failed"])

    @property
    def usage(self) -> Usage | None:
        """Token usage, when the API reports it."""
        usage = self._data.get("usage")
        if usage is None:
            return None
        return Usage(
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            total_tokens=usage["total_tokens"],
            cached_tokens=usage["input_tokens_details"]["cached_tokens"],
            reasoning_tokens=usage["output_tokens_details"]["reasoning_tokens"],
        )

    @property
    def errors(self) -> list[BatchErrorDetail]:
        """Validation errors of the batch's input; empty when there are none."""
        data = (self._data.get("errors") or {}).get("data") or []
        return [
            BatchErrorDetail(code=e.get("code"), message=e.get("message"), param=e.get("param"), line=e.get("line"))
            for e in data
        ]

    @property
    def metadata(self) -> dict[str, str]:
        """The batch's metadata (a copy); empty when there is none."""
        return dict(self._data.get("metadata") or {})

    # --- derived -------------------------------------------------------------------------------------------------

    @property
    def is_terminal(self) -> bool:
        """True once the batch can no longer change: completed, failed, expired or cancelled."""
        return self.status in TERMINAL_STATUSES

    @property
    def is_cancellable(self) -> bool:
        """True while a cancel request would stop the batch: validating, in progress or finalizing."""
        return self.status in CANCELLABLE_STATUSES

    @property
    def progress(self) -> float | None:
        """The finished share of requests in [0, 1], or None when unknown."""
        counts = self.request_counts
        return counts.progress if counts is not None else None

    @property
    def ended_at(self) -> datetime | None:
        """When the batch reached its terminal status, or None while it runs."""
        field = _ENDED_AT.get(self.status)
        return getattr(self, field) if field else None

    def duration(self, start: str = "created_at", end: str | None = None) -> timedelta | None:
        """Time between two lifecycle timestamps, by field name; `end` defaults to when the batch ended.

        `batch.duration("cancelling_at", "cancelled_at")` is how long cancelling took. None when either is unset.

        Raises:
            ValueError: a name is not one of `TIMESTAMP_FIELDS`.

        """
        for name in (start, end):
            if name is not None and name not in TIMESTAMP_FIELDS:
                raise ValueError(f"{name!r} is not a timestamp field; expected one of {', '.join(TIMESTAMP_FIELDS)}")
        return convert.duration(getattr(self, start), self.ended_at if end is None else getattr(self, end))

    # --- raw forms -----------------------------------------------------------------------------------------------

    @property
    def raw(self) -> GeneratedBatch:
        """The generated model for this batch (built on first access)."""
        if self._raw is None:
            # Imported here: the generated models (and attrs) cost ~25 ms of import time, and most users never
            # need them.
            from openai_batches_client.models.batch import Batch as GeneratedBatch  # noqa: PLC0415

            self._raw = GeneratedBatch.from_dict(self._data)
        return self._raw

    @property
    def extra(self) -> dict[str, Any]:
        """Fields the API sent that this client's spec does not know, as received."""
        return copy.deepcopy(self.raw.additional_properties)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object exactly as received (a deep copy): nulls and unknown fields included."""
        return copy.deepcopy(self._data)

    def __eq__(self, other: _AnyObject) -> bool:
        if not isinstance(other, Batch):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]  # mutable-looking value object: equal by content, not hashable

    def __repr__(self) -> str:
        counts = self.request_counts
        done = f", requests={counts.finished}/{counts.total}" if counts is not None else ""
        return f"Batch(id={self.id!r}, status={str(self.status)!r}{done})"


# --- shape checks ----------------------------------------------------------------------------------------------

_NUMBER = (int, float)
_REQUIRED_TEXT: Final = ("id", "object", "endpoint", "input_file_id", "completion_window", "status")
_OPTIONAL_TEXT: Final = ("model", "output_file_id", "error_file_id")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _shape_problem(data: Mapping[str, Any]) -> str | None:  # noqa: PLR0911, PLR0912 - one flat checklist
    """Return what is wrong with `data` as a batch object, or None when every field this layer reads is sound."""
    if not isinstance(data, Mapping):
        return f"expected a JSON object, got {type(data).__name__}"
    for name in _REQUIRED_TEXT:
        if name not in data:
            return f"required field {name!r} is missing"
        if not isinstance(data[name], str):
            return f"field {name!r} must be a string, got {type(data[name]).__name__}"
    if not _is_number(data.get("created_at")):
        return "required field 'created_at' must be a unix timestamp"
    for name in TIMESTAMP_FIELDS[1:]:
        value = data.get(name)
        if value is not None and not _is_number(value):
            return f"field {name!r} must be a unix timestamp or null, got {type(value).__name__}"
    for name in _OPTIONAL_TEXT:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            return f"field {name!r} must be a string or null, got {type(value).__name__}"
    counts = data.get("request_counts")
    if counts is not None and not (
        isinstance(counts, Mapping) and all(_is_int(counts.get(k)) for k in ("total", "completed", "failed"))
    ):
        return "field 'request_counts' must hold integer 'total', 'completed' and 'failed'"
    usage = data.get("usage")
    if usage is not None and not _usage_ok(usage):
        return "field 'usage' must hold integer token counts"
    metadata = data.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, Mapping) and all(isinstance(v, str) for v in metadata.values())
    ):
        return "field 'metadata' must be an object of strings or null"
    errors = data.get("errors")
    if errors is not None and not _errors_ok(errors):
        return "field 'errors' must be an object whose 'data' is a list of error objects"
    return None


def _usage_ok(usage: object) -> bool:
    if not isinstance(usage, Mapping):
        return False
    if not all(_is_int(usage.get(k)) for k in ("input_tokens", "output_tokens", "total_tokens")):
        return False
    for details, key in (("input_tokens_details", "cached_tokens"), ("output_tokens_details", "reasoning_tokens")):
        value = usage.get(details)  # required by the spec, so the generated model can be built from it
        if not (isinstance(value, Mapping) and _is_int(value.get(key))):
            return False
    return True


def _errors_ok(errors: object) -> bool:
    if not isinstance(errors, Mapping):
        return False
    items = errors.get("data")
    if items is None:
        return True
    return isinstance(items, list) and all(_error_item_ok(item) for item in items)


def _error_item_ok(item: object) -> bool:
    if not isinstance(item, Mapping):
        return False
    texts_ok = all(item.get(k) is None or isinstance(item.get(k), str) for k in ("code", "message", "param"))
    return texts_ok and (item.get("line") is None or _is_int(item.get("line")))
