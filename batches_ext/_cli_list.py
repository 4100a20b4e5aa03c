"""`batches-ext list`: the batch table and the command; the selection `cancel --all` shares with it.

The table streams: its columns have fixed widths (an id longer than its column pushes the rest of its row right
rather than being cut: ids are for copying), so 100,000 batches print in constant memory, a row per batch as its
page arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Final

from batches_ext._cli_filters import has_filters
from batches_ext._cli_format import clean, relative_time, strict_json
from batches_ext._listing import MAX_PAGE_SIZE
from batches_ext.cli import EXIT_OK

if TYPE_CHECKING:
    import argparse

    from batches_ext._batch import Batch
    from batches_ext._client import BatchesClient
    from batches_ext.cli import _Session

__all__ = ["COLUMNS", "find_batches", "json_line", "run_list", "table_header", "table_row"]

# (header, width) of each column but the last (metadata), which takes the rest of the line.
COLUMNS: Final = (("ID", 38), ("STATUS", 11), ("PROGRESS", 15), ("CREATED", 13), ("ENDPOINT", 21), ("MODEL", 24))
MAX_METADATA_CHARS: Final = 40  # the summary column; --json has every key


def find_batches(client: BatchesClient, args: argparse.Namespace) -> Iterator[Batch]:
    """The batches the filter options select, newest first (every batch when none is given)."""
    if not has_filters(args):
        shown: int | None = getattr(args, "limit", None)  # `list --limit N`: N at most; no larger page is needed
        return client.list(limit=min(shown or MAX_PAGE_SIZE, MAX_PAGE_SIZE))
    return client.find(
        status=args.status,
        metadata=dict(args.metadata) if args.metadata else None,
        created_after=args.created_after,
        created_before=args.created_before,
    )


def _cell(text: str, width: int) -> str:
    return f"{text:<{width}} "


def table_header() -> str:
    """The header line of the table."""
    return "".join(_cell(name, width) for name, width in COLUMNS) + "METADATA"


def _progress(batch: Batch) -> str:
    counts = batch.request_counts
    if counts is None or counts.total <= 0:
        return "-"
    percent = min(100, max(0, counts.finished * 100 // counts.total))
    return f"{counts.finished}/{counts.total} {percent}%"


def _metadata(batch: Batch) -> str:
    text = ", ".join(f"{clean(key)}={clean(value)}" for key, value in batch.metadata.items())
    return text if len(text) <= MAX_METADATA_CHARS else text[: MAX_METADATA_CHARS - 3] + "..."


def table_row(batch: Batch, now: datetime) -> str:
    """One batch as a table row; server text escaped (no terminal control), missing values as `-`."""
    created = batch.created_at
    cells = (
        clean(batch.id),
        clean(batch.status),
        _progress(batch),
        relative_time(created, now) if created is not None else "-",
        clean(batch.endpoint or "-"),
        clean(batch.model or "-"),
    )
    line = "".join(_cell(text, width) for text, (_, width) in zip(cells, COLUMNS, strict=True)) + _metadata(batch)
    return line.rstrip()


def json_line(batch: Batch) -> str:
    """The batch's wire JSON on one line (`jq -r .id` reads it)."""
    return strict_json(batch.to_dict())


def run_list(session: _Session) -> int:
    """`batches-ext list`: the table (or JSON lines) of the batches the filters select, newest first."""
    args = session.args
    out = session.out
    shown = 0
    now = datetime.now().astimezone()
    with session.client() as client:
        if not args.json:
            out.write(table_header() + "\n")
        for batch in find_batches(client, args):
            out.write((json_line(batch) if args.json else session.scrub(table_row(batch, now))) + "\n")
            shown += 1
            if shown == args.limit:
                break  # before the iterator asks for a page that would not be shown
        out.flush()
    if not args.json and shown == 0:
        session.say("no batches" + (" match the filters" if has_filters(args) else ""))
    return EXIT_OK
