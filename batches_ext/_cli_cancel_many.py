"""`batches-ext cancel` with several ids, ids from stdin (`-`), or `--all` with the list filters.

Every id and option is checked before anything is sent. `--all` selects the matching batches that are still running
(validating, in progress, finalizing), shows how many and which, and asks on a terminal; without one it refuses
unless given `--yes`. Each batch's outcome goes to stdout as it is known (one line, or a JSON line with `--json`);
the summary and the batches that were not stopped go to stderr. Exit status: 0 when every batch is stopped or was
already finished, 1 when any was not (not found, or failed), 2 usage, 130 interrupted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final, TextIO

from batches_ext._cli_filters import has_filters
from batches_ext._cli_format import batches, clean, strict_json
from batches_ext._cli_list import find_batches, table_header, table_row
from batches_ext.cli import EXIT_API_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG

if TYPE_CHECKING:
    import argparse

    from batches_ext._batch import Batch
    from batches_ext._bulk import CancelOutcome
    from batches_ext._client import BatchesClient
    from batches_ext._waiting import WaitOptions
    from batches_ext.cli import _Session

__all__ = ["PROG_HINT", "STDIN", "is_bulk", "read_ids", "run_cancel_many"]

STDIN: Final = "-"
MAX_LISTED: Final = 20  # how many selected batches the confirmation shows before "... and N more"
_YES: Final = frozenset({"y", "yes"})


def is_bulk(args: argparse.Namespace) -> bool:
    """Whether a `cancel` command line is a bulk cancel (else the one-batch command, unchanged).

    Any bulk option makes it one, so a mistake like filters without `--all` is reported rather than ignored.
    """
    batch_ids: list[str] = args.batch_ids
    return len(batch_ids) != 1 or batch_ids[0] == STDIN or args.all or args.dry_run or args.yes or has_filters(args)


def read_ids(stream: TextIO) -> list[str]:
    """Ids from `stream`, one per line, blank lines ignored, surrounding whitespace stripped.

    Raises:
        ValueError: a line is not a usable id (the message names the line).

    """
    from batches_ext._ids import check_id  # noqa: PLC0415 - the client's own rule

    ids = []
    for number, line in enumerate(stream, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            ids.append(check_id(text))
        except ValueError as exc:
            raise ValueError(f"stdin line {number}: {exc}") from None
    return ids


def _outcome_text(outcome: CancelOutcome) -> str:
    batch = outcome.batch
    status = f" ({clean(batch.status)})" if batch is not None else ""
    text = f"{clean(outcome.batch_id)}: {outcome.outcome.replace('_', ' ')}{status}"
    if outcome.error is not None and not outcome.ok:
        text += f": {clean(outcome.error)}"
    return text


def _outcome_json(outcome: CancelOutcome) -> str:
    batch = outcome.batch
    return strict_json(
        {
            "id": outcome.batch_id,
            "outcome": outcome.outcome,
            "status": str(batch.status) if batch is not None else None,
            "error": str(outcome.error) if outcome.error is not None else None,
        }
    )


def run_cancel_many(session: _Session) -> int:  # noqa: PLR0911 - one exit per way a bulk cancel ends
    """Run a bulk `cancel`; see the module docstring."""
    args = session.args
    problem = _usage_problem(args)
    if problem is not None:
        session.say(f"{PROG} cancel: error: {problem}")
        return EXIT_USAGE
    ids = [batch_id for batch_id in args.batch_ids if batch_id != STDIN]
    if STDIN in args.batch_ids:
        try:
            ids += read_ids(session.stdin)
        except ValueError as exc:
            session.say(f"{PROG} cancel: error: {exc}")
            return EXIT_USAGE
        ids = list(dict.fromkeys(ids))
        if not ids:
            session.say("no batch ids on stdin: nothing to cancel")
            return EXIT_OK
    sleep = _Sleep()
    with session.client(sleep=sleep) as client:
        if args.all:
            selection = [batch for batch in find_batches(client, args) if batch.is_cancellable]
            ids = [batch.id for batch in selection]
            if not selection:
                matching = " match the filters" if has_filters(args) else ""
                session.say(f"no running batches{matching}: nothing to cancel")
                return EXIT_OK
            if args.dry_run:
                _show_selection(session, selection, session.out, limit=None)
                session.say(f"dry run: would cancel {batches(len(selection))}; nothing was sent")
                return EXIT_OK
            if not args.yes:
                if not _isatty(session.stdin):
                    session.say(
                        f"{PROG} cancel: error: refusing to cancel {batches(len(selection))} without --yes "
                        "(no terminal to confirm on); nothing was sent"
                    )
                    return EXIT_USAGE
                _show_selection(session, selection, session.err, limit=MAX_LISTED)
                session.err.write(f"Cancel {batches(len(selection))}? [y/N] ")
                session.err.flush()
                answer = session.stdin.readline().strip().lower()
                if answer not in _YES:
                    session.say("nothing was cancelled")
                    return EXIT_API_ERROR
        elif args.dry_run:
            for batch_id in ids:
                session.out.write(clean(batch_id) + "\n")
            session.out.flush()
            session.say(f"dry run: would cancel {batches(len(ids))}; nothing was sent")
            return EXIT_OK
        return _cancel(session, client, ids, sleep)


def _usage_problem(args: argparse.Namespace) -> str | None:  # noqa: PLR0911 - one message per mistake
    batch_ids: list[str] = args.batch_ids
    if args.all and batch_ids:
        return "give batch ids or --all, not both"
    if not args.all:
        if not batch_ids:
            return "give one or more batch ids, - to read them from stdin, or --all"
        if has_filters(args):
            return "--status, --metadata, --created-after and --created-before select batches for --all"
        if args.yes:
            return "--yes confirms --all"
    if batch_ids.count(STDIN) > 1:
        return "- (stdin) can be given once"
    if not args.wait and (args.timeout is not None or args.poll_interval is not None):
        return "--timeout and --poll-interval need --wait"
    if args.dry_run and args.wait:
        return "--dry-run sends nothing: there is nothing to --wait for"
    return None


def _show_selection(session: _Session, selection: list[Batch], stream: TextIO, limit: int | None) -> None:
    now = datetime.now().astimezone()
    shown = selection if limit is None else selection[:limit]
    stream.write(table_header() + "\n")
    for batch in shown:
        stream.write(session.scrub(table_row(batch, now)) + "\n")
    if len(selection) > len(shown):
        stream.write(f"... and {len(selection) - len(shown)} more\n")
    stream.flush()


class _Sleep:
    """The client's sleep: `time.sleep` until a progress display takes it over (made once the ids are known)."""

    def __init__(self) -> None:
        self.target: Callable[[float], None] = time.sleep

    def __call__(self, seconds: float) -> None:
        self.target(seconds)


def _cancel(session: _Session, client: BatchesClient, ids: list[str], sleep: _Sleep) -> int:
    from batches_ext._cli_multi_progress import MultiProgress  # noqa: PLC0415

    args = session.args
    progress = MultiProgress(session.err, ids) if args.wait else None
    live = progress is not None and progress.live
    outcomes: list[CancelOutcome] = []

    def report(outcome: CancelOutcome) -> None:
        outcomes.append(outcome)
        if progress is not None:
            progress.outcome(outcome)
        if not live:
            _write_outcome(session, outcome)

    options: WaitOptions = {}
    if progress is not None:
        sleep.target = progress.sleep
        options["on_update"] = progress.update
        if args.timeout is not None:
            options["timeout"] = args.timeout
        if args.poll_interval is not None:
            options["poll_interval"] = args.poll_interval
    try:
        result = client.cancel_many(ids, wait=args.wait, on_outcome=report, **options)
    except KeyboardInterrupt:
        if progress is not None:
            progress.finish()
        if live:
            for outcome in outcomes:
                _write_outcome(session, outcome)
        session.say(
            f"interrupted: {len(outcomes)} of {batches(len(ids))} have an outcome (above); the others may or may not "
            f"have been cancelled: `{PROG_HINT}` shows which are still running"
        )
        return EXIT_INTERRUPTED
    if progress is not None:
        progress.finish()
    if live:
        for outcome in result:
            _write_outcome(session, outcome)
    session.say(str(result))
    return EXIT_OK if result.ok else EXIT_API_ERROR


PROG_HINT: Final = "batches-ext list --status in_progress --status validating --status finalizing"


def _write_outcome(session: _Session, outcome: CancelOutcome) -> None:
    line = _outcome_json(outcome) if session.args.json else session.scrub(_outcome_text(outcome))
    session.out.write(line + "\n")
    session.out.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
