"""A file download that survives breaks: where it stands across attempts, and what each new attempt must check.

The clients' loops do the I/O (`_file_chunks`); every decision is made here. After a break (the connection dropped,
the body ended before its `Content-Length`, a retryable status on the next attempt) the download resumes at
`offset`: the end of the last whole line when lines are read, every byte kept when a file is written. It asks for
`Range: bytes=<offset>-`; a 206 must say `Content-Range: bytes <offset>-...` (another range: ask again without
`Range`), a 200 is the whole file again and its first `offset` bytes are skipped. The retry budget and backoff are
the client's (`RetryState`), counted per break that makes no progress: reaching further into the file than any
attempt before resets it, so a long file with many breaks completes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

import httpx

from batches_ext._jsonl import LineSplitter
from batches_ext._retry import RetryState
from batches_ext.errors import APIError, APIStatusError, ResultsDownloadError

if TYPE_CHECKING:
    from batches_ext._batch import Batch
    from batches_ext._results import ResultFile

__all__ = [
    "ContentRange",
    "Destination",
    "DownloadedResults",
    "ResumableRead",
    "check_destination",
    "download_targets",
    "parse_content_range",
    "part_path",
]

_CONTENT_RANGE: Final = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ContentRange(NamedTuple):
    """A 206's `Content-Range: bytes first-last/total` (`total` None for `*`)."""

    first: int
    last: int
    total: int | None


def parse_content_range(value: str | None) -> ContentRange | None:
    """The range a 206 says it holds; None when the header is missing or malformed."""
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if match is None:
        return None
    first, last, total = int(match[1]), int(match[2]), None if match[3] == "*" else int(match[3])
    if last < first or (total is not None and last >= total):
        return None
    return ContentRange(first, last, total)


def _content_length(response: httpx.Response) -> int | None:
    try:
        length = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


class ResumableRead:
    """One file's download across its attempts.

    Args:
        file_id: the file.
        offset: bytes of the file already kept (a partial file on disk); 0 to start at the beginning.
        splitter: read lines (`lines_of`): `offset` then follows the end of the last whole line. Without one, every
            byte `take` returns is kept.
        from_earlier_run: the first `offset` bytes were kept by an earlier run: they are continued only when the
            server answers 206 for that range; a whole-file answer restarts at byte 0 (`offset` drops to 0, and
            what was kept is to be overwritten).

    """

    __slots__ = (
        "_counted",
        "_earlier",
        "_mark",
        "_position",
        "_skip",
        "breaks",
        "etag",
        "file_id",
        "furthest",
        "offset",
        "ranged",
        "splitter",
        "total",
    )

    def __init__(
        self, file_id: str, *, offset: int = 0, splitter: LineSplitter | None = None, from_earlier_run: bool = False
    ) -> None:
        self.file_id = file_id
        self.offset = offset
        self.splitter = splitter
        self.total: int | None = None
        """The file's size, once an answer said it."""
        self.furthest = offset
        """The furthest byte of the file any attempt reached: going beyond it is progress."""
        self.ranged = True
        """Whether to ask with `Range` (no longer after a 206 for another range, or an encoded body)."""
        self.breaks = 0
        self.etag: str | None = None
        """The file's `ETag`, when the first answer had one: a later answer with another means the file changed."""
        self._mark = offset  # `furthest` at the last break
        self._position = offset  # the file offset of the next byte of the current body
        self._skip = 0  # bytes of the current body that were read before
        self._counted = 0  # newlines in the bytes kept, without a splitter (for the error's record count)
        self._earlier = from_earlier_run and offset > 0

    @property
    def records(self) -> int:
        """Whole lines read so far."""
        return self.splitter.lines if self.splitter is not None else self._counted

    def prepare(self, request: httpx.Request) -> None:
        """Set `request`'s `Range` for the next attempt (none at the start, or when ranges are not trusted).

        With the strong `ETag` an earlier answer gave, `If-Range` asks for the whole file instead should it have
        changed since (which `begin` then refuses).
        """
        if self.offset and self.ranged:
            request.headers["Range"] = f"bytes={self.offset}-"
            if self.etag is not None and not self.etag.startswith("W/"):
                request.headers["If-Range"] = self.etag
        else:
            request.headers.pop("Range", None)
            request.headers.pop("If-Range", None)

    def begin(self, response: httpx.Response) -> bool:
        """Check a successful answer; False when it is a 206 for another range (close it and ask again).

        Raises:
            ResultsDownloadError: the file is not the one read before (its size or its `ETag` changed), or a 206
                answered a request that asked no range.

        """
        etag = response.headers.get("etag")
        if etag is not None and self.etag is not None and etag != self.etag:
            raise self.failure(f"the file changed: ETag {etag!r} now, {self.etag!r} before")
        if etag is not None:
            self.etag = etag
        encoded = response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
        length = None if encoded else _content_length(response)
        if encoded:
            self.ranged = False  # offsets count decoded bytes: a range of encoded ones would not match them
        if response.status_code == 206:
            asked = "range" in response.request.headers
            found = parse_content_range(response.headers.get("content-range"))
            if (
                found is None
                or found.first != self.offset
                or (self.total is not None and found.total is not None and found.total != self.total)
                or (length is not None and length != found.last - found.first + 1)
            ):
                if not asked:
                    raise self.failure(f"a 206 ({response.headers.get('content-range')!r}) answered no range")
                self.ranged = False
                return False
            if found.total is not None:
                self.total = found.total
            self._position, self._skip, self._earlier = self.offset, 0, False
            return True
        if self.total is not None and length is not None and length != self.total:
            raise self.failure(f"the file changed: {length} bytes now, {self.total} before")
        if length is not None:
            self.total = length
        if self._earlier:  # bytes of an earlier run are trusted only as far as a 206 confirms their place
            self.offset = self.furthest = self._mark = 0
            self._earlier = False
        self._position, self._skip = 0, self.offset
        return True

    def after_refusal(self, exc: APIError) -> bool:
        """Whether a failed attempt is to be made again (without `Range`), after a 416 for the range asked.

        Returns False for every other failure: the caller raises (`failure` wraps it once a break happened).
        A 416 for an offset at the file's known end means there is nothing left: the caller stops (see `done`).
        """
        if not (isinstance(exc, APIStatusError) and exc.status_code == 416 and self.offset and self.ranged):
            return False
        self.ranged = False
        if self._earlier:
            self.offset = self.furthest = self._mark = 0
            self._earlier = False
        return True

    @property
    def done(self) -> bool:
        """True when every byte of a file of known size was kept."""
        return self.total is not None and self.offset >= self.total

    def take(self, chunk: bytes) -> bytes:
        """The part of a chunk of the body not read before (a 200 after a break repeats the start)."""
        self._position += len(chunk)
        self.furthest = max(self.furthest, self._position)
        if self._skip:
            if len(chunk) <= self._skip:
                self._skip -= len(chunk)
                return b""
            chunk, self._skip = chunk[self._skip :], 0
        if self.splitter is None:
            self.offset += len(chunk)
            self._counted += chunk.count(b"\n")
        return chunk

    def lines_of(self, chunk: bytes) -> list[bytes]:
        """The lines `chunk` (from `take`) completes; the download resumes after the last of them."""
        assert self.splitter is not None  # noqa: S101 - only for a read made with a splitter
        lines = self.splitter.feed(chunk)
        self.offset = self.splitter.line_end
        return lines

    def end_lines(self) -> list[bytes]:
        """The file's last line when it does not end with a newline (call once the download is complete)."""
        assert self.splitter is not None  # noqa: S101 - only for a read made with a splitter
        lines = self.splitter.end()
        self.offset = self.splitter.line_end
        return lines

    def check_complete(self) -> None:
        """Call when a body ends.

        Raises:
            httpx.RemoteProtocolError: the body ended before the file's end (a break, resumed like any other).
            ResultsDownloadError: a whole-file answer ended before the bytes already read (the file changed).

        """
        if self._skip:
            raise self.failure(f"the file changed: it ends at byte {self._position}, {self.offset} were read before")
        if self.total is not None and self._position < self.total:
            raise httpx.RemoteProtocolError(f"the body ended at byte {self._position} of {self.total}")

    def after_break(self, exc: httpx.TransportError, retry: RetryState) -> float:
        """The wait before resuming after `exc` broke an attempt; progress since the last break resets the budget.

        Raises:
            ResultsDownloadError: the retry budget is spent (or `exc` is not worth retrying).

        """
        self.breaks += 1
        if self.splitter is not None:
            self.splitter.rewind()  # the partial line is asked for again
        if self.furthest > self._mark:
            retry.retries_taken = 0
        self._mark = self.furthest
        try:
            return retry.after_exception(exc)
        except APIError as spent:
            raise self.failure(f"{type(exc).__name__}: {exc}", spent) from exc

    def failure(self, reason: str, cause: APIError | None = None) -> ResultsDownloadError:
        """The error that ends the download, saying how far it got; `cause` is the last failure, if any."""
        total = "?" if self.total is None else str(self.total)
        breaks = f" after {self.breaks} break{'s' * (self.breaks != 1)}" if self.breaks else ""
        return ResultsDownloadError(
            f"download of {self.file_id} failed{breaks}: {reason}; read {self.records} records, "
            f"{self.offset} of {total} bytes",
            request=cause.request if cause is not None else None,
            records=self.records,
            bytes_read=self.offset,
        )


class DownloadedResults(NamedTuple):
    """What `download_results` wrote: the paths of the batch's output and error files (None: it has none)."""

    output: Path | None
    error: Path | None


class Destination(NamedTuple):
    """Where `download_results` writes: into a directory, or the output file at a path (see `check_destination`)."""

    path: Path
    is_directory: bool


def check_destination(destination: str | os.PathLike[str]) -> Destination:
    """Check where results files are to be written, before anything is sent.

    A directory (it exists, or the text ends with a separator): the files go in it. Otherwise the output file's path,
    whose directory must exist.

    Raises:
        ValueError: `destination` is empty, or the directory does not exist.

    """
    text = os.fspath(destination)
    if not isinstance(text, str) or not text:
        raise ValueError(f"destination must be a directory or a file path, got {destination!r}")
    path = Path(text)
    if path.is_dir() or text.endswith(("/", os.sep)):
        if not path.is_dir():
            raise ValueError(f"{path} is not a directory")
        return Destination(path, is_directory=True)
    if not path.parent.is_dir():
        raise ValueError(f"{path.parent} is not a directory")
    return Destination(path, is_directory=False)


def download_targets(batch: Batch, destination: Destination, *, errors: bool) -> list[tuple[ResultFile, str, Path]]:
    """Which files of `batch` to write where: `(kind, file_id, path)` for `output` and (with `errors`) `error`.

    In a directory the files are `<batch id>_output.jsonl` and `<batch id>_error.jsonl`; at a path, the output file
    is that path and the error file goes next to it as `<stem>_error<suffix>`.
    """
    path = destination.path
    if destination.is_directory:
        safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in batch.id)
        paths = {"output": path / f"{safe}_output.jsonl", "error": path / f"{safe}_error.jsonl"}
    else:
        paths = {"output": path, "error": path.with_name(f"{path.stem}_error{path.suffix}")}
    wanted: list[tuple[ResultFile, str | None]] = [("output", batch.output_file_id)]
    if errors:
        wanted.append(("error", batch.error_file_id))
    return [(kind, file_id, paths[kind]) for kind, file_id in wanted if file_id]


def part_path(target: Path) -> Path:
    """Where a file is written until it is complete: `<name>.part` next to it."""
    return target.with_name(target.name + ".part")
