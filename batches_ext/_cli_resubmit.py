"""`batches-ext remainder` and `batches-ext resubmit`: what a cancelled or expired batch did not finish.

`remainder ID [--retry-failed] [-o FILE]` prints the input lines to send again (JSONL, exact bytes) on stdout or
into FILE, with the counts on stderr; `resubmit ID [--retry-failed] [--wait] [--json]` sends them as a new batch.
A remainder that is ambiguous (duplicate or unknown custom_ids) exits 1 naming them; nothing is uploaded.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from batches_ext._lifecycle import RemainderReport
    from batches_ext.cli import _Session

__all__ = ["add_commands"]

_EXIT_OK: Final = 0
_EXIT_API_ERROR: Final = 1
_EXIT_USAGE: Final = 2


def add_commands(
    command: Callable[..., argparse.ArgumentParser],
    batch_id: Callable[[str], str],
    wait_options: Callable[[argparse.ArgumentParser], None],
    prog: str,
) -> None:
    """Add `remainder` and `resubmit` to the CLI through its `command` helper."""
    remainder = command(
        "remainder",
        _remainder,
        "Print the input lines of a finished batch that did not finish (never ran; with --retry-failed also 408, "
        "429 and 5xx failures) as JSON lines; counts on stderr.",
        f"{prog} remainder batch_abc123 -o rest.jsonl",
    )
    remainder.add_argument("batch_id", metavar="BATCH_ID", type=batch_id, help="a cancelled, expired or finished batch")
    remainder.add_argument("--retry-failed", action="store_true", help="also requests that failed in a retryable way")
    remainder.add_argument("-o", "--output", metavar="FILE", help="write to FILE (complete or not at all)")

    resubmit = command(
        "resubmit",
        _resubmit,
        "Send what a finished batch did not finish as a new batch (same endpoint, window and metadata, plus "
        "resubmitted_from); with --wait, wait for the new batch.",
        f"{prog} resubmit batch_abc123 --wait",
    )
    resubmit.add_argument("batch_id", metavar="BATCH_ID", type=batch_id, help="a cancelled, expired or finished batch")
    resubmit.add_argument("--retry-failed", action="store_true", help="also requests that failed in a retryable way")
    resubmit.add_argument("--wait", action="store_true", help="wait until the new batch finishes, showing progress")
    wait_options(resubmit)


def _counts(report: RemainderReport) -> str:
    return f"{report.finished} finished, {report.to_resubmit} to resubmit, {report.failed} failed for good"


def _remainder(session: _Session) -> int:
    from batches_ext._lifecycle import RemainderReport  # noqa: PLC0415 - the CLI imports the library lazily

    args = session.args
    try:
        with session.client() as client:
            if args.output:
                report = client.write_remainder(args.batch_id, args.output, retry_failed=args.retry_failed)
            else:
                report = RemainderReport()
                buffer = getattr(session.out, "buffer", None)
                for line in client.remainder(args.batch_id, retry_failed=args.retry_failed, report=report):
                    if buffer is not None:
                        buffer.write(line + b"\n")  # the exact bytes of the input
                    else:
                        session.out.write(line.decode("utf-8", "replace") + "\n")
                session.out.flush()
                if report.conflicts:
                    session.say(f"error: the remainder is ambiguous: {report.describe_conflicts()}")
                    session.say(_counts(report))
                    return _EXIT_API_ERROR
    except ValueError as exc:  # the batch is still running, or names no input file
        if isinstance(exc, _batches_error()):
            raise
        session.say(f"error: {exc}")
        return _EXIT_USAGE
    session.say(_counts(report) + (f" (written to {args.output})" if args.output else ""))
    return _EXIT_OK


def _resubmit(session: _Session) -> int:
    args = session.args
    if not args.wait and (args.timeout is not None or args.poll_interval is not None):
        session.say("batches-ext resubmit: error: --timeout and --poll-interval need --wait")
        return _EXIT_USAGE
    progress = session.start_progress() if args.wait else None
    try:
        with session.client() as client:
            new = client.resubmit(args.batch_id, retry_failed=args.retry_failed)
            if new is None:
                session.say(f"nothing to resubmit: every request of {args.batch_id} finished or failed for good")
                return _EXIT_OK
            session.say(f"resubmitted the rest of {args.batch_id} as {new.id}")
            if progress is not None:
                progress.restart()
                new = client.wait(new.id, **session.wait_options(progress))
                session.end_progress()
    except ValueError as exc:  # still running, no room in the metadata, no endpoint
        if isinstance(exc, _batches_error()):
            raise
        session.end_progress()
        session.say(f"error: {exc}")
        return _EXIT_USAGE
    session.show(new)
    return _EXIT_OK


def _batches_error() -> type[Exception]:
    """The library's error root: its ValueError subclasses (conflicts, bad files) exit 1 through the CLI's guard."""
    from batches_ext.errors import BatchesError  # noqa: PLC0415

    return BatchesError
