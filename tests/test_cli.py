"""The `batches-ext` command: in-process through `main()` (fast, covered), and through the real console script.

Every run goes to a fake on a real loopback socket (`batches_ext.testing.FakeServer`) with a distinctive key, and
every subprocess run checks that the key appears nowhere in its output.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from batches_ext import cli
from batches_ext.testing import FakeBatchAPI, FakeServer
from tests import local_server
from tests.conftest import cli_environment

SECRET = "sk-test-SECRET-123456"
OPTION_KEY = "sk-option-KEY-987654"  # a key given as --api-key rather than in the environment
SCRIPT = Path(sys.executable).with_name("batches-ext")  # the console script pip generated from pyproject.toml
COMMANDS = ["cancel", "list", "retrieve", "wait", "results", "remainder", "resubmit", "serve-fake", "demo"]
_ids = itertools.count()


def new_id(prefix: str = "batch_cli") -> str:
    return f"{prefix}_{next(_ids)}"


@pytest.fixture(scope="module")
def stuck() -> Iterator[FakeServer]:
    """A fake where a cancel never finishes (for timeouts and Ctrl-C)."""
    with FakeServer(FakeBatchAPI(api_key=SECRET, cancel_delay=3600)) as server:
        yield server


@pytest.fixture(scope="module")
def quick() -> Iterator[FakeServer]:
    """A fake where a cancel takes a fraction of a second."""
    with FakeServer(FakeBatchAPI(api_key=SECRET, cancel_delay=0.3)) as server:
        yield server


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_environment(monkeypatch, SECRET)


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    return code, out, err


# --- in process --------------------------------------------------------------------------------------------------


def test_retrieve_prints_the_table(capsys: pytest.CaptureFixture[str], quick: FakeServer) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="in_progress", total=100, completed=35, failed=2, metadata={"k": "v"})
    code, out, err = run_main(capsys, "retrieve", batch_id, "--base-url", quick.base_url)
    assert (code, err) == (0, "")
    assert f"id:             {batch_id}\n" in out
    assert "request_counts: 37/100 done (35 ok, 2 failed), 37%\n" in out
    assert "metadata:       k=v\n" in out
    assert re.search(r"^created_at: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+ min ago\)$", out, re.M)


def test_json_before_or_after_the_command(capsys: pytest.CaptureFixture[str], quick: FakeServer) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="in_progress")
    for argv in (["--json", "retrieve", batch_id], ["retrieve", batch_id, "--json"]):
        code, out, _ = run_main(capsys, *argv, "--base-url", quick.base_url)
        assert code == 0
        assert json.loads(out) == quick.api.get_batch(batch_id)


def test_cancel_without_waiting(capsys: pytest.CaptureFixture[str], stuck: FakeServer) -> None:
    batch_id = new_id()
    stuck.api.add_batch(batch_id, status="in_progress")
    code, out, err = run_main(capsys, "cancel", batch_id, "--base-url", stuck.base_url)
    assert (code, err) == (0, "")
    assert "status:         cancelling\n" in out


def test_cancel_and_wait_prints_a_line_per_change(capsys: pytest.CaptureFixture[str], quick: FakeServer) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="in_progress", total=10, completed=4, failed=1)
    code, out, err = run_main(
        capsys, "cancel", batch_id, "--wait", "--poll-interval", "0.05", "--base-url", quick.base_url
    )
    assert code == 0
    assert "status:         cancelled\n" in out
    lines = err.splitlines()  # capsys is not a terminal: one plain line per change, no \r
    assert "\r" not in err
    assert re.fullmatch(rf"\[\d+\.\ds\] {batch_id}: cancelling, 5/10 done \(4 ok, 1 failed\), 50%", lines[0])
    assert re.fullmatch(rf"\[\d+\.\ds\] {batch_id}: cancelled, 5/10 done \(4 ok, 1 failed\), 50%", lines[-1])
    assert len(lines) == 2  # the polls in between changed nothing


def test_wait_for_a_batch_that_is_done(capsys: pytest.CaptureFixture[str], quick: FakeServer) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="completed")
    code, out, _ = run_main(capsys, "wait", batch_id, "--json", "--base-url", quick.base_url)
    assert code == 0
    assert json.loads(out)["status"] == "completed"


def test_cancel_wait_on_a_finished_batch_returns_it(capsys: pytest.CaptureFixture[str], quick: FakeServer) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="completed")
    code, out, _ = run_main(capsys, "cancel", batch_id, "--wait", "--base-url", quick.base_url)
    assert code == 0
    assert "status:         completed\n" in out


def test_cancelling_a_finished_batch_says_nothing_was_cancelled(
    capsys: pytest.CaptureFixture[str], quick: FakeServer
) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="completed")
    code, out, err = run_main(capsys, "cancel", batch_id, "--base-url", quick.base_url)
    assert code == 0  # as for several ids: finished is not a failure to stop it
    assert "status:         completed\n" in out
    assert err == f"note: nothing was cancelled: {batch_id} had already finished as completed\n"


def test_cancelling_a_batch_someone_else_is_cancelling_shows_it(
    capsys: pytest.CaptureFixture[str], stuck: FakeServer, quick: FakeServer
) -> None:
    batch_id = new_id()
    stuck.api.add_batch(batch_id, status="cancelling")
    stuck.api.inject_errors(1, 400)  # a server that refuses to cancel twice (shared/ANCHORS.md)
    code, out, err = run_main(capsys, "cancel", batch_id, "--base-url", stuck.base_url)
    assert (code, err) == (0, "")
    assert "status:         cancelling\n" in out
    quick.api.add_batch(batch_id, status="cancelled")
    code, out, err = run_main(capsys, "cancel", batch_id, "--base-url", quick.base_url)
    assert (code, err) == (0, f"note: {batch_id} was already cancelled\n")
    assert "status:         cancelled\n" in out


def test_a_refused_cancel_of_a_running_batch_is_an_api_error(
    capsys: pytest.CaptureFixture[str], quick: FakeServer
) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="in_progress")
    quick.api.inject_errors(1, 400)
    code, out, err = run_main(capsys, "cancel", batch_id, "--base-url", quick.base_url)
    assert (code, out) == (1, "")
    assert err.startswith("error: 400 ")


def test_timeout_and_poll_interval_need_wait(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "cancel", "batch_1", "--timeout", "5")
    assert code == 2
    assert "need --wait" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["retrieve", "batch 1"], "batch_id must not contain whitespace"),
        (["retrieve", ".."], "relative path segment"),
        (["wait", "b1", "--timeout", "0"], "must be a positive number of seconds"),
        (["wait", "b1", "--timeout", "soon"], "not a number of seconds"),
        (["serve-fake", "--port", "70000"], "must be 0-65535"),
        (["serve-fake", "--port", "x"], "not a port number"),
        (["retrieve", "b1", "--base-url", "ftp://example.com"], "base_url must be an http(s) URL"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run_main(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


def test_missing_key_exits_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    code, _, err = run_main(capsys, "retrieve", "batch_1")
    assert (code, err) == (2, "error: no API key: set OPENAI_API_KEY or pass --api-key\n")


def test_results_in_process(capsys: pytest.CaptureFixture[str], quick: FakeServer) -> None:
    batch_id = new_id()
    data = quick.api.add_batch(batch_id, status="cancelled", total=10, completed=3, failed=2)
    code, out, _ = run_main(capsys, "results", batch_id, "--errors", "--base-url", quick.base_url)
    assert code == 0
    assert out == quick.api.get_file(data["error_file_id"]).decode()


def printed_results(
    capsysbinary: pytest.CaptureFixture[bytes], quick: FakeServer, file_id: str, content: bytes
) -> bytes:
    """What `results` prints for a completed batch whose output file is `content`; it must exit 0, quiet on stderr."""
    quick.api.add_file(file_id, content)
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="completed", total=2, completed=2, output_file_id=file_id)
    code = cli.main(["results", batch_id, "--base-url", quick.base_url])
    out, err = capsysbinary.readouterr()
    assert (code, err) == (0, b"")
    return out


def test_results_prints_each_stored_line_byte_for_byte(
    capsysbinary: pytest.CaptureFixture[bytes], quick: FakeServer
) -> None:
    """No re-serialisation: non-ASCII stays unescaped, 1.10 keeps its zero, 1e400 is not turned into Infinity."""
    lines = [
        '{"custom_id":"r1","response":{"status_code":200,"body":{"text":"café \u2028 naïve","p":1.10}},"error":null}',
        '{"id": "b2",  "custom_id": "r2", "response": {"status_code": 200, "body": {"big": 1e400, "n": -0.0}}}',
    ]
    out = printed_results(capsysbinary, quick, "file-exact", ("\r\n".join(lines) + "\n").encode())
    assert out == "".join(line + "\n" for line in lines).encode()


def test_results_never_prints_nan_or_infinity_which_are_not_json(
    capsysbinary: pytest.CaptureFixture[bytes], quick: FakeServer
) -> None:
    lines = [
        '{"custom_id":"r1","response":{"status_code":200,"body":{"score":NaN,"hi":Infinity,"lo":-Infinity}}}',
        '{"custom_id":"r2","response":{"status_code":200,"body":{"text":"NaN and Infinity, in words","p":1.10}}}',
    ]
    out = printed_results(capsysbinary, quick, "file-nan", ("\n".join(lines) + "\n").encode())
    first, second = out.decode().splitlines()
    assert json.loads(first, parse_constant=pytest.fail)["response"]["body"] == {"score": None, "hi": None, "lo": None}
    assert second == lines[1]  # a line that is JSON keeps its bytes, whatever words it holds


def test_results_without_a_file(capsys: pytest.CaptureFixture[str], quick: FakeServer) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="in_progress")
    code, out, err = run_main(capsys, "results", batch_id, "--base-url", quick.base_url)
    assert (code, out) == (0, "")
    assert err == f"note: batch {batch_id} (in_progress) has no output file yet; nothing to print\n"


def test_ctrl_c_in_process_reports_the_last_status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stuck: FakeServer
) -> None:
    from batches_ext._cli_progress import Progress

    def interrupted(self: Progress, seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "sleep", interrupted)  # Ctrl-C lands while the client sleeps between polls
    batch_id = new_id()
    stuck.api.add_batch(batch_id, status="in_progress", total=10, completed=2)
    code, _, err = run_main(capsys, "cancel", batch_id, "--wait", "--base-url", stuck.base_url)
    assert code == 130
    assert (
        err.splitlines()[-1]
        == f"interrupted; last known status: {batch_id}: cancelling, 2/10 done (2 ok, 0 failed), 20%"
    )


def test_timeout_in_process_prints_the_last_state_as_json(
    capsys: pytest.CaptureFixture[str], stuck: FakeServer
) -> None:
    batch_id = new_id()
    stuck.api.add_batch(batch_id, status="cancelling")
    code, out, err = run_main(capsys, "wait", batch_id, "--timeout", "0.1", "--json", "--base-url", stuck.base_url)
    assert code == 3
    assert json.loads(out) == stuck.api.get_batch(batch_id)
    assert err.splitlines()[-1].startswith(f"last known status: {batch_id}: cancelling, ")


def test_a_closed_stdout_ends_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, quick: FakeServer
) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    batch_id = new_id()
    quick.api.add_batch(batch_id, status="cancelled", completed=5)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())  # no file descriptor: nothing to point at /dev/null
    assert cli.main(["results", batch_id, "--base-url", quick.base_url]) == 0
    assert capsys.readouterr().err == ""


def test_serve_fake_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run_main(capsys, "serve-fake", "--port", str(port))
    assert (code, out) == (1, "")
    assert err.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")


def test_demo_in_process(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from batches_ext import _cli_demo

    monkeypatch.setattr(_cli_demo, "CANCEL_DELAY_S", 0.2)
    monkeypatch.setattr(_cli_demo, "POLL_INTERVAL_S", 0.05)
    monkeypatch.delenv("OPENAI_API_KEY")  # the demo needs none
    code, out, err = run_main(capsys, "demo")
    assert code == 0
    assert re.search(r"^batch_\w+ +in_progress +35/100 35% +.+? +/v1/chat/completions +gpt-4o-mini ", out, re.M)
    assert "request_counts: 35/100 done (33 ok, 2 failed), 35%\n" in out
    assert "status:         cancelled\n" in out
    assert "Kept 35 of 100 results before the cancel: 33 ok in file-" in out
    assert "2 failed; 65 never ran (batch_cancelled)" in out
    assert "  request-1    200  This is the fake answer to request-1.\n" in out
    assert "  request-17   400  Invalid 'messages" in out
    assert "Resubmitted the 65 requests that never ran as batch_" in out
    assert "status:         completed\n" in out
    assert "All done: 98 of 100 requests answered across both batches, 2 failed for good.\n" in out
    assert "cancelled, 35/100 done" in err
    assert "completed, 65/65 done" in err.splitlines()[-1]


def test_help_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert cli.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"batches-ext (\d+\.\d+\.\d+|unknown)$", out.strip())


# --- through the console script ----------------------------------------------------------------------------------


def child_env(key: str | None = SECRET) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return env


def start(argv: Sequence[str], *, key: str | None = SECRET, **options: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(SCRIPT), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(key),
        **options,
    )


def finish(process: subprocess.Popen[str], timeout: float = 20) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    assert SECRET not in out + err
    assert OPTION_KEY not in out + err
    assert "Traceback" not in err
    return process.returncode, out, err


def run_all(*argvs: Sequence[str], key: str | None = SECRET) -> list[tuple[int, str, str]]:
    """Run the script once per argv, concurrently (each run is mostly interpreter start-up)."""
    processes = [start(argv, key=key) for argv in argvs]
    return [finish(process) for process in processes]


def test_the_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), "run `pip install -e .` (scripts/test does) to generate the console script"


def test_help_of_every_command() -> None:
    results = run_all(["--help"], *([command, "--help"] for command in COMMANDS))
    for command, (code, out, err) in zip(["", *COMMANDS], results, strict=True):
        assert (code, err) == (0, "")
        assert out.startswith(f"usage: batches-ext {command}".rstrip())
        assert "example:\n  batches-ext " in out
        assert "$OPENAI_API_KEY" in out or command in ("serve-fake", "demo")
    assert "exit status: 0 ok, 1 API error, 2 usage error, 3 wait timed out, 130 interrupted" in results[0][1]


def test_exit_statuses_through_the_script(stuck: FakeServer, quick: FakeServer) -> None:
    running, done = new_id(), new_id()
    quick.api.add_batch(running, status="in_progress", total=100, completed=35, failed=2)
    quick.api.add_batch(done, status="cancelled", total=20, completed=5, failed=1)
    stuck_id = new_id()
    stuck.api.add_batch(stuck_id, status="cancelling", total=10, completed=3)  # and it stays so

    def reply(method: str, path: str, headers: dict[str, str]) -> local_server.Reply:
        echoed = headers["authorization"].removeprefix("Bearer ")  # a server that echoes the whole key
        return local_server.json_reply(
            401, {"error": {"message": f"Incorrect API key provided: {echoed}."}}, **{"x-request-id": "req_401"}
        )

    with local_server.serve(reply) as echo_url:
        (ok_json, not_found, unauthorized, bad_id, timed_out, results, errors_file) = run_all(
            ["retrieve", running, "--json", "--base-url", quick.base_url],
            ["retrieve", "batch_missing", "--base-url", quick.base_url],
            ["cancel", running, "--base-url", echo_url],
            ["retrieve", "batch id"],
            ["wait", stuck_id, "--timeout", "0.3", "--base-url", stuck.base_url],
            ["results", done, "--base-url", quick.base_url],
            ["results", done, "--errors", "--base-url", quick.base_url],
        )
        no_key, option_key = run_all(
            ["retrieve", running, "--base-url", quick.base_url],
            ["retrieve", running, "--api-key", OPTION_KEY, "--base-url", echo_url],
            key=None,
        )

    code, out, err = ok_json
    assert (code, err) == (0, "")
    assert json.loads(out) == quick.api.get_batch(running)  # the wire JSON, field for field

    code, out, err = not_found
    assert (code, out) == (1, "")
    assert re.fullmatch(
        r"error: 404 Not Found: No batch found with id 'batch_missing'\. \(request_id: req_[0-9a-f]{32}\)\n", err
    )

    code, out, err = unauthorized
    assert (code, out) == (1, "")
    assert err == "error: 401 Unauthorized: Incorrect API key provided: [redacted]. (request_id: req_401)\n"

    code, out, err = option_key
    assert (code, out) == (1, "")
    assert err == "error: 401 Unauthorized: Incorrect API key provided: [redacted]. (request_id: req_401)\n"

    code, out, err = bad_id
    assert (code, out) == (2, "")
    assert "error: argument BATCH_ID: batch_id must not contain whitespace" in err

    code, out, err = no_key
    assert (code, out, err) == (2, "", "error: no API key: set OPENAI_API_KEY or pass --api-key\n")

    code, out, err = timed_out
    assert code == 3
    assert f"error: batch {stuck_id} did not reach a terminal status in time (still cancelling" in err
    assert err.splitlines()[-1] == f"last known status: {stuck_id}: cancelling, 3/10 done (3 ok, 0 failed), 30%"
    assert "status:         cancelling\n" in out  # the last state, on stdout

    data = quick.api.get_batch(done)
    for (code, out, err), file_id in ((results, data["output_file_id"]), (errors_file, data["error_file_id"])):
        assert (code, err) == (0, "")
        assert out == quick.api.get_file(file_id).decode()  # one record per line, as stored
    assert len(results[1].splitlines()) == 5
    assert len(errors_file[1].splitlines()) == 1


def test_results_into_a_closed_pipe_is_quiet(quick: FakeServer) -> None:
    batch_id = new_id()
    quick.api.add_batch(batch_id, status="cancelled", total=400, completed=400)  # ~400 KB: beyond a pipe buffer
    process = start(["results", batch_id, "--base-url", quick.base_url])
    assert process.stdout is not None
    first = process.stdout.readline()
    process.stdout.close()  # like `| head -n 1`
    assert json.loads(first)["custom_id"] == "request-1"
    _, err = process.communicate(timeout=20)
    assert (process.returncode, err) == (0, "")


def test_ctrl_c_while_waiting_exits_130_with_the_last_status(stuck: FakeServer) -> None:
    batch_id = new_id()
    stuck.api.add_batch(batch_id, status="in_progress", total=100, completed=35, failed=2)
    process = start(["cancel", batch_id, "--wait", "--base-url", stuck.base_url])
    assert process.stderr is not None
    first = process.stderr.readline()  # not a terminal: one line per change; the first comes with the first poll
    assert f"{batch_id}: cancelling, 37/100 done" in first
    process.send_signal(signal.SIGINT)
    code, out, err = finish(process)
    assert (code, out) == (130, "")
    assert err.splitlines()[-1] == (
        f"interrupted; last known status: {batch_id}: cancelling, 37/100 done (35 ok, 2 failed), 37%"
    )


def test_serve_fake_prints_a_url_and_key_that_work() -> None:
    process = start(["serve-fake"])
    assert process.stdout is not None
    banner = [process.stdout.readline()]
    while banner[-1] not in ("Press Ctrl-C to stop.\n", ""):
        banner.append(process.stdout.readline())
    assert banner[0].startswith("Fake OpenAI Batch API listening on http://127.0.0.1:")
    url = banner[1].strip().removeprefix("export OPENAI_BASE_URL=")
    key = banner[2].strip().removeprefix("export OPENAI_API_KEY=")
    assert key == "sk-fake-key"  # the fake's documented key is printed: it is not a secret
    from batches_ext import BatchesClient

    with BatchesClient(api_key=key, base_url=url) as client:
        assert client.retrieve("batch_demo_running").status == "in_progress"
    process.send_signal(signal.SIGINT)
    # communicate() reads the pipe itself, past readline()'s buffer: it sees only what came after the banner
    assert finish(process) == (0, "Stopped.\n", "")


@pytest.mark.slow
def test_the_demo_through_the_script() -> None:
    started = time.monotonic()
    ((code, out, err),) = run_all(["demo"], key=None)
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 10
    assert "status:         cancelled\n" in out
    assert "Kept 35 of 100 results before the cancel" in out
    assert "All done: 98 of 100 requests answered" in out
    assert "completed, 65/65 done" in err
