"""After a cancel or an expiry: what remains of a batch, and the requests that upload and create it again.

Sans-I/O, shared by both clients: `RemainderScan` decides which input lines to send again (the rule itself is
`_results.classify_result`, one place), `resubmit_metadata` the new batch's metadata, `prepare_upload` checks a file
before anything is sent, and the `*_request` functions build requests from the generated endpoint definitions
(`_get_kwargs`: method and percent-encoded path), as `ClientCore` does for the others.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, NamedTuple, TypeVar

import httpx

from batches_ext._batch import Batch
from batches_ext._ids import check_id
from batches_ext._json import JSONDepthError, loads
from batches_ext._jsonl import decode_line
from batches_ext._results import BatchResult, parse_result_line
from batches_ext._settings import NotGiven, TimeoutTypes
from batches_ext.errors import APIResponseValidationError, RemainderConflictError, ResultsFormatError

if TYPE_CHECKING:
    from batches_ext._core import ClientCore
    from batches_ext._model import WireObject

__all__ = [
    "BATCH_FILE_MAX_BYTES",
    "FILE_MAX_BYTES",
    "METADATA_MAX_KEYS",
    "METADATA_MAX_KEY_CHARS",
    "METADATA_MAX_VALUE_CHARS",
    "ORIGIN_KEY",
    "RemainderReport",
    "RemainderScan",
    "Resubmission",
    "Upload",
    "check_batch_options",
    "check_metadata",
    "check_resubmit_options",
    "create_batch_request",
    "delete_file_request",
    "parse_object",
    "prepare_upload",
    "remainder_filename",
    "resubmit_metadata",
    "retrieve_file_request",
    "upload_request",
]

# OpenAI's documented limits (openapi/openai-batches.yaml, createFile and CreateBatchRequest). "MB" is read as MiB:
# of the two readings it refuses fewer files the API would take; a file between them gets the API's own 400.
FILE_MAX_BYTES: Final = 512 * 1024 * 1024  # "Individual files can be up to 512 MB"
BATCH_FILE_MAX_BYTES: Final = 200 * 1024 * 1024  # "The Batch API only supports .jsonl files up to 200 MB in size"
METADATA_MAX_KEYS: Final = 16  # "Set of 16 key-value pairs"
METADATA_MAX_KEY_CHARS: Final = 64  # "Keys are strings with a maximum length of 64 characters"
METADATA_MAX_VALUE_CHARS: Final = 512  # "Values are strings with a maximum length of 512 characters"
ORIGIN_KEY: Final = "resubmitted_from"  # the metadata key a resubmitted batch names its predecessor under
_JSONL_SUFFIX: Final = ".jsonl"
_CONFLICTS_SHOWN: Final = 5  # ids named in a conflict's message; the report holds them all

WireT = TypeVar("WireT", bound="WireObject[Any]")


# --- checks before anything is sent --------------------------------------------------------------------------------


def check_metadata(metadata: object) -> dict[str, str]:
    """Return `metadata` as a new dict if the API would take it.

    That is at most 16 non-empty str keys of <= 64 characters, with str values of <= 512 characters.

    Raises:
        ValueError: the first problem, named.

    """
    if not isinstance(metadata, Mapping):
        raise ValueError(f"metadata must be a mapping of str to str, not {type(metadata).__name__}")  # noqa: TRY004
    if len(metadata) > METADATA_MAX_KEYS:
        raise ValueError(f"metadata has {len(metadata)} keys; the API allows at most {METADATA_MAX_KEYS}")
    checked: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"metadata keys must be non-empty strings, got {key!r}")
        if len(key) > METADATA_MAX_KEY_CHARS:
            raise ValueError(
                f"metadata key {key[:20]!r}... has {len(key)} characters; at most {METADATA_MAX_KEY_CHARS}"
            )
        if not isinstance(value, str):
            raise ValueError(f"metadata[{key!r}] must be a str, not {type(value).__name__}")  # noqa: TRY004
        if len(value) > METADATA_MAX_VALUE_CHARS:
            raise ValueError(f"metadata[{key!r}] has {len(value)} characters; at most {METADATA_MAX_VALUE_CHARS}")
        checked[key] = value
    return checked


def resubmit_metadata(batch: Batch, metadata: Mapping[str, str] | None) -> dict[str, str]:
    """The metadata of the batch that resubmits `batch`: `metadata` (default: the old one's) plus `resubmitted_from`.

    `resubmitted_from` holds the old batch's id.
    When full: a `resubmitted_from` already there (a resubmit of a resubmit) is replaced, so the chain is followed
    one hop at a time through each batch's own metadata; otherwise 16 keys leave no room, and this raises rather
    than drop one of the caller's keys silently. Pass `metadata=` with at most 15 keys to choose what to keep.

    Raises:
        ValueError: no room for `resubmitted_from`, or the result breaks a limit (non-str values from another
            server, an id over 512 characters).

    """
    base = dict(metadata) if metadata is not None else batch.metadata
    base.pop(ORIGIN_KEY, None)
    if len(base) >= METADATA_MAX_KEYS:
        raise ValueError(
            f"cannot add {ORIGIN_KEY!r}: the metadata already has {len(base)} keys (the API allows "
            f"{METADATA_MAX_KEYS}); pass metadata= with at most {METADATA_MAX_KEYS - 1} keys"
        )
    base[ORIGIN_KEY] = batch.id
    return check_metadata(base)


def check_batch_options(endpoint: object, completion_window: object) -> tuple[str, str]:
    """Validate the endpoint (`/v1/...`, as the API wants it) and completion window of a batch to create.

    Raises:
        ValueError: either is not a non-empty str, or the endpoint does not start with `/`.

    """
    if not isinstance(endpoint, str) or not endpoint.startswith("/") or not endpoint.isprintable():
        raise ValueError(f"endpoint must be an API path like '/v1/chat/completions', got {endpoint!r}")
    if not isinstance(completion_window, str) or not completion_window or not completion_window.isprintable():
        raise ValueError(f"completion_window must be a non-empty str like '24h', got {completion_window!r}")
    return endpoint, completion_window


def check_resubmit_options(retry_failed: object, metadata: object, completion_window: object) -> None:
    """Check a resubmit's own options before anything is sent (what depends on the old batch is checked later).

    Raises:
        ValueError: `retry_failed` is not a bool, `metadata` not a mapping the API takes (see `check_metadata`),
            or `completion_window` not a non-empty str.

    """
    if not isinstance(retry_failed, bool):
        raise ValueError(f"retry_failed must be a bool, got {retry_failed!r}")  # noqa: TRY004 - the contract
    if metadata is not None:
        check_metadata(metadata)
    if completion_window is not None:
        check_batch_options("/", completion_window)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file checked for upload: where it is, the name and purpose it is sent with, and its size."""

    path: Path
    filename: str
    purpose: str
    size: int


def prepare_upload(file: str | os.PathLike[str], *, purpose: str, filename: str | None) -> Upload:
    """Check a file before it is uploaded: it exists, fits OpenAI's size limits, and a batch input is `.jsonl`.

    Raises:
        ValueError: the purpose or filename is unusable, the file is missing, empty or too large.

    """
    if not isinstance(purpose, str) or not purpose or not purpose.isprintable():
        raise ValueError(f"purpose must be a non-empty str like 'batch', got {purpose!r}")
    path = Path(file)
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    name = path.name if filename is None else filename
    if not isinstance(name, str) or not name or not name.isprintable() or any(c in name for c in '"\\/'):
        raise ValueError(f"filename must be a plain file name, got {name!r}")
    size = path.stat().st_size
    limit = BATCH_FILE_MAX_BYTES if purpose == "batch" else FILE_MAX_BYTES
    if size > limit:
        raise ValueError(f"{path} has {size} bytes; OpenAI takes at most {limit} for purpose {purpose!r}")
    if size == 0:
        raise ValueError(f"{path} is empty")
    if purpose == "batch" and not name.endswith(_JSONL_SUFFIX):
        raise ValueError(f"a batch input file must be named *.jsonl (the API refuses others), got {name!r}")
    return Upload(path, name, purpose, size)


def remainder_filename(batch_id: str) -> str:
    """The name a batch's remainder is uploaded under: `remainder-of-<id>.jsonl`, with unsafe characters as `_`."""
    safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in batch_id)
    return f"remainder-of-{safe}{_JSONL_SUFFIX}"


# --- the remainder -------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RemainderReport:
    """What a remainder scan found: counts by outcome (see `_results.classify_result`) and the ids in conflict."""

    finished: int = 0
    """Input requests with a 2xx result."""
    to_resubmit: int = 0
    """Input lines yielded: no result, not run (expired, cancelled), or retryable with `retry_failed`."""
    failed: int = 0
    """Input requests that failed for good (and, without `retry_failed`, the retryable ones): not yielded."""
    duplicate_ids: list[str] = field(default_factory=list)
    """custom_ids the input holds more than once: which of them ran cannot be told."""
    unknown_ids: list[str] = field(default_factory=list)
    """custom_ids of result lines that match no input line."""
    repeated_results: list[str] = field(default_factory=list)
    """custom_ids with more than one result line (the most final one counts; done wins)."""

    @property
    def conflicts(self) -> bool:
        """True when the input and the results disagree (duplicate or unknown ids, repeated results)."""
        return bool(self.duplicate_ids or self.unknown_ids or self.repeated_results)

    def describe_conflicts(self) -> str:
        """One sentence naming the conflicts (a few ids of each kind)."""
        parts = []
        for label, ids in (
            ("custom_ids repeated in the input", self.duplicate_ids),
            ("result custom_ids not in the input", self.unknown_ids),
            ("custom_ids with several results", self.repeated_results),
        ):
            if ids:
                shown = ", ".join(repr(i) for i in ids[:_CONFLICTS_SHOWN])
                more = f" and {len(ids) - _CONFLICTS_SHOWN} more" if len(ids) > _CONFLICTS_SHOWN else ""
                parts.append(f"{len(ids)} {label} ({shown}{more})")
        return "; ".join(parts)


class Resubmission(NamedTuple):
    """What `cancel_and_resubmit` returns."""

    batch: Batch
    """The old batch, now terminal."""
    results: list[BatchResult]
    """The records of its output file: what it finished."""
    errors: list[BatchResult]
    """The records of its error file: failures, and the requests it never ran."""
    resubmitted: Batch | None
    """The new batch running the rest; None when nothing remained."""


# Which result wins when a custom_id has several: the most final outcome (a 2xx is never sent again).
_RANK: Final = {"done": 3, "failed": 2, "retryable": 1, "not_run": 0}


class RemainderScan:
    """The remainder of one batch, decided line by line: feed every result first, then each input line.

    Memory holds one outcome per result custom_id and the set of input custom_ids, never a file.

    Raises (from `__init__`):
        ValueError: the batch is still running (its results are not final) or has no input file.

    """

    __slots__ = ("_line_numbers", "_outcomes", "_seen", "input_file_id", "report", "result_file_ids", "retry_failed")

    def __init__(self, batch: Batch, *, retry_failed: bool) -> None:
        if not batch.is_terminal:
            raise ValueError(
                f"batch {batch.id} is {batch.status}: its results are not final; cancel it and wait first "
                "(cancel_and_resubmit does both)"
            )
        if not batch.input_file_id:
            raise ValueError(f"batch {batch.id} names no input file: there is nothing to resubmit from")
        self.input_file_id = batch.input_file_id
        self.result_file_ids = [file_id for file_id in (batch.output_file_id, batch.error_file_id) if file_id]
        self.retry_failed = retry_failed
        self.report = RemainderReport()
        self._outcomes: dict[str, str] = {}
        self._seen: set[str] = set()
        self._line_numbers: dict[str, int] = {}  # per file: the number of the line read last

    def add_result_line(self, line: bytes, file_id: str) -> None:
        """Record the next line of result file `file_id` (blank lines hold nothing).

        Raises:
            ResultsFormatError: the line is not a batch output record.

        """
        number = self._line_numbers[file_id] = self._line_numbers.get(file_id, 0) + 1
        if line.strip():
            self.add_result(parse_result_line(line, number, file_id))

    def add_result(self, result: BatchResult) -> None:
        """Record one result line."""
        custom_id, outcome = result.custom_id, result.outcome
        previous = self._outcomes.get(custom_id)
        if previous is not None:
            self.report.repeated_results.append(custom_id)
            if _RANK[previous] >= _RANK[outcome]:
                return
        self._outcomes[custom_id] = outcome

    def take(self, line: bytes) -> bool:
        """Whether the next input line is to be sent again; blank lines are not.

        Raises:
            ResultsFormatError: the line is not a JSON object with a string `custom_id`.

        """
        line_number = self._line_numbers[self.input_file_id] = self._line_numbers.get(self.input_file_id, 0) + 1
        if not line.strip():
            return False
        text = decode_line(line, self.input_file_id, line_number)
        try:
            request = loads(text)
        except ValueError as exc:
            raise ResultsFormatError(
                f"not valid JSON ({exc})", file_id=self.input_file_id, line_number=line_number
            ) from None
        custom_id = request.get("custom_id") if isinstance(request, dict) else None
        if not isinstance(custom_id, str):
            raise ResultsFormatError("no string 'custom_id'", file_id=self.input_file_id, line_number=line_number)
        report = self.report
        if custom_id in self._seen:
            report.duplicate_ids.append(custom_id)
        else:
            self._seen.add(custom_id)
        outcome = self._outcomes.get(custom_id)
        if outcome is None or outcome == "not_run" or (outcome == "retryable" and self.retry_failed):
            report.to_resubmit += 1
            return True
        if outcome == "done":
            report.finished += 1
        else:
            report.failed += 1
        return False

    def finish(self, report: RemainderReport | None) -> RemainderReport:
        """Complete the report; copy it into `report` when given.

        Raises:
            RemainderConflictError: there are conflicts and no `report` was passed to receive them.

        """
        own = self.report
        own.unknown_ids = [custom_id for custom_id in self._outcomes if custom_id not in self._seen]
        if report is not None:
            for item in fields(RemainderReport):
                setattr(report, item.name, getattr(own, item.name))
            return report
        if own.conflicts:
            raise RemainderConflictError(f"the remainder is ambiguous: {own.describe_conflicts()}", report=own)
        return own


# --- requests ------------------------------------------------------------------------------------------------------


def upload_request(
    core: ClientCore, http: httpx.Client | httpx.AsyncClient, upload: Upload, stream: BinaryIO,
    timeout: TimeoutTypes | NotGiven,
) -> httpx.Request:  # fmt: skip
    """The `createFile` request: a multipart body streamed from `stream` (httpx reads it in 64 KiB pieces).

    The generated `_get_kwargs` also sets `Content-Type: multipart/form-data; boundary=+++`, a fixed boundary from
    openapi-python-client 0.29.1's template: a file holding `--+++` would end its own part early. Only its method,
    path and parts are used; httpx writes the body with a random boundary and its own Content-Type.
    """
    from openai_batches_client.api.files import create_file  # noqa: PLC0415 - import time, see _core
    from openai_batches_client.models.create_file_request import CreateFileRequest  # noqa: PLC0415
    from openai_batches_client.models.create_file_request_purpose import CreateFileRequestPurpose  # noqa: PLC0415
    from openai_batches_client.types import File  # noqa: PLC0415

    body = CreateFileRequest(
        file=File(payload=stream, file_name=upload.filename, mime_type="application/jsonl"),
        purpose=CreateFileRequestPurpose(upload.purpose),
    )
    kwargs = create_file._get_kwargs(body=body)
    return core.build(http, kwargs, timeout, files=kwargs["files"])


def create_batch_request(
    core: ClientCore, http: httpx.Client | httpx.AsyncClient, input_file_id: str, *, endpoint: str,
    completion_window: str, metadata: Mapping[str, str] | None, timeout: TimeoutTypes | NotGiven,
) -> httpx.Request:  # fmt: skip
    """The `createBatch` request (arguments validated first)."""
    from openai_batches_client.api.batch import create_batch  # noqa: PLC0415
    from openai_batches_client.models.create_batch_request import CreateBatchRequest  # noqa: PLC0415
    from openai_batches_client.models.create_batch_request_completion_window import (  # noqa: PLC0415
        CreateBatchRequestCompletionWindow,
    )

    check_id(input_file_id, "input_file_id")
    endpoint, completion_window = check_batch_options(endpoint, completion_window)
    checked = check_metadata(metadata) if metadata is not None else None
    body = CreateBatchRequest(
        completion_window=CreateBatchRequestCompletionWindow(completion_window),
        endpoint=endpoint,
        input_file_id=input_file_id,
    )
    payload = body.to_dict()
    if checked is not None:
        payload["metadata"] = checked
    kwargs = create_batch._get_kwargs(body=body)
    return core.build(http, kwargs, timeout, json=payload)


def retrieve_file_request(
    core: ClientCore, http: httpx.Client | httpx.AsyncClient, file_id: str, timeout: TimeoutTypes | NotGiven
) -> httpx.Request:
    """The `retrieveFile` request."""
    from openai_batches_client.api.files import retrieve_file  # noqa: PLC0415

    return core.build(http, retrieve_file._get_kwargs(file_id=check_id(file_id, "file_id")), timeout)


def delete_file_request(
    core: ClientCore, http: httpx.Client | httpx.AsyncClient, file_id: str, timeout: TimeoutTypes | NotGiven
) -> httpx.Request:
    """The `deleteFile` request."""
    from openai_batches_client.api.files import delete_file  # noqa: PLC0415

    return core.build(http, delete_file._get_kwargs(file_id=check_id(file_id, "file_id")), timeout)


def parse_object(cls: type[WireT], response: httpx.Response) -> WireT:
    """The wire object (`FileObject`, `FileDeleted`, ...) in a 2xx response.

    Raises:
        APIResponseValidationError: the body is not JSON, or not that kind of object.

    """
    try:
        data = loads(response.content)
    except ValueError as exc:
        snippet = response.content[:80].decode("utf-8", "replace")
        problem = str(exc) if isinstance(exc, JSONDepthError) else "not JSON"
        raise APIResponseValidationError(f"response body is {problem}: {snippet!r}", response=response) from None
    try:
        return cls.from_dict(data, request_id=response.headers.get("x-request-id"))
    except APIResponseValidationError as exc:
        raise APIResponseValidationError(exc.message, response=response, body=data) from None
