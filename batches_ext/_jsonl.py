"""JSONL as it arrives: bytes split into lines at LF only, each line decoded strictly as UTF-8.

JSON allows U+2028, U+2029 and U+0085 raw inside strings, so a splitter that splits like `str.splitlines()`
(httpx's `iter_lines()`) cuts records in two. A JSONL file is UTF-8 whatever a server's `charset` says; invalid
bytes are an error naming the line, never a silent U+FFFD.
"""

from __future__ import annotations

from typing import Final

from batches_ext.errors import ResultsFormatError

__all__ = ["BOM", "DEFAULT_MAX_LINE_BYTES", "LineSplitter", "check_max_line_bytes", "decode_line", "decode_line_error"]

DEFAULT_MAX_LINE_BYTES: Final = 64 * 1024 * 1024  # a record this long is a broken file, not a big answer
BOM: Final = b"\xef\xbb\xbf"


def check_max_line_bytes(value: object) -> int:
    """Validate a caller's line-length bound.

    Raises:
        ValueError: not a positive int.

    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"max_line_bytes must be a positive int, got {value!r}")
    return value


def decode_line(line: bytes, file_id: str, line_number: int) -> str:
    """`line` as text, strictly UTF-8.

    Raises:
        ResultsFormatError: the line holds bytes that are not UTF-8 (the error names the line and the byte).

    """
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise decode_line_error(line, file_id, line_number) from None


def decode_line_error(line: bytes, file_id: str, line_number: int) -> ResultsFormatError:
    """The error for a line that is not UTF-8, naming the line and the first bad byte."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = f"byte {exc.start + 1} of the line: {line[exc.start : exc.start + 1]!r}"
    else:
        bad = "no bad byte found"
    return ResultsFormatError(f"not valid UTF-8 ({bad})", file_id=file_id, line_number=line_number)


class LineSplitter:
    """Bytes in, whole lines out: split at LF only, a CR before it dropped, a leading UTF-8 BOM dropped.

    Every other byte is kept, so a line is exactly what the file stored. A line longer than a chunk is gathered in
    pieces and joined once (linear in its length); a line longer than `max_line_bytes` raises instead of growing.
    `line_end` is the offset in the file just past the last newline fed, and `lines` how many lines ended before
    it: where a resumed download starts (`LineSplitter(file_id, offset=line_end, lines=lines)`).

    Raises (from `feed` and `end`):
        ResultsFormatError: a line is longer than `max_line_bytes`.

    """

    __slots__ = ("_at_start", "_pending", "_pieces", "file_id", "line_end", "lines", "max_line_bytes")

    def __init__(
        self, file_id: str, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, offset: int = 0, lines: int = 0
    ) -> None:
        self.file_id = file_id
        self.max_line_bytes = max_line_bytes
        self.line_end = offset
        self.lines = lines
        self._at_start = offset == 0  # a BOM can only open the file
        self._pieces: list[bytes] = []
        self._pending = 0  # bytes in _pieces

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines `chunk` completes."""
        newline = chunk.find(b"\n")
        if newline < 0:
            if chunk:
                self._pending += len(chunk)
                self._check(self._pending)
                self._pieces.append(chunk)
            return []
        self._check(self._pending + newline)
        if self._pieces:
            self._pieces.append(chunk)
            chunk = b"".join(self._pieces)
        lines = chunk.split(b"\n")
        tail = lines.pop()
        self._pieces = [tail] if tail else []
        self._pending = len(tail)
        if len(chunk) > self.max_line_bytes:  # rare: only a bound below the chunk size can be passed within one
            for index, line in enumerate(lines):
                self._check(len(line), index)
            self._check(len(tail), len(lines))
        self.line_end += len(chunk) - len(tail)  # chunk (joined) starts at the old line_end
        return self._finish(lines, carriage=b"\r" in chunk)

    def end(self) -> list[bytes]:
        """The last line, when the data did not end with a newline."""
        tail, self._pieces, self._pending = b"".join(self._pieces), [], 0
        if not tail:
            return []
        self.line_end += len(tail)
        return self._finish([tail], carriage=tail.endswith(b"\r"))

    def rewind(self) -> None:
        """Forget the partial line: the bytes after `line_end` will be fed again (a resumed download)."""
        self._pieces, self._pending = [], 0

    def _finish(self, lines: list[bytes], *, carriage: bool) -> list[bytes]:
        if self._at_start and lines:
            self._at_start = False
            if lines[0].startswith(BOM):
                lines[0] = lines[0][len(BOM) :]
        if carriage:
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        self.lines += len(lines)
        return lines

    def _check(self, length: int, index: int = 0) -> None:
        """Raise when the line `index` lines after the next one to end is too long."""
        if length > self.max_line_bytes:
            raise ResultsFormatError(
                f"line longer than {self.max_line_bytes} bytes (max_line_bytes): not a JSONL record",
                file_id=self.file_id,
                line_number=self.lines + index + 1,
            )
