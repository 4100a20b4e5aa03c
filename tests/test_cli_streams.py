"""The CLI's own streams: a full disk or a closed stdout/stderr ends with a status, never a traceback, and text a
server controls reaches stderr with its terminal control sequences escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from batches_ext import cli
from batches_ext.testing import FakeBatchAPI, FakeServer
from tests import local_server
from tests.payloads import CANCELLING

SECRET = "sk-test-streams-0123456789"
SCRIPT = Path(sys.executable).with_name("batches-ext")
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\r"  # retitle the terminal, clear the screen, red, carriage return
FULL = "/dev/full"
needs_dev_full = pytest.mark.skipif(not os.path.exists(FULL), reason="no /dev/full on this system (not Linux)")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    api = FakeBatchAPI(api_key=SECRET)
    api.add_batch("batch_running", status="in_progress", total=10, completed=3)
    with FakeServer(api) as server:
        yield server


def run_shell(redirect: str, *argv: str, base_url: str) -> tuple[int, str, str]:
    """Run the console script with a shell redirection (`> /dev/full`, `>&-`); return status, stdout, stderr."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    env |= {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": base_url}
    command = f'exec "$0" "$@" {redirect}'
    done = subprocess.run(
        ["/bin/sh", "-c", command, str(SCRIPT), *argv], check=False, capture_output=True, text=True, env=env, timeout=30
    )
    for text in (done.stdout, done.stderr):
        assert "Traceback" not in text
        assert "Exception ignored" not in text
        assert SECRET not in text
    return done.returncode, done.stdout, done.stderr


@needs_dev_full
@pytest.mark.parametrize(
    "argv", [["retrieve", "batch_running"], ["list", "--json"], ["--help"], ["--version"], ["cancel", "--help"]]
)
def test_output_to_a_full_disk_is_an_error_line_not_a_traceback(argv: list[str], fake: FakeServer) -> None:
    code, _, err = run_shell(f"> {FULL}", *argv, base_url=fake.base_url)
    assert code == cli.EXIT_API_ERROR
    assert err == "error: No space left on device\n"


@needs_dev_full
@pytest.mark.parametrize("redirect", [f"2> {FULL}", "2>&- > /dev/null"])
def test_a_usage_error_that_cannot_be_told_keeps_status_2(redirect: str, fake: FakeServer) -> None:
    code, _, _ = run_shell(redirect, "--no-such-option", base_url=fake.base_url)
    assert code == cli.EXIT_USAGE


@needs_dev_full
def test_errors_to_a_full_disk_keep_the_status(fake: FakeServer) -> None:
    code, out, _ = run_shell(f"2> {FULL}", "retrieve", "batch_missing", base_url=fake.base_url)
    assert (code, out) == (cli.EXIT_API_ERROR, "")


def test_a_closed_stdout_is_a_usage_error_before_anything_is_sent(fake: FakeServer) -> None:
    before = len(fake.api.requests)
    code, _, err = run_shell(">&-", "cancel", "batch_running", base_url=fake.base_url)
    assert code == cli.EXIT_USAGE
    assert err == "batches-ext: error: stdout is closed; redirect it to /dev/null to discard the output\n"
    assert len(fake.api.requests) == before  # the cancel was not sent
    assert fake.api.get_batch("batch_running")["status"] == "in_progress"


@pytest.mark.parametrize("redirect", ["2>&-", ">&- 2>&-"])
def test_a_closed_stderr_keeps_the_status(redirect: str, fake: FakeServer) -> None:
    code, _, _ = run_shell(redirect, "retrieve", "batch_missing", base_url=fake.base_url)
    assert code == (cli.EXIT_API_ERROR if redirect == "2>&-" else cli.EXIT_USAGE)


def test_a_closed_stdin_reads_as_empty(fake: FakeServer) -> None:
    code, out, err = run_shell("<&-", "cancel", "-", base_url=fake.base_url)
    assert (code, out, err) == (cli.EXIT_OK, "", "no batch ids on stdin: nothing to cancel\n")


def test_a_read_only_stdout_is_an_error_line(fake: FakeServer) -> None:
    code, _, err = run_shell("1< /dev/null", "retrieve", "batch_running", base_url=fake.base_url)
    assert code == cli.EXIT_API_ERROR
    assert err == "error: Bad file descriptor\n"


def test_a_remainder_file_that_cannot_be_written_is_an_error_line(fake: FakeServer, tmp_path: Path) -> None:
    fake.api.add_batch("batch_stopped", status="cancelled", total=4, completed=2)
    target = tmp_path / "missing-dir" / "rest.jsonl"
    code, _, err = run_shell("", "remainder", "batch_stopped", "-o", str(target), base_url=fake.base_url)
    assert code == cli.EXIT_API_ERROR
    assert err.startswith("error: No such file or directory")


# --- server text on stderr ----------------------------------------------------------------------------------------


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A server whose error messages and batch statuses carry terminal control sequences."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    status = f"paused{ESCAPES}"

    def reply(method: str, path: str, headers: dict[str, str]) -> local_server.Reply:
        del method, headers
        if "missing" in path:
            return local_server.json_reply(404, {"error": {"message": f"no such batch{ESCAPES}", "code": ESCAPES}})
        return local_server.json_reply(200, dict(CANCELLING, status=status, output_file_id=None))

    with local_server.serve(reply) as url:
        yield url


def _assert_no_control(text: str) -> None:
    lines = text.split("\n")
    assert all(line.isprintable() for line in lines), text


def test_an_error_message_cannot_control_the_terminal(hostile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["retrieve", "batch_missing", "--base-url", hostile]) == cli.EXIT_API_ERROR
    _, err = capsys.readouterr()
    _assert_no_control(err)
    assert "no such batch\\x1b]0;owned\\x07" in err


def test_an_unknown_status_in_a_timeout_cannot_control_the_terminal(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["wait", "batch_abc123", "--timeout", "0.2", "--poll-interval", "0.1", "--base-url", hostile]
    assert cli.main(argv) == cli.EXIT_TIMEOUT
    out, err = capsys.readouterr()
    _assert_no_control(err)
    _assert_no_control(out)
    assert "paused\\x1b]0;owned" in err


def test_a_note_naming_a_status_cannot_control_the_terminal(hostile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["results", "batch_abc123", "--base-url", hostile]) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert out == ""
    _assert_no_control(err)
    assert "has no output file" in err


def test_json_output_keeps_server_text_exact(hostile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["retrieve", "batch_abc123", "--json", "--base-url", hostile]) == cli.EXIT_OK
    out, _ = capsys.readouterr()
    assert json.loads(out)["status"] == f"paused{ESCAPES}"  # JSON escapes it; a program gets the exact text


# --- file ids a server sends ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["results", "download", "remainder"])
def test_an_unusable_file_id_from_the_server_is_an_api_error_not_a_traceback(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    sent: list[str] = []

    def reply(method: str, path: str, headers: dict[str, str]) -> local_server.Reply:
        del headers
        sent.append(f"{method} {path}")
        bad = f"file{ESCAPES}"
        return local_server.json_reply(
            200, dict(CANCELLING, status="cancelled", output_file_id=bad, error_file_id=bad, input_file_id=bad)
        )

    with local_server.serve(reply) as url:
        extra = ["-o", str(tmp_path)] if command == "download" else []
        code = cli.main([command, "batch_abc123", *extra, "--base-url", url])
    _, err = capsys.readouterr()
    assert code == cli.EXIT_API_ERROR
    assert "the batch names a file that cannot be requested: file_id must not contain non-printable" in err
    _assert_no_control(err)
    assert all("/files" not in request for request in sent)  # nothing was asked of the bad id
