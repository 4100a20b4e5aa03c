"""`batches-ext list` and the bulk `cancel` (several ids, `-`, `--all`), in process against a fake on a real socket."""

from __future__ import annotations

import argparse
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batches_ext import Batch, BatchesClient, CancelOutcome, cli
from batches_ext._cli_cancel_many import read_ids
from batches_ext._cli_filters import metadata_pair, when
from batches_ext._cli_list import table_header, table_row
from batches_ext._cli_multi_progress import MultiProgress
from batches_ext.testing import FakeBatchAPI, FakeServer

SECRET = "sk-test-SECRET-123456"
SCRIPT = Path(sys.executable).with_name("batches-ext")  # the console script
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Terminal(io.StringIO):
    """stdin (or stderr) as a terminal: what the user types is given up front."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeBatchAPI(api_key=SECRET, cancel_delay=0.2)) as server:
        yield server


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, server: FakeServer) -> None:
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    return code, out, err


def seed(api: FakeBatchAPI) -> None:
    """Six batches an hour apart (b0 newest): running ones, finished ones, two metadata values."""
    now = int(time.time())
    statuses = ["in_progress", "completed", "validating", "in_progress", "failed", "finalizing"]
    for n, status in enumerate(statuses):
        api.add_batch(
            f"b{n}", status=status, created_at=now - 3600 * n - 60, total=10, completed=n,
            metadata={"run": "nightly" if n % 2 else "adhoc"},
        )  # fmt: skip


def posts(api: FakeBatchAPI) -> list[str]:
    return [request.path for request in api.requests if request.method == "POST"]


# --- value types ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("2h", NOW - timedelta(hours=2)),
        ("3d", NOW - timedelta(days=3)),
        ("1.5h", NOW - timedelta(minutes=90)),
        ("45s", NOW - timedelta(seconds=45)),
        ("2W", NOW - timedelta(weeks=2)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00+02:00", datetime(2024, 5, 1, 8, tzinfo=UTC)),
    ],
)
def test_when_reads_ages_and_iso_times(text: str, expected: datetime) -> None:
    assert when(text, now=NOW) == expected


def test_when_reads_a_naive_time_as_local() -> None:
    parsed = when("2024-05-01")
    assert parsed.utcoffset() is not None
    assert parsed.replace(tzinfo=None) == datetime(2024, 5, 1)


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-2h", "", "99999999999999d", "2024-13-01"])
def test_when_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        when(text, now=NOW)


def test_metadata_pairs() -> None:
    assert metadata_pair("run=nightly") == ("run", "nightly")
    assert metadata_pair("expr=a=b") == ("expr", "a=b")
    assert metadata_pair("empty=") == ("empty", "")
    for bad in ("run", "=x"):
        with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
            metadata_pair(bad)


def test_ids_from_stdin_skip_blank_lines() -> None:
    assert read_ids(io.StringIO("b1\n\n  b2  \r\n\t\nb3")) == ["b1", "b2", "b3"]
    with pytest.raises(ValueError, match="stdin line 2: batch_id must not contain whitespace"):
        read_ids(io.StringIO("b1\nb 2\n"))


# --- the table --------------------------------------------------------------------------------------------------------


def test_a_table_row_has_every_column_and_no_control_characters() -> None:
    batch = Batch(
        {"id": "batch_1", "status": "in_progress", "created_at": int(NOW.timestamp()) - 300,
         "endpoint": "/v1/embeddings", "model": "text-embedding-3-small",
         "request_counts": {"total": 200, "completed": 50, "failed": 10},
         "metadata": {"team": "a\x1b[31m", "note": "x" * 60}}
    )  # fmt: skip
    row = table_row(batch, NOW)
    assert row.startswith("batch_1 ")
    assert "in_progress 60/200 30%" in row
    assert "5 min ago" in row
    assert "/v1/embeddings" in row
    assert "text-embedding-3-small" in row
    assert "team=a\\x1b[31m, note=xxx" in row
    assert row.endswith("...")
    assert "\x1b" not in row
    assert table_header().split() == ["ID", "STATUS", "PROGRESS", "CREATED", "ENDPOINT", "MODEL", "METADATA"]


def test_a_bare_batch_reads_as_dashes() -> None:
    assert table_row(Batch({"id": "b", "status": "queued"}), NOW).split() == ["b", "queued", "-", "-", "-", "-"]


# --- list -------------------------------------------------------------------------------------------------------------


def test_list_prints_the_table_newest_first(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == table_header()
    assert [line.split()[0] for line in lines[1:]] == [f"b{n}" for n in range(6)]
    assert re.search(
        r"^b1 +completed +1/10 10% +1 h ago +/v1/chat/completions +gpt-4o-mini\S* +run=nightly$", out, re.M
    )


def test_list_filters_and_limits(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, _ = run(capsys, "list", "--status", "in_progress", "--status", "validating", "--created-after", "150m")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["b0", "b2"]
    _, out, _ = run(capsys, "list", "--metadata", "run=nightly", "--limit", "2")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["b1", "b3"]
    _, out, _ = run(capsys, "list", "--created-before", "4h")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["b4", "b5"]


def test_list_limit_asks_for_no_more_than_it_shows(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    run(capsys, "list", "--limit", "2")
    assert [r.path for r in server.api.requests] == ["/v1/batches?limit=2"]


def test_list_json_is_one_wire_object_per_line(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "list", "--json", "--status", "completed")
    assert (code, err) == (0, "")
    (line,) = out.splitlines()
    assert json.loads(line) == server.api.get_batch("b1")


def test_list_of_nothing_says_so(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    assert run(capsys, "list") == (0, table_header() + "\n", "no batches\n")
    seed(server.api)
    assert run(capsys, "list", "--status", "expired")[2] == "no batches match the filters\n"


@pytest.mark.parametrize(
    "argv",
    [["--limit", "0"], ["--created-after", "soon"], ["--metadata", "novalue"], ["--limit", "x"]],
)
def test_list_usage_errors(capsys: pytest.CaptureFixture[str], server: FakeServer, argv: list[str]) -> None:
    code, _, err = run(capsys, "list", *argv)
    assert code == 2
    assert "batches-ext list: error:" in err
    assert server.api.requests == []


def test_list_api_errors_exit_1(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    server.api.inject_errors(1, 401)
    code, _, err = run(capsys, "list")
    assert code == 1
    assert err.startswith("error: 401")


# --- cancel, several --------------------------------------------------------------------------------------------------


def test_cancel_several_ids(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "cancel", "b0", "b1", "b2", "b0")
    assert code == 0
    assert sorted(out.splitlines()) == ["b0: stopped (cancelling)", "b1: already finished (completed)",
                                        "b2: stopped (cancelling)"]  # fmt: skip
    assert err == "3 batches: 2 stopped, 1 already finished, 0 not found, 0 failed\n"


def test_a_batch_not_stopped_makes_exit_1_and_is_listed(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "cancel", "b0", "missing")
    assert code == 1
    assert "missing: not found: 404 Not Found: No batch found with id 'missing'." in out
    assert err.splitlines()[0] == "2 batches: 1 stopped, 0 already finished, 1 not found, 0 failed"
    assert err.splitlines()[1].startswith("  missing: not found: 404 Not Found")


def test_cancel_json_lines(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    _, out, _ = run(capsys, "cancel", "b0", "b4", "--json")
    assert sorted((json.loads(line) for line in out.splitlines()), key=lambda r: r["id"]) == [
        {"id": "b0", "outcome": "stopped", "status": "cancelling", "error": None},
        {"id": "b4", "outcome": "already_finished", "status": "failed", "error": None},
    ]


def test_cancel_ids_from_stdin(capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: Any) -> None:
    seed(server.api)
    monkeypatch.setattr("sys.stdin", io.StringIO("b0\n\nb2\n  b3 \n"))
    code, out, _ = run(capsys, "cancel", "-")
    assert code == 0
    assert sorted(posts(server.api)) == ["/v1/batches/b0/cancel", "/v1/batches/b2/cancel", "/v1/batches/b3/cancel"]
    assert len(out.splitlines()) == 3


def test_a_bad_id_on_stdin_sends_nothing(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: Any
) -> None:
    seed(server.api)
    monkeypatch.setattr("sys.stdin", io.StringIO("b0\nb 1\n"))
    code, _, err = run(capsys, "cancel", "-")
    assert code == 2
    assert "stdin line 2: batch_id must not contain whitespace" in err
    assert server.api.requests == []


def test_an_empty_stdin_cancels_nothing(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    assert run(capsys, "cancel", "-") == (0, "", "no batch ids on stdin: nothing to cancel\n")


# --- cancel --all -----------------------------------------------------------------------------------------------------


def test_all_without_a_terminal_or_yes_refuses(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "cancel", "--all")
    assert (code, out) == (2, "")
    assert "refusing to cancel 4 batches without --yes (no terminal to confirm on); nothing was sent" in err
    assert posts(server.api) == []


def test_all_dry_run_shows_the_running_ones(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "cancel", "--all", "--dry-run", "--metadata", "run=adhoc")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["ID", "b0", "b2"]  # b4 (adhoc) has failed already
    assert err == "dry run: would cancel 2 batches; nothing was sent\n"
    assert posts(server.api) == []


def test_all_with_yes_cancels_only_what_runs(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, _, err = run(capsys, "cancel", "--all", "--yes")
    assert code == 0
    assert sorted(posts(server.api)) == [f"/v1/batches/b{n}/cancel" for n in (0, 2, 3, 5)]
    assert err == "4 batches: 4 stopped, 0 already finished, 0 not found, 0 failed\n"


def test_all_asks_on_a_terminal(capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: Any) -> None:
    seed(server.api)
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, _, err = run(capsys, "cancel", "--all", "--created-after", "150m")
    assert code == 0
    assert "Cancel 2 batches? [y/N] " in err
    assert [line.split()[0] for line in err.splitlines()[:3]] == ["ID", "b0", "b2"]
    assert sorted(posts(server.api)) == ["/v1/batches/b0/cancel", "/v1/batches/b2/cancel"]


@pytest.mark.parametrize("answer", ["n\n", "\n", ""])
def test_all_declined_sends_nothing(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: Any, answer: str
) -> None:
    seed(server.api)
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, _, err = run(capsys, "cancel", "--all")
    assert code == 1
    assert err.endswith("nothing was cancelled\n")
    assert posts(server.api) == []


def test_all_shows_a_screenful_when_asking(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: Any
) -> None:
    for n in range(30):
        server.api.add_batch(f"r{n:02d}", created_at=1_700_000_000 + n)
    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    _, _, err = run(capsys, "cancel", "--all")
    assert "... and 10 more\n" in err
    assert "Cancel 30 batches?" in err


def test_all_with_nothing_running(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    server.api.add_batch("done", status="completed")
    assert run(capsys, "cancel", "--all", "--yes") == (0, "", "no running batches: nothing to cancel\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cancel"], "give one or more batch ids, - to read them from stdin, or --all"),
        (["cancel", "b0", "--all"], "give batch ids or --all, not both"),
        (
            ["cancel", "b0", "--status", "x"],
            "--status, --metadata, --created-after and --created-before select batches for --all",
        ),
        (["cancel", "b0", "b1", "--yes"], "--yes confirms --all"),
        (["cancel", "-", "-"], "- (stdin) can be given once"),
        (["cancel", "b0", "b1", "--timeout", "5"], "--timeout and --poll-interval need --wait"),
        (["cancel", "--all", "--dry-run", "--wait"], "--dry-run sends nothing: there is nothing to --wait for"),
    ],
)
def test_bulk_usage_errors_send_nothing(
    capsys: pytest.CaptureFixture[str], server: FakeServer, argv: list[str], message: str
) -> None:
    seed(server.api)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == f"batches-ext cancel: error: {message}\n"
    assert server.api.requests == []


def test_a_bad_id_among_several_is_a_usage_error(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    code, _, err = run(capsys, "cancel", "b0", "..")
    assert code == 2
    assert "batch_id must not be '..'" in err
    assert server.api.requests == []


def test_dry_run_with_ids_lists_them(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    assert run(capsys, "cancel", "b0", "b1", "--dry-run") == (
        0, "b0\nb1\n", "dry run: would cancel 2 batches; nothing was sent\n"
    )  # fmt: skip
    assert server.api.requests == []


def test_one_batch_is_counted_in_the_singular(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "cancel", "--all", "--dry-run", "--metadata", "run=adhoc", "--status", "in_progress")
    assert (code, [line.split()[0] for line in out.splitlines()]) == (0, ["ID", "b0"])
    assert err == "dry run: would cancel 1 batch; nothing was sent\n"


def test_one_id_keeps_the_one_batch_command(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, _ = run(capsys, "cancel", "b0")
    assert code == 0
    assert "status:         cancelling\n" in out  # the batch table, as before


# --- cancel --wait, several -------------------------------------------------------------------------------------------


def test_wait_without_a_terminal_prints_plain_lines(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    seed(server.api)
    code, out, err = run(capsys, "cancel", "b0", "b2", "b1", "--wait", "--poll-interval", "0.05", "--timeout", "30")
    assert code == 0
    assert sorted(out.splitlines()) == ["b0: stopped (cancelled)", "b1: already finished (completed)",
                                        "b2: stopped (cancelled)"]  # fmt: skip
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert any(re.fullmatch(r"\[\d+\.\ds\] b0: cancelling, 0/10 done .*", line) for line in progress)
    assert any(re.fullmatch(r"\[\d+\.\ds\] b2: cancelled, 2/10 done .*", line) for line in progress)
    assert err.splitlines()[-1] == "3 batches: 2 stopped, 1 already finished, 0 not found, 0 failed"


def test_wait_past_the_timeout_is_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer(FakeBatchAPI(api_key=SECRET, cancel_delay=3600)) as slow:
        slow.api.add_batch("s1")
        slow.api.add_batch("s2")
        code, out, err = run(
            capsys, "cancel", "s1", "s2", "--wait", "--timeout", "0.3", "--poll-interval", "0.05",
            "--base-url", slow.base_url,
        )  # fmt: skip
    assert code == 1
    assert "s1: failed (cancelling): batch s1 did not reach a terminal status in time" in out
    assert "0 stopped, 0 already finished, 0 not found, 2 failed" in err


def test_interrupting_a_bulk_cancel_says_what_is_known(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(server.api)
    real = BatchesClient.cancel_many

    def interrupted(self: BatchesClient, ids: Any, **kwargs: Any) -> Any:
        on_outcome = kwargs["on_outcome"]

        def stop_after_first(outcome: CancelOutcome) -> None:
            on_outcome(outcome)
            raise KeyboardInterrupt

        return real(self, ids, **(kwargs | {"on_outcome": stop_after_first, "concurrency": 1}))

    monkeypatch.setattr(BatchesClient, "cancel_many", interrupted)
    code, out, err = run(capsys, "cancel", "b0", "b2", "b3")
    assert code == 130
    assert out == "b0: stopped (cancelling)\n"
    assert err.startswith("interrupted: 1 of 3 batches have an outcome (above); the others may or may not have been")
    assert len(posts(server.api)) <= 2  # the one reported, and at most one more in flight


# --- the multi-batch display ------------------------------------------------------------------------------------------


def progress_batch(batch_id: str, status: str, completed: int = 3) -> Batch:
    return Batch(
        {"id": batch_id, "status": status, "request_counts": {"total": 10, "completed": completed, "failed": 0}}
    )


def test_live_lines_redraw_the_block_in_place() -> None:
    stream = Terminal()
    clock = iter(range(100)).__next__
    display = MultiProgress(stream, ["b1", "b22"], clock=lambda: float(clock()), size=(80, 24))
    assert display.live
    assert not display.compact
    display.update(progress_batch("b1", "cancelling"))
    first = stream.getvalue()
    assert first == ("b1  cancelling [######--------------] 3/10 (3 ok, 0 failed) 30% 1.0s\x1b[K\nb22 stopping\x1b[K\n")
    display.outcome(CancelOutcome("b22", "not_found"))
    second = stream.getvalue()[len(first) :]
    assert second.startswith("\x1b[2F")  # back to the top of the two-line block
    assert second.endswith("b22 not found\x1b[K\n")
    display.outcome(CancelOutcome("b1", "stopped", progress_batch("b1", "cancelled", 10)))
    assert "b1  cancelled [####################] 10/10" in stream.getvalue()


def test_a_block_taller_than_the_screen_is_one_total_line() -> None:
    stream = Terminal()
    ids = [f"b{n}" for n in range(30)]
    display = MultiProgress(stream, ids, clock=lambda: 5.0, size=(100, 24))
    assert display.compact
    display.outcome(CancelOutcome("b0", "stopped", progress_batch("b0", "cancelled")))
    display.outcome(CancelOutcome("b1", "failed"))
    assert display.lines() == ["30 batches: 28 stopping, 1 done, 1 failed 0.0s"]


def test_lines_fit_the_terminal_width() -> None:
    display = MultiProgress(Terminal(), ["b" * 50], size=(40, 24))
    display.update(progress_batch("b" * 50, "cancelling"))
    assert all(len(line) == 39 for line in display.lines())


def test_sleep_redraws_only_in_the_thread_that_made_the_display() -> None:
    stream = Terminal()
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    display = MultiProgress(stream, ["b1"], clock=lambda: now[0], sleep=sleep, size=(80, 24))
    display.update(progress_batch("b1", "cancelling"))
    drawn = stream.getvalue()
    worker = threading.Thread(target=display.sleep, args=(1.0,))
    worker.start()
    worker.join()
    assert stream.getvalue() == drawn  # a worker's pause draws nothing
    display.sleep(0.5)
    assert slept == [1.0, 0.25, 0.25]
    assert stream.getvalue().count("\x1b[1F") == 2


def test_plain_progress_writes_a_line_per_change() -> None:
    stream = io.StringIO()
    display = MultiProgress(stream, ["b1", "b2"], clock=lambda: 2.0)
    assert not display.live
    display.update(progress_batch("b1", "cancelling"))
    display.outcome(CancelOutcome("b2", "not_found"))
    display.sleep(0)
    display.finish()
    assert stream.getvalue() == "[0.0s] b1: cancelling, 3/10 done (3 ok, 0 failed), 30%\n"


@pytest.mark.slow
def test_all_wait_on_a_terminal_asks_then_draws_a_line_per_batch(server: FakeServer) -> None:
    server.api.add_batch("t1", total=10, completed=1)
    server.api.add_batch("t2", total=10, completed=2)
    server.api.add_batch("t3", status="completed")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    env |= {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.base_url}
    process = subprocess.Popen(
        [str(SCRIPT), "cancel", "--all", "--wait", "--poll-interval", "0.05"],
        stdin=follower, stdout=subprocess.PIPE, stderr=follower, env=env,
    )  # fmt: skip
    os.close(follower)
    try:
        os.write(leader, b"y\n")
        terminal = read_all(leader).decode()
        out, _ = process.communicate(timeout=20)
    finally:
        os.close(leader)
    assert process.returncode == 0, terminal
    assert SECRET not in terminal + out.decode()
    assert "Cancel 2 batches? [y/N] " in terminal
    assert "\x1b[2F" in terminal  # the two-line block was redrawn in place
    final = terminal.rsplit("\x1b[2F", 1)[-1]
    assert re.search(r"t2 +cancelled \[####-+\] 2/10 .*\x1b\[K\r\n", final)
    assert re.search(r"t1 +cancelled \[##-+\] 1/10 .*\x1b\[K\r\n", final)
    assert sorted(out.decode().splitlines()) == ["t1: stopped (cancelled)", "t2: stopped (cancelled)"]
    assert terminal.rstrip().endswith("2 batches: 2 stopped, 0 already finished, 0 not found, 0 failed")


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
