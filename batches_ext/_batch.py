"""The ergonomic `Batch`: the API's batch object with datetimes, lists and dicts instead of unix ints and nulls.

A `Batch` keeps the JSON object it was built from, so `to_dict()` is lossless (nulls and unknown fields included)
and reading a field costs one dict lookup. Servers that speak OpenAI's protocol (Azure, Zhipu, Groq, Cerebras,
...) write a batch in many ways: ISO timestamps, milliseconds, capitalised statuses, null counts, errors as a list
or a string, no `endpoint`. Anything with an `id` and a `status` parses, and each accessor turns what it finds
into a sensible value, said in its docstring, instead of raising.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

from openai_batches_client.models.batch_status import BatchStatus

from batches_ext import convert
from batches_ext._model import WireObject, count, number, text

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


@dataclass(frozen=True, slots=True)
class RequestCounts:
    """How many of the batch's requests finished, and how; a count the server leaves null or omits is 0."""

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
    """Token usage of the batch (only on batches created after 2025-09-07); a count not reported is 0."""

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


class Batch(WireObject["GeneratedBatch"]):
    """A batch, as returned by cancel, retrieve, create and list.

    Every field of the API's object is an attribute; `*_at` timestamps are aware UTC datetimes (or None),
    `errors` is a list, `metadata` a dict. A field of the generated model without a typed accessor here (one a
    spec update added) is an attribute too, as received (`*_at` ones as datetimes). Unknown fields are kept: see
    `extra` and `to_dict()`.
    """

    __slots__ = ()
    _NESTED_REVIEWED: ClassVar[Mapping[str, frozenset[str]]] = {
        "request_counts": frozenset({"total", "completed", "failed"}),
        "usage": frozenset({"input_tokens", "output_tokens", "total_tokens", "input_tokens_details",
                            "output_tokens_details"}),
        "usage.input_tokens_details": frozenset({"cached_tokens"}),
        "usage.output_tokens_details": frozenset({"reasoning_tokens"}),
        "errors": frozenset({"object", "data"}),  # `object` is always "list"
        "errors.data": frozenset({"code", "message", "param", "line"}),
    }  # fmt: skip

    @staticmethod
    def _generated_model() -> type[GeneratedBatch]:
        # Imported here: the generated models (and attrs) cost ~25 ms of import time, and most users never need them.
        from openai_batches_client.models.batch import Batch as GeneratedBatch  # noqa: PLC0415

        return GeneratedBatch

    @classmethod
    def _not_recognised(cls, data: Mapping[str, Any]) -> str | None:
        # The one check on the hot path: everything else is read tolerantly by the accessors.
        batch_id, status = data.get("id"), data.get("status")
        if not isinstance(batch_id, str) or not batch_id:
            return "field 'id' must be a non-empty string" if "id" in data else "required field 'id' is missing"
        if not isinstance(status, str):
            return "field 'status' must be a string" if "status" in data else "required field 'status' is missing"
        return None

    # --- identity and the request ------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The batch's id, like `batch_abc123` (any format: UUIDs, numeric strings, LiteLLM's base64 ids)."""
        return text(self._data.get("id")) or ""

    @property
    def object(self) -> str | None:
        """`batch`; None when the server omits it."""
        return text(self._data.get("object"))

    @property
    def status(self) -> BatchStatus:
        """The current status: documented values whatever their case; any other value kept verbatim as a member.

        `Batch(...).status == "in_progress"` for `IN_PROGRESS`; an unknown value such as `queued` equals its string
        and is neither terminal nor cancellable.
        """
        value = self._data.get("status")
        return convert.to_status(value if isinstance(value, str) else str(value))

    @property
    def endpoint(self) -> str | None:
        """The API endpoint the batch's requests go to, like `/v1/chat/completions`; None when the server omits it."""
        return text(self._data.get("endpoint"))

    @property
    def model(self) -> str | None:
        """The model that processes the batch; None when the server does not say (or says `""`)."""
        return text(self._data.get("model"))

    @property
    def input_file_id(self) -> str | None:
        """The file holding the batch's requests; None when missing (an empty id counts as none)."""
        return text(self._data.get("input_file_id"))

    @property
    def completion_window(self) -> str | None:
        """The time frame within which the batch should be processed, like `24h`; None when missing."""
        return text(self._data.get("completion_window"))

    @property
    def output_file_id(self) -> str | None:
        """The file of successful results, or None (an empty id counts as none)."""
        return text(self._data.get("output_file_id"))

    @property
    def error_file_id(self) -> str | None:
        """The file of failed requests' results, or None (an empty id counts as none)."""
        return text(self._data.get("error_file_id"))

    # --- timestamps: unix seconds, milliseconds or ISO-8601, read by convert.to_datetime -------------------------

    @property
    def created_at(self) -> datetime | None:
        """When the batch was created; None only if a server leaves it unset."""
        return convert.to_datetime(self._data.get("created_at"))

    @property
    def in_progress_at(self) -> datetime | None:
        """When the batch started processing."""
        return convert.to_datetime(self._data.get("in_progress_at"))

    @property
    def expires_at(self) -> datetime | None:
        """When the batch will expire."""
        return convert.to_datetime(self._data.get("expires_at"))

    @property
    def finalizing_at(self) -> datetime | None:
        """When the batch started finalizing."""
        return convert.to_datetime(self._data.get("finalizing_at"))

    @property
    def completed_at(self) -> datetime | None:
        """When the batch completed."""
        return convert.to_datetime(self._data.get("completed_at"))

    @property
    def failed_at(self) -> datetime | None:
        """When the batch failed."""
        return convert.to_datetime(self._data.get("failed_at"))

    @property
    def expired_at(self) -> datetime | None:
        """When the batch expired."""
        return convert.to_datetime(self._data.get("expired_at"))

    @property
    def cancelling_at(self) -> datetime | None:
        """When the batch started cancelling."""
        return convert.to_datetime(self._data.get("cancelling_at"))

    @property
    def cancelled_at(self) -> datetime | None:
        """When the batch was cancelled."""
        return convert.to_datetime(self._data.get("cancelled_at"))

    # --- nested objects ------------------------------------------------------------------------------------------

    @property
    def request_counts(self) -> RequestCounts | None:
        """Requests total, completed and failed; None when the server omits them or sends null.

        A member that is null or missing counts as 0 (a total of 0 means "not known yet": `progress` is None).
        """
        counts = self._data.get("request_counts")
        if not isinstance(counts, Mapping):
            return None
        return RequestCounts(
            total=count(counts.get("total")),
            completed=count(counts.get("completed")),
            failed=count(counts.get("failed")),
        )

    @property
    def usage(self) -> Usage | None:
        """Token usage, when the server reports it (None otherwise); a count it leaves out is 0."""
        usage = self._data.get("usage")
        if not isinstance(usage, Mapping):
            return None
        cached, reasoning = usage.get("input_tokens_details"), usage.get("output_tokens_details")
        return Usage(
            input_tokens=count(usage.get("input_tokens")),
            output_tokens=count(usage.get("output_tokens")),
            total_tokens=count(usage.get("total_tokens")),
            cached_tokens=count(cached.get("cached_tokens")) if isinstance(cached, Mapping) else 0,
            reasoning_tokens=count(reasoning.get("reasoning_tokens")) if isinstance(reasoning, Mapping) else 0,
        )

    @property
    def errors(self) -> list[BatchErrorDetail]:
        """Why (part of) the input was rejected; empty when there is nothing.

        Read from every shape servers use: OpenAI's `{"object": "list", "data": [...]}`, a bare list, one error
        object, or a plain string (which becomes one entry's `message`; `""` is no error). In an entry, a `code`,
        `message` or `param` that is a number becomes text, and a `line` that is not an integer becomes None;
        entries that are neither objects nor non-empty strings are skipped.
        """
        errors = self._data.get("errors")
        if isinstance(errors, Mapping):
            errors = errors.get("data", errors) if "data" in errors else [errors]
        if isinstance(errors, str | Mapping):
            errors = [errors]
        if not isinstance(errors, list):
            return []
        return [detail for detail in map(_error_detail, errors) if detail is not None]

    @property
    def metadata(self) -> dict[str, Any]:
        """The batch's metadata (a copy), values as sent (OpenAI's are strings); empty when there is none."""
        metadata = self._data.get("metadata")
        if not isinstance(metadata, Mapping):
            return {}
        return {str(key): copy.deepcopy(value) for key, value in metadata.items()}

    # --- derived -------------------------------------------------------------------------------------------------

    @property
    def is_terminal(self) -> bool:
        """True once the batch can no longer change: completed, failed, expired or cancelled.

        False for a status this client does not know: a wait keeps polling it (until its deadline).
        """
        return self.status in TERMINAL_STATUSES

    @property
    def is_cancellable(self) -> bool:
        """True while a cancel request would stop the batch: validating, in progress or finalizing.

        False for a status this client does not know (a cancel can still be sent; the server decides).
        """
        return self.status in CANCELLABLE_STATUSES

    @property
    def progress(self) -> float | None:
        """The finished share of requests in [0, 1], or None when unknown."""
        counts = self.request_counts
        return counts.progress if counts is not None else None

    @property
    def ended_at(self) -> datetime | None:
        """When the batch reached its terminal status, or None while it runs (or when the server did not say)."""
        field = _ENDED_AT.get(self.status)
        return convert.to_datetime(self._data.get(field)) if field else None

    def duration(self, start: str = "created_at", end: str | None = None) -> timedelta | None:
        """Time between two lifecycle timestamps, by field name; `end` defaults to when the batch ended.

        `batch.duration("cancelling_at", "cancelled_at")` is how long cancelling took. None when either is unset.

        Raises:
            ValueError: a name is not one of `TIMESTAMP_FIELDS`.

        """
        for name in (start, end):
            if name is not None and name not in TIMESTAMP_FIELDS:
                raise ValueError(f"{name!r} is not a timestamp field; expected one of {', '.join(TIMESTAMP_FIELDS)}")
        finish = self.ended_at if end is None else convert.to_datetime(self._data.get(end))
        return convert.duration(convert.to_datetime(self._data.get(start)), finish)

    def __repr__(self) -> str:
        counts = self.request_counts
        done = f", requests={counts.finished}/{counts.total}" if counts is not None else ""
        return f"Batch(id={self.id!r}, status={str(self.status)!r}{done})"


def _error_detail(item: object) -> BatchErrorDetail | None:
    if isinstance(item, str):
        return BatchErrorDetail(code=None, message=item, param=None, line=None) if item else None
    if not isinstance(item, Mapping):
        return None
    return BatchErrorDetail(
        code=text(item.get("code")),
        message=text(item.get("message")),
        param=text(item.get("param")),
        line=number(item.get("line")),
    )
