"""`batches-ext download ID [-o DIR] [--no-errors]`: a batch's results files to disk, resumed across breaks and runs.

The paths written go to stdout, one per line. On a terminal, stderr shows a live bar per file (bytes, rate, ETA);
otherwise one line per file once it is written. An interrupted download leaves `<name>.part`; running the command
again continues it when the server honours `Range`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from batches_ext._cli_progress import BAR_WIDTH, TICK_S, columns, elapsed_text, isatty

if TYPE_CHECKING:
    from batches_ext.cli import _Session

__all__ = ["DownloadProgress", "add_command", "size_text"]

_EXIT_OK: Final = 0
_EXIT_USAGE: Final = 2


def add_command(command: Callable[..., argparse.ArgumentParser], batch_id: Callable[[str], str], prog: str) -> None:
    """Add `download` to the CLI through its `command` helper."""
    download = command(
        "download",
        run_download,
        "Write a batch's output and error files to disk (each complete or not at all; an interrupted download "
        "continues where it stopped when run again); the paths on stdout, progress on stderr.",
        f"{prog} download batch_abc123 -o results/",
    )
    download.add_argument("batch_id", metavar="BATCH_ID", type=batch_id, help="the batch whose files to write")
    download.add_argument(
        "-o", "--output", metavar="DIR", default=".", help="the directory to write into (default: the current one)"
    )
    download.add_argument("--no-errors", action="store_true", help="write the output file only")


def size_text(size: float) -> str:
    """`812 B`, `45.3 kB`, `120.4 MB`, `1.07 GB` (powers of 1000, as disks and networks count)."""
    if size < 1000:
        return f"{size:.0f} B"
    if size < 1e6:
        return f"{size / 1e3:.1f} kB"
    if size < 1e9:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e9:.2f} GB"


class DownloadProgress:
    """Reports `download_results`' `on_progress` on `stream`: a live bar on a terminal, a line per file otherwise.

    Args:
        stream: where progress goes (stderr).
        live: redraw one line in place; by default, when `stream` is a terminal.
        clock: a monotonic clock, for rates and the ETA.

    """

    def __init__(
        self, stream: TextIO, *, live: bool | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.live = isatty(stream) if live is None else live
        self._clock = clock
        self._kind: str | None = None
        self._started = 0.0
        self._done = 0
        self._total: int | None = None
        self._drawn = float("-inf")
        self._shown = 0

    def update(self, kind: str, done: int, total: int | None) -> None:
        """A file has `done` of `total` bytes (called after each piece written)."""
        now = self._clock()
        if kind != self._kind:
            self._end_file()
            self._kind, self._started = kind, now
        self._done, self._total = done, total
        if self.live and (now - self._drawn >= TICK_S or done == total):
            self._drawn = now
            self._draw(now)

    def finish(self) -> None:
        """Close the last file's report; safe to call more than once."""
        self._end_file()
        self._kind = None

    def line(self, now: float) -> str:
        """`output [#########-----------] 41.2 MB/90.0 MB 35.1 MB/s ETA 1.4s`."""
        elapsed = max(now - self._started, 1e-9)
        rate = self._done / elapsed
        total = self._total
        if total is None or total <= 0:
            return f"{self._kind} {size_text(self._done)} {size_text(rate)}/s {elapsed_text(elapsed)}"
        filled = min(self._done, total) * BAR_WIDTH // total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        eta = f"ETA {elapsed_text((total - self._done) / rate)}" if rate > 0 and self._done < total else "done"
        return f"{self._kind} [{bar}] {size_text(self._done)}/{size_text(total)} {size_text(rate)}/s {eta}"

    def _draw(self, now: float) -> None:
        text = self.line(now)[: columns(self.stream) - 1]
        self.stream.write("\r" + text + " " * (self._shown - len(text)))
        self.stream.flush()
        self._shown = len(text)

    def _end_file(self) -> None:
        if self._kind is None:
            return
        now = self._clock()
        if self.live:
            self._draw(now)
            self.stream.write("\n")
            self._shown = 0
        else:
            self.stream.write(f"{self._kind}: {size_text(self._done)} in {elapsed_text(now - self._started)}\n")
        self.stream.flush()


def run_download(session: _Session) -> int:
    """The `download` command."""
    args = session.args
    folder = Path(args.output)
    if not folder.is_dir():
        session.say(f"error: {folder} is not a directory")
        return _EXIT_USAGE
    progress = DownloadProgress(session.err)
    with session.client() as client:
        try:
            written = client.download_results(
                args.batch_id, folder, errors=not args.no_errors, on_progress=progress.update
            )
        finally:
            progress.finish()
    if written.output is None and written.error is None:
        session.say(f"note: batch {args.batch_id} has no results file yet; nothing written")
    for path in written:
        if path is not None:
            session.out.write(f"{path}\n")
    session.out.flush()
    return _EXIT_OK
