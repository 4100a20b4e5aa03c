"""The fake's state: batches and files, and the lifecycle that moves a batch from status to status.

Nothing runs in the background. Each time a batch is read, it is first brought up to date with the clock:
a `cancelling` batch becomes `cancelled` once `cancel_delay` seconds have passed since the cancel, and a running
batch whose `expires_at` passes while it is stored becomes `expired`. A batch added with `progress_per_poll`
also advances one step per API read (validating → in_progress → counts grow → finalizing → completed), so a
polling loop sees it move. Finished batches get their output and error files (see `_results.py`).

A batch created through the API (`create_batch`, from an uploaded input file) runs on the clock instead: it is
`validating` for `VALIDATING_S`, then `failed` (its input broke a rule: `errors.data` names the lines) or
`in_progress`, its requests finishing one by one at `request_rate` per second, each answered by the responder;
then `finalizing` for `FINALIZING_S` and `completed`. Its window passing first makes it `expired` (what finished is
kept, the rest gets `batch_expired` lines); a cancel freezes its progress and, once `cancelled`, the rest gets
`batch_cancelled` lines. Every transition of either kind of batch is in this module.

Statuses this fake does not know are stored and returned verbatim; no transition touches them.

Listing reads batches newest first (`created_at` descending, the later added first among equals) from an index kept
sorted as batches are added, so a page costs O(log n + limit) whatever the number stored. The index runs oldest
first, so adding the newest batch (the usual case) appends to it: seeding 100,000 batches stays linear.

Reads for a request (`page`, `get(..., deep=False)`, `cancel`) hand out shallow copies: the lifecycle replaces
nested values (`request_counts`, `usage`, `errors`) rather than changing them in place, so a copy of the top level
is a stable snapshot, at a fraction of a deep copy's cost. What reaches a test's hands is a deep copy.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import json
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple

from batches_ext.testing import _results
from batches_ext.testing._requests import FakeRequest, FakeResponse, Responder, default_responder, parse_input
from batches_ext.testing._wire import dumps

__all__ = [
    "CANCELLABLE",
    "DAY_S",
    "DEFAULT_MODEL",
    "FINALIZING_S",
    "STEP_S",
    "VALIDATING_S",
    "BatchStore",
    "NotCancellableError",
    "UnknownCursorError",
]

DAY_S: Final = 86_400  # completion_window "24h": a batch expires 24 hours after it was created
STEP_S: Final = 60  # the gap between the seeded lifecycle timestamps of a batch added in a later status
DEFAULT_MODEL: Final = "gpt-4o-mini-2024-07-18"
VALIDATING_S: Final = 0.5  # how long a created batch is `validating` (the fake's choice: quick, but observable)
FINALIZING_S: Final = 0.5  # how long a created batch is `finalizing` once its last request finished
# The lines a batch writes for the requests it never ran (PROVIDERS.md: `response: null`, a top-level `error`).
_NOT_RUN: Final = {
    "expired": ("batch_expired", "This request could not be executed before the completion window expired."),
    "cancelled": ("batch_cancelled", "This request was not executed because the batch was cancelled."),
}
# Seeds: "Cancels an in-progress batch"; the statuses in which a batch is still running.
CANCELLABLE: Final = frozenset({"validating", "in_progress", "finalizing"})
# The fields `_attach_results` sets on a batch (file ids: plain strings).
_RESULT_FILE_FIELDS: Final = ("output_file_id", "error_file_id")
# The finished statuses that keep partial or full results (the seeds: cancelled batches keep partial results).
_WITH_RESULTS: Final = frozenset({"completed", "cancelled", "expired"})
# The timestamps a batch has set, in order, once it has reached each known status.
_EVENTS: Final[dict[str, tuple[str, ...]]] = {
    "validating": (),
    "failed": ("failed_at",),
    "in_progress": ("in_progress_at",),
    "finalizing": ("in_progress_at", "finalizing_at"),
    "completed": ("in_progress_at", "finalizing_at", "completed_at"),
    "cancelling": ("in_progress_at", "cancelling_at"),
    "cancelled": ("in_progress_at", "cancelling_at", "cancelled_at"),
    "expired": ("in_progress_at", "expired_at"),
}
# What OpenAI reports when validation rejects a batch's input file.
_VALIDATION_ERRORS: Final = {
    "object": "list",
    "data": [
        {
            "code": "invalid_json_line",
            "message": "This line is not parseable as valid JSON.",
            "param": None,
            "line": 1,
        }
    ],
}


class NotCancellableError(Exception):
    """The batch is in a status a cancel does not apply to."""

    def __init__(self, status: str) -> None:
        super().__init__(f"cannot cancel a batch with status {status!r}")
        self.status = status


class UnknownCursorError(Exception):
    """A list request's `after` names no stored batch."""

    def __init__(self, cursor: str) -> None:
        super().__init__(f"no batch with id {cursor!r} to list after")
        self.cursor = cursor


# A batch's place in the listing: ascending order of this key is oldest first (created_at, then insertion order).
_OrderKey = tuple[float, int, str]


@dataclass(slots=True)
class _Record:
    """One stored batch: its wire JSON plus what the lifecycle needs and the API does not show."""

    data: dict[str, Any]
    progress_per_poll: int = 0
    cancel_started: float | None = None  # clock time of the cancel: the deadline keeps sub-second precision
    expiry_armed: bool = False  # only an expiry that passes while stored fires (seeding with old timestamps is safe)
    auto_usage: bool = True  # False when the caller set `usage` themselves
    auto_files: bool = True  # False when the caller set `output_file_id` or `error_file_id` themselves
    order_key: _OrderKey = (0.0, 0, "")
    run: _Run | None = None  # set for a batch created through the API: it runs its input on the clock


@dataclass(slots=True)
class _Run:
    """A created batch's requests and what has come of them so far."""

    created: float
    requests: list[FakeRequest]
    problems: list[dict[str, Any]]  # non-empty: the input broke a rule and the batch will fail validation
    rate: float
    responder: Responder
    started: float | None = None  # clock time it went in_progress (sub-second precision kept, unlike the wire)
    finished_at: float | None = None  # clock time its last request finished
    done: int = 0
    ok_lines: list[bytes] = field(default_factory=list)
    error_lines: list[bytes] = field(default_factory=list)


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _counts(data: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """(total, completed, failed), or None when the caller replaced `request_counts` with something else."""
    counts = data.get("request_counts")
    if not isinstance(counts, Mapping):
        return None
    values = tuple(counts.get(key) for key in ("total", "completed", "failed"))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return None
    return values  # type: ignore[return-value]  # checked just above


def _check_counts(total: object, completed: object, failed: object) -> None:
    """Validate the request counts of a batch being added.

    Raises:
        ValueError: a count is not a non-negative int, or completed + failed exceeds total.

    """
    for name, value in (("total", total), ("completed", completed), ("failed", failed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if completed + failed > total:  # type: ignore[operator]  # ints, checked above
        raise ValueError(f"completed + failed ({completed} + {failed}) exceeds total ({total})")


class BatchStore:
    """Thread-safe batches and files, with the lazy lifecycle described in the module docstring.

    Args:
        clock: unix time in seconds.
        cancel_delay: seconds a batch stays `cancelling` before it is `cancelled`.

    """

    def __init__(
        self,
        clock: Callable[[], float],
        cancel_delay: float,
        *,
        request_rate: float = 10.0,
        responder: Responder | None = None,
    ) -> None:
        self._clock = clock
        self._cancel_delay = cancel_delay
        self._lock = threading.RLock()
        self._batches: dict[str, _Record] = {}
        self._files: dict[str, bytes | Path] = {}  # a Path: served from disk, never read whole
        self._order: list[_OrderKey] = []  # every stored batch's order key, sorted (oldest first): the listing's index
        self._added = itertools.count()
        self._file_info: dict[str, dict[str, Any]] = {}  # the file object's fields besides id and bytes
        # The input files of added batches, written only when read (100,000 added batches hold no request lines).
        self._added_inputs: dict[str, _AddedInput] = {}
        self.request_rate = request_rate
        self.responder = responder

    # --- batches -------------------------------------------------------------------------------------------------

    def add(
        self,
        batch_id: str | None,
        *,
        status: str,
        total: int,
        completed: int,
        failed: int,
        progress_per_poll: int,
        fields: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Store a new batch and return (a copy of) its wire JSON.

        Raises:
            ValueError: a bad argument, or a batch with this id already exists.

        """
        if batch_id is None:
            batch_id = f"batch_{secrets.token_hex(16)}"
        if not isinstance(batch_id, str) or not batch_id:
            raise ValueError(f"batch_id must be a non-empty str, got {batch_id!r}")
        if not isinstance(status, str) or not status:
            raise ValueError(f"status must be a non-empty str, got {status!r}")
        _check_counts(total, completed, failed)
        if isinstance(progress_per_poll, bool) or not isinstance(progress_per_poll, int) or progress_per_poll < 0:
            raise ValueError(f"progress_per_poll must be a non-negative int, got {progress_per_poll!r}")
        if "id" in fields:
            raise ValueError("pass the batch's id as batch_id, not as a field")
        with self._lock:
            if batch_id in self._batches:
                raise ValueError(f"a batch with id {batch_id!r} already exists; remove_batch() it first")
            now = self._clock()
            try:
                # Fail here, where the test can see why, not later inside a request. Decoding it (twice) gives the
                # store's copy and the caller's, sharing nothing with `fields` (a tenth of copy.deepcopy's cost).
                encoded = dumps(_seed(batch_id, status, (total, completed, failed), now, fields))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"the batch's fields must be JSON-serializable: {exc}") from None
            data = json.loads(encoded)
            record = _Record(
                data,
                progress_per_poll=progress_per_poll,
                auto_usage="usage" not in fields,
                auto_files=not ({"output_file_id", "error_file_id"} & fields.keys()),
            )
            if status == "cancelling":
                record.cancel_started = _number(data.get("cancelling_at"))
            expires = _number(data.get("expires_at"))
            record.expiry_armed = status in CANCELLABLE and expires is not None and expires > now
            if status in _WITH_RESULTS:
                self._attach_results(record)
            if "input_file_id" not in fields:
                self._added_inputs[data["input_file_id"]] = _AddedInput(total, data.get("endpoint"), data.get("model"))
            created = _number(data.get("created_at"))
            record.order_key = (created if created is not None else now, next(self._added), batch_id)
            bisect.insort(self._order, record.order_key)
            self._batches[batch_id] = record
            returned: dict[str, Any] = json.loads(encoded)
            if record.auto_files:  # the file ids _attach_results may have set since (plain strings)
                returned.update((name, data[name]) for name in _RESULT_FILE_FIELDS)
            return returned

    def get(self, batch_id: str, *, poll: bool = False, deep: bool = True) -> dict[str, Any] | None:
        """The batch's wire JSON brought up to date, or None if unknown; `poll` also applies progress_per_poll.

        A deep copy, or with `deep=False` a shallow one (for a reply about to be serialised; see the module docstring).
        """
        with self._lock:
            record = self._batches.get(batch_id)
            if record is None:
                return None
            now = self._clock()
            self._settle(record, now)
            if poll:
                self._progress(record, now)
            return copy.deepcopy(record.data) if deep else dict(record.data)

    def cancel(self, batch_id: str) -> dict[str, Any] | None:
        """Move a running batch to `cancelling`; its wire JSON (a shallow copy, for the reply), or None if unknown.

        Raises:
            NotCancellableError: the batch is not validating, in progress or finalizing.

        """
        with self._lock:
            record = self._batches.get(batch_id)
            if record is None:
                return None
            now = self._clock()
            self._settle(record, now)
            status = record.data.get("status")
            if status not in CANCELLABLE:
                raise NotCancellableError(str(status))
            record.data["status"] = "cancelling"
            record.data["cancelling_at"] = int(now)
            record.cancel_started = now
            return dict(record.data)

    def remove(self, batch_id: str) -> bool:
        """Forget a batch (its files stay); False if there was none."""
        with self._lock:
            record = self._batches.pop(batch_id, None)
            if record is None:
                return False
            del self._order[bisect.bisect_left(self._order, record.order_key)]
            return True

    def page(self, after: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to `limit` batches after the batch `after` (None: from the newest), and whether more follow.

        Newest first, each brought up to date with the clock; shallow copies (see the module docstring).

        Raises:
            UnknownCursorError: no batch has the id `after`.

        """
        with self._lock:
            end = len(self._order)  # the index runs oldest first: a page is read backwards from `end`
            if after is not None:
                cursor = self._batches.get(after)
                if cursor is None:
                    raise UnknownCursorError(after)
                end = bisect.bisect_left(self._order, cursor.order_key)
            start = max(0, end - limit)
            now = self._clock()
            batches = []
            for _, _, batch_id in reversed(self._order[start:end]):
                record = self._batches[batch_id]
                self._settle(record, now)
                batches.append(dict(record.data))
            return batches, start > 0

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every batch's wire JSON, brought up to date with the clock."""
        with self._lock:
            return {batch_id: data for batch_id in list(self._batches) if (data := self.get(batch_id)) is not None}

    def sizes(self) -> tuple[int, int]:
        """How many batches and files are stored."""
        with self._lock:
            return len(self._batches), len(self._files)

    # --- files ---------------------------------------------------------------------------------------------------

    def add_file(self, file_id: str, content: bytes | Path) -> None:
        """Store (or replace) a file's content: its bytes, or the path it is served from."""
        with self._lock:
            self._files[file_id] = content

    def file_source(self, file_id: str) -> bytes | Path | None:
        """Where a file's content is (its bytes, or its path on disk), or None if unknown."""
        with self._lock:
            content = self._files.get(file_id)
            added = self._added_inputs.get(file_id) if content is None else None
        return added.content() if added is not None else content

    def file(self, file_id: str) -> bytes | None:
        """A file's content (read from disk for a file stored as a path), or None if unknown."""
        source = self.file_source(file_id)
        return source.read_bytes() if isinstance(source, Path) else source

    def files(self) -> dict[str, bytes]:
        """Every file's content, by id (files stored as paths are read from disk)."""
        with self._lock:
            files = dict(self._files)
        return {
            file_id: content.read_bytes() if isinstance(content, Path) else content
            for file_id, content in files.items()
        }

    def upload(self, content: bytes, *, filename: str, purpose: str) -> dict[str, Any]:
        """Store an uploaded file and return its file object."""
        with self._lock:
            file_id = f"file-{secrets.token_hex(12)}"
            self._files[file_id] = content
            self._file_info[file_id] = {"created_at": int(self._clock()), "filename": filename, "purpose": purpose}
            return self._file_object(file_id, content)

    def file_object(self, file_id: str) -> dict[str, Any] | None:
        """The file object of a stored file (one a batch wrote, or one added by a test, described as a batch's)."""
        with self._lock:
            if file_id in self._added_inputs:
                return self._file_object(file_id, self._added_inputs[file_id].content(), purpose="batch")
            return self._file_object(file_id, self._files[file_id]) if file_id in self._files else None

    def delete_file(self, file_id: str) -> bool:
        """Forget a file; False if there was none."""
        with self._lock:
            self._file_info.pop(file_id, None)
            added = self._added_inputs.pop(file_id, None) is not None
            return self._files.pop(file_id, None) is not None or added

    def _file_object(self, file_id: str, content: bytes | Path, *, purpose: str = "batch_output") -> dict[str, Any]:
        info = self._file_info.get(file_id) or {
            "created_at": int(self._clock()), "filename": f"{file_id}.jsonl", "purpose": purpose
        }  # fmt: skip
        size = content.stat().st_size if isinstance(content, Path) else len(content)
        return {"id": file_id, "object": "file", "bytes": size, **info, "expires_at": None,
                "status": "processed", "status_details": None}  # fmt: skip

    def _write_file(self, file_id: str, content: bytes, *, filename: str, purpose: str, at: float) -> None:
        self._files[file_id] = content
        self._file_info[file_id] = {"created_at": int(at), "filename": filename, "purpose": purpose}

    # --- batches created through the API ---------------------------------------------------------------------------

    def create_batch(
        self, input_file_id: str, *, endpoint: str, completion_window: str, metadata: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """Create a batch that runs the requests of an uploaded input file; return its wire JSON (`validating`).

        Raises:
            KeyError: no file has this id.
            ValueError: the file was not uploaded with purpose `batch`.

        """
        with self._lock:
            source = self._files.get(input_file_id)
            if source is None:
                raise KeyError(input_file_id)
            content = source.read_bytes() if isinstance(source, Path) else source
            if self._file_info.get(input_file_id, {}).get("purpose") != "batch":
                raise ValueError(f"file {input_file_id} was not uploaded with purpose 'batch'")
            batch_id = f"batch_{secrets.token_hex(16)}"
            requests, problems = parse_input(batch_id, content, endpoint)
            now = self._clock()
            fields: dict[str, Any] = {
                "endpoint": endpoint, "input_file_id": input_file_id, "completion_window": completion_window,
                "metadata": dict(metadata) if metadata is not None else None,
            }  # fmt: skip
            if requests:
                fields["model"] = requests[0].body.get("model")
            data = _seed(batch_id, "validating", (0, 0, 0), now, fields)
            data["expires_at"] = int(now) + DAY_S
            responder = self.responder if self.responder is not None else default_responder
            run = _Run(now, requests, problems, self.request_rate, responder)
            record = _Record(data, auto_files=False, run=run)
            record.expiry_armed = True
            record.order_key = (now, next(self._added), batch_id)  # as add() does: its place in the listing
            bisect.insort(self._order, record.order_key)
            self._batches[batch_id] = record
            return copy.deepcopy(data)

    def _advance_run(self, record: _Record, run: _Run, now: float) -> None:
        """Bring a created batch up to `now`: every transition a created batch goes through, in order."""
        data = record.data
        status = data.get("status")
        if status == "validating":
            start = run.created + VALIDATING_S
            if now < start:
                return
            if run.problems:
                data.update(status="failed", failed_at=int(start), errors={"object": "list", "data": run.problems})
                return
            data.update(status="in_progress", in_progress_at=int(start))
            data["request_counts"] = {"total": len(run.requests), "completed": 0, "failed": 0}
            run.started = start
            status = "in_progress"
        expires = _number(data.get("expires_at"))
        if status == "in_progress":
            self._run_requests(record, run, now if expires is None else min(now, expires))
            if run.finished_at is not None:
                data.update(status="finalizing", finalizing_at=int(run.finished_at))
                status = "finalizing"
            elif expires is not None and now >= expires:
                self._end_run(record, run, "expired", expires)
                return
        if status == "finalizing" and run.finished_at is not None and now >= run.finished_at + FINALIZING_S:
            self._end_run(record, run, "completed", run.finished_at + FINALIZING_S)
        elif status == "cancelling" and record.cancel_started is not None:
            self._run_requests(record, run, record.cancel_started)  # what finished before the cancel
            if now >= record.cancel_started + self._cancel_delay:
                self._end_run(record, run, "cancelled", record.cancel_started + self._cancel_delay)

    def _run_requests(self, record: _Record, run: _Run, until: float) -> None:
        """Answer the requests that have finished by `until` (request i finishes at started + (i + 1) / rate)."""
        if run.started is None:
            return
        total = len(run.requests)
        due = min(total, math.floor((until - run.started) * run.rate + 1e-9))
        for request in run.requests[run.done : due]:
            response = run.responder(request)
            line = _result_line(request, response)
            (run.ok_lines if 200 <= response.status_code < 300 else run.error_lines).append(line)
        if due > run.done:
            run.done = due
            ok = len(run.ok_lines)
            record.data["request_counts"] = {"total": total, "completed": ok, "failed": len(run.error_lines)}
            record.data["usage"] = _results.batch_usage(ok)
        if run.done == total and run.finished_at is None:
            run.finished_at = run.started + total / run.rate

    def _end_run(self, record: _Record, run: _Run, status: str, at: float) -> None:
        """Finish a created batch: its status and timestamp, and its output and error files."""
        data = record.data
        batch_id = data["id"]
        errors = list(run.error_lines)
        if status in _NOT_RUN:
            code, message = _NOT_RUN[status]
            errors += [_not_run_line(request, code, message) for request in run.requests[run.done :]]
        if run.ok_lines:
            output_id = _results.file_id(batch_id, "output")
            self._write_file(output_id, b"".join(run.ok_lines), filename=f"{batch_id}_output.jsonl",
                             purpose="batch_output", at=at)  # fmt: skip
            data["output_file_id"] = output_id
        if errors:
            error_id = _results.file_id(batch_id, "error")
            self._write_file(error_id, b"".join(errors), filename=f"{batch_id}_error.jsonl", purpose="batch_output",
                             at=at)  # fmt: skip
            data["error_file_id"] = error_id
        data["status"] = status
        data[f"{status}_at"] = int(at)

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def _settle(self, record: _Record, now: float) -> None:
        """Apply the transitions that time alone causes."""
        if record.run is not None:
            self._advance_run(record, record.run, now)
            return
        data = record.data
        status = data.get("status")
        if status == "cancelling" and record.cancel_started is not None:
            done_at = record.cancel_started + self._cancel_delay
            if now >= done_at:
                self._finish(record, "cancelled", "cancelled_at", done_at)
        elif status in CANCELLABLE and record.expiry_armed:
            expires = _number(data.get("expires_at"))
            if expires is not None and now >= expires:
                self._finish(record, "expired", "expired_at", expires)

    def _progress(self, record: _Record, now: float) -> None:
        """One step of a batch that moves on each poll."""
        if not record.progress_per_poll:
            return
        data = record.data
        status = data.get("status")
        if status == "validating":
            data["status"] = "in_progress"
            data["in_progress_at"] = int(now)
        elif status == "in_progress":
            counts = _counts(data)
            if counts is None:
                return
            total, completed, failed = counts
            completed = min(total - failed, completed + record.progress_per_poll)
            data["request_counts"] = {"total": total, "completed": completed, "failed": failed}
            if record.auto_usage:
                data["usage"] = _results.batch_usage(completed)
            if completed + failed >= total:
                data["status"] = "finalizing"
                data["finalizing_at"] = int(now)
        elif status == "finalizing":
            self._finish(record, "completed", "completed_at", now)

    def _finish(self, record: _Record, status: str, stamp: str, at: float) -> None:
        record.data["status"] = status
        record.data[stamp] = int(at)
        self._attach_results(record)

    def _attach_results(self, record: _Record) -> None:
        """Write the output file (if any request completed) and the error file (if any failed).

        Of the batch's fields it sets only `_RESULT_FILE_FIELDS` (`add` relies on it).
        """
        counts = _counts(record.data)
        if not record.auto_files or counts is None:
            return
        data = record.data
        _, completed, failed = counts
        batch_id = data["id"]
        model = data.get("model")
        started = _number(data.get("in_progress_at")) or _number(data.get("created_at")) or self._clock()
        if completed:
            output_id = _results.file_id(batch_id, "output")
            model_name = model if isinstance(model, str) and model else DEFAULT_MODEL
            self._files[output_id] = _results.output_file(
                batch_id, count=completed, model=model_name, created=int(started)
            )
            data["output_file_id"] = output_id
        if failed:
            error_id = _results.file_id(batch_id, "error")
            self._files[error_id] = _results.error_file(batch_id, first=completed + 1, count=failed)
            data["error_file_id"] = error_id


class _AddedInput(NamedTuple):
    """What an added batch's input file is made of: `total` requests to its endpoint and model."""

    total: int
    endpoint: object
    model: object

    def content(self) -> bytes:
        endpoint = self.endpoint if isinstance(self.endpoint, str) and self.endpoint else "/v1/chat/completions"
        model = self.model if isinstance(self.model, str) and self.model else DEFAULT_MODEL
        return _results.input_file(total=self.total, endpoint=endpoint, model=model)


def _seed(
    batch_id: str, status: str, counts: tuple[int, int, int], now: float, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The wire JSON of a batch added in `status`, with timestamps that tell a consistent story.

    Timestamps end at `now`, `STEP_S` apart, unless the caller gives `created_at`: then they run on from it.
    An expired batch is dated so that it expired 24 hours after it was created. The result shares the values of
    `fields` (and the constant validation errors): a caller that keeps it makes its own copy.
    """
    events = _EVENTS.get(status, ())
    given = _number(fields.get("created_at"))
    if status == "expired":
        created = int(given) if given is not None else int(now) - DAY_S - STEP_S
        stamps = {"in_progress_at": created + STEP_S, "expired_at": created + DAY_S}
    else:
        created = int(given) if given is not None else int(now) - len(events) * STEP_S
        stamps = {event: created + (i + 1) * STEP_S for i, event in enumerate(events)}
    total, completed, failed = counts
    data: dict[str, Any] = {  # the field order of OpenAI's own example (seeds/002)
        "id": batch_id,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "model": DEFAULT_MODEL,
        "errors": _VALIDATION_ERRORS if status == "failed" else None,  # the caller copies the whole batch
        "input_file_id": _results.file_id(batch_id, "input"),
        "completion_window": "24h",
        "status": status,
        "output_file_id": None,
        "error_file_id": None,
        "created_at": created,
        "in_progress_at": None,
        "expires_at": created + DAY_S,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": total, "completed": completed, "failed": failed},
        "usage": _results.batch_usage(completed),
        "metadata": None,
    }
    data.update(stamps)
    data.update(fields)
    return data


def _result_line(request: FakeRequest, response: FakeResponse) -> bytes:
    """The output or error file line of a request that ran."""
    digest = _results.digest(request.batch_id, request.custom_id)
    record = {
        "id": f"batch_req_{digest}",
        "custom_id": request.custom_id,
        "response": {"status_code": response.status_code, "request_id": f"req_{digest}", "body": response.body},
        "error": None,
    }
    return dumps(record) + b"\n"


def _not_run_line(request: FakeRequest, code: str, message: str) -> bytes:
    """The error file line of a request the batch never ran."""
    record = {
        "id": f"batch_req_{_results.digest(request.batch_id, request.custom_id)}",
        "custom_id": request.custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }
    return dumps(record) + b"\n"
