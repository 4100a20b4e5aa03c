"""What the `batches-ext` command prints for people: the batch table, request counts and relative times.

Pure functions of a `Batch` and an explicit `now`, so the output is testable to the character. Text that came
from the server is passed through `clean` first: a metadata value must not be able to move the cursor or retitle
the terminal. What it prints for programs (`--json`) goes through `strict_json`: always JSON a strict parser reads.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from batches_ext._batch import TIMESTAMP_FIELDS

if TYPE_CHECKING:
    from batches_ext._batch import Batch, RequestCounts

__all__ = [
    "batch_table",
    "batches",
    "clean",
    "counts_text",
    "iso_utc",
    "json_line",
    "relative_time",
    "status_line",
    "strict_json",
    "timestamp_text",
]

MINUTE_S: Final = 60
HOUR_S: Final = 60 * MINUTE_S
DAY_S: Final = 24 * HOUR_S
# Below two days, hours read better than "1 day" ("in 23 h" for a batch's 24 h expiry window).
HOURS_UNTIL_S: Final = 2 * DAY_S
MAX_ERRORS_SHOWN: Final = 5  # a failed batch can list thousands of bad lines; --json has them all


def clean(text: object) -> str:
    """`text` as a string, with control and other non-printable characters escaped as in a Python literal."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in value)


def strict_json(value: object, *, indent: int | None = None) -> str:
    """`value` as JSON any parser accepts: compact on one line, or indented.

    Python's `json` reads `NaN` and `Infinity` from a server, but they are not JSON and would break `jq`; they are
    written as `null`, as JavaScript's `JSON.stringify` does.
    """
    separators = None if indent is not None else (",", ":")
    try:
        return json.dumps(value, indent=indent, separators=separators, allow_nan=False)
    except ValueError:  # a non-finite float somewhere: the rare case pays for the copy
        return json.dumps(_finite(value), indent=indent, separators=separators, allow_nan=False)


def json_line(stored: bytes, record: object) -> bytes:
    """A result line to print: its `stored` bytes when they are JSON, else `record` as strict JSON.

    Python's `json` read the line even if it holds `NaN` or `Infinity`, which are not JSON; printed as stored, they
    would break the next tool in the pipe. Only such a line is written anew (those values as null); every other line
    keeps its bytes exactly (`1e400`, `1.10` and unescaped text included). The check costs two substring searches.
    """
    if (b"NaN" in stored or b"Infinity" in stored) and not _is_json(stored):
        return strict_json(record).encode()
    return stored


def _is_json(line: bytes) -> bool:
    def refuse(constant: str) -> object:
        raise ValueError(constant)

    try:
        json.loads(line, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def batches(count: int) -> str:
    """`1 batch`, `3 batches`: a count of batches in words."""
    return f"{count} batch" if count == 1 else f"{count} batches"


def iso_utc(moment: datetime) -> str:
    """`2024-03-26T16:45:33Z`: ISO-8601 in UTC to the second (the API's precision)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative_time(moment: datetime, now: datetime) -> str:
    """How far `moment` is from `now`, in the largest whole unit: `3 min ago`, `in 2 h`, `now`.

    Units round down, so a deadline never looks further away than it is: 119 s is `1 min`.
    """
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    if size < 1:
        return "now"
    if size < MINUTE_S:
        amount = f"{int(size)} s"
    elif size < HOUR_S:
        amount = f"{int(size // MINUTE_S)} min"
    elif size < HOURS_UNTIL_S:
        amount = f"{int(size // HOUR_S)} h"
    else:
        days = int(size // DAY_S)
        amount = f"{days} day" if days == 1 else f"{days} days"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def timestamp_text(moment: datetime, now: datetime) -> str:
    """`2024-03-26T16:45:33Z (3 min ago)`."""
    return f"{iso_utc(moment)} ({relative_time(moment, now)})"


def counts_text(counts: RequestCounts | None) -> str:
    """`37/100 done (35 ok, 2 failed), 37%`; the share rounds down, so 100% means every request finished."""
    if counts is None:
        return "not reported"
    if counts.total <= 0:
        return "no requests counted yet"
    percent = min(100, max(0, counts.finished * 100 // counts.total))
    return f"{counts.finished}/{counts.total} done ({counts.completed} ok, {counts.failed} failed), {percent}%"


def status_line(batch: Batch) -> str:
    """One line for logs and for the last known state: `batch_abc: cancelling, 37/100 done (...), 37%`."""
    return f"{clean(batch.id)}: {clean(batch.status)}, {counts_text(batch.request_counts)}"


def batch_table(batch: Batch, now: datetime) -> str:
    """The batch as aligned `key: value` rows (wire field names), ending with every timestamp that is set.

    Args:
        batch: the batch to show.
        now: the moment relative times are measured from (injectable for tests).

    Returns:
        The table, lines joined with newlines, without a trailing newline.

    """
    rows: list[tuple[str, str]] = [
        ("id", clean(batch.id)),
        ("status", clean(batch.status)),
        ("endpoint", clean(batch.endpoint or "not reported")),
    ]
    if batch.model:
        rows.append(("model", clean(batch.model)))
    rows.append(("request_counts", counts_text(batch.request_counts)))
    rows += [
        ("input_file_id", clean(batch.input_file_id or "none")),
        ("output_file_id", clean(batch.output_file_id or "none")),
        ("error_file_id", clean(batch.error_file_id or "none")),
    ]
    usage = batch.usage
    if usage is not None:
        rows.append(
            (
                "usage",
                f"{usage.input_tokens} in ({usage.cached_tokens} cached), "
                f"{usage.output_tokens} out ({usage.reasoning_tokens} reasoning), {usage.total_tokens} tokens",
            )
        )
    metadata = batch.metadata
    if metadata:
        rows.append(("metadata", ", ".join(f"{clean(key)}={clean(value)}" for key, value in metadata.items())))
    errors = batch.errors
    for detail in errors[:MAX_ERRORS_SHOWN]:
        where = f"line {detail.line}: " if detail.line is not None else ""
        rows.append(("errors", clean(f"{where}{detail.code or 'error'}: {detail.message or ''}".rstrip(": "))))
    if len(errors) > MAX_ERRORS_SHOWN:
        rows.append(("errors", f"... and {len(errors) - MAX_ERRORS_SHOWN} more (see --json)"))
    rows += _timestamp_rows(batch, now)
    width = max(len(key) for key, _ in rows) + 1
    return "\n".join(f"{key + ':':<{width}} {value}" for key, value in rows)


def _timestamp_rows(batch: Batch, now: datetime) -> list[tuple[str, str]]:
    rows = []
    for name in TIMESTAMP_FIELDS:
        moment: datetime | None = getattr(batch, name)
        if moment is not None:
            rows.append((name, timestamp_text(moment, now)))
    return rows
