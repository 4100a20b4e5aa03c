"""The live progress line, as a terminal sees it: the console script's stderr is a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from batches_ext._cli_download import size_text
from batches_ext.testing import FakeBatchAPI, FakeServer

SECRET = "sk-test-SECRET-123456"
SCRIPT = Path(sys.executable).with_name("batches-ext")
COLUMNS = 100


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeBatchAPI(api_key=SECRET, cancel_delay=0.8)) as server:
        yield server


def read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every writer of the terminal has closed it
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def on_terminal(*argv: str) -> tuple[int, str, bytes]:
    """The console script run with stderr on a terminal COLUMNS wide: its exit code, what the terminal got, stdout."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = SECRET
    process = subprocess.Popen([str(SCRIPT), *argv], stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)  # only the child holds the terminal now, so reading ends when it exits
    try:
        terminal = read_all(leader).decode()
        out, _ = process.communicate(timeout=20)
    finally:
        os.close(leader)
    return process.returncode, terminal, out


@pytest.mark.slow
def test_cancel_wait_rewrites_one_line_on_a_terminal(server: FakeServer) -> None:
    server.api.add_batch("batch_tty", status="in_progress", total=100, completed=35, failed=2)
    code, terminal, out = on_terminal(
        "cancel", "batch_tty", "--wait", "--poll-interval", "0.2", "--base-url", server.base_url
    )
    assert code == 0
    assert SECRET not in terminal + out.decode()
    assert b"status:         cancelled\n" in out  # the table goes to stdout, not to the terminal's progress

    assert terminal.startswith("\r")
    assert terminal.endswith("\r\n")  # the line is ended once the wait is over (the tty turns \n into \r\n)
    frames = [frame.rstrip(" \n") for frame in terminal.split("\r") if frame.strip()]
    pattern = r"(cancelling|cancelled) \[#######-------------\] 37/100 \(35 ok, 2 failed\) 37% (\d+\.\d)s"
    parsed = [re.fullmatch(pattern, frame) for frame in frames]
    assert all(parsed), frames
    statuses = [match.group(1) for match in parsed if match]
    assert statuses[0] == "cancelling"
    assert statuses[-1] == "cancelled"
    assert statuses.count("cancelled") == 1
    assert len(frames) >= 3  # the line was rewritten while the batch was cancelling
    elapsed = [float(match.group(2)) for match in parsed if match]
    assert elapsed == sorted(elapsed)
    assert all(len(frame) < COLUMNS for frame in frames)


@pytest.mark.slow
def test_download_shows_a_bar_per_file_on_a_terminal(server: FakeServer, tmp_path: Path) -> None:
    data = server.api.add_batch("batch_tty_dl", status="cancelled", total=300, completed=250, failed=10)
    code, terminal, out = on_terminal("download", "batch_tty_dl", "-o", str(tmp_path), "--base-url", server.base_url)
    assert code == 0
    assert out.decode().splitlines() == [
        str(tmp_path / "batch_tty_dl_output.jsonl"),
        str(tmp_path / "batch_tty_dl_error.jsonl"),
    ]
    sizes = [len(server.api.get_file(data[f"{kind}_file_id"])) for kind in ("output", "error")]
    lines = [line.split("\r")[-1].rstrip() for line in terminal.split("\r\n") if line.strip()]
    assert len(lines) == 2  # one finished bar per file, each rewritten in place
    for line, kind, size in zip(lines, ("output", "error"), sizes, strict=True):
        assert re.fullmatch(rf"{kind} \[#{{20}}\] (\S+ \S?B)/\1 \S+ \S?B/s done", line), line
        assert f"] {size_text(size)}/{size_text(size)} " in line
