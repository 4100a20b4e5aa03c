"""`batches-ext remainder` and `batches-ext resubmit`, in process against a fake on a real socket (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from batches_ext import BatchesClient, cli
from batches_ext.testing import FakeBatchAPI, FakeClock, FakeServer
from tests.conftest import cli_environment

SECRET = "sk-test-SECRET-resubmit"
ENDPOINT = "/v1/chat/completions"


def request_line(custom_id: str) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "é"}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body},
                      ensure_ascii=False).encode()  # fmt: skip


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeServer]:
    # The fake clock moves only when a test (or a client's sleep) moves it.
    with FakeServer(FakeBatchAPI(api_key=SECRET, clock=clock, cancel_delay=1, request_rate=4)) as running:
        yield running


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_environment(monkeypatch, SECRET)


def cancelled_batch(server: FakeServer, clock: FakeClock, tmp_path: Path, count: int) -> str:
    """A batch of `count` requests cancelled after 2 finished (4 per second, for half a second)."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(request_line(f"r{i}") + b"\n" for i in range(count)))
    with BatchesClient(SECRET, base_url=server.base_url, sleep=clock.advance, clock=clock) as client:
        batch = client.create_batch(client.upload_file(path).id, endpoint=ENDPOINT, metadata={"run": "cli"})
        clock.advance(1.0)
        return client.cancel_and_wait(batch.id, timeout=60).id


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    return code, out, err


def test_remainder_prints_the_lines_and_counts(
    capsys: pytest.CaptureFixture[str], server: FakeServer, clock: FakeClock, tmp_path: Path
) -> None:
    batch_id = cancelled_batch(server, clock, tmp_path, 5)
    code, out, err = run(capsys, "remainder", batch_id, "--base-url", server.base_url)
    assert code == 0
    assert out.encode() == b"".join(request_line(f"r{i}") + b"\n" for i in range(2, 5))
    assert err == "2 finished, 3 to resubmit, 0 failed for good\n"


def test_remainder_to_a_file(
    capsys: pytest.CaptureFixture[str], server: FakeServer, clock: FakeClock, tmp_path: Path
) -> None:
    batch_id = cancelled_batch(server, clock, tmp_path, 4)
    target = tmp_path / "rest.jsonl"
    code, out, err = run(capsys, "remainder", batch_id, "-o", str(target), "--base-url", server.base_url)
    assert (code, out) == (0, "")
    assert target.read_bytes() == request_line("r2") + b"\n" + request_line("r3") + b"\n"
    assert err == f"2 finished, 2 to resubmit, 0 failed for good (written to {target})\n"


def test_remainder_conflicts_exit_1_naming_them(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    server.api.add_file("file-dup", b"\n".join(request_line(i) for i in ("request-3", "request-3")))
    server.api.add_batch("batch_dup", status="cancelled", total=3, completed=1, input_file_id="file-dup")
    code, _, err = run(capsys, "remainder", "batch_dup", "--base-url", server.base_url)
    assert code == 1
    assert "repeated in the input ('request-3')" in err
    assert "not in the input ('request-1')" in err
    code, _, err = run(capsys, "resubmit", "batch_dup", "--base-url", server.base_url)
    assert code == 1
    assert "ambiguous" in err
    assert not [r for r in server.api.requests if r.method == "POST"]


def test_remainder_of_a_running_batch_is_a_usage_error(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    server.api.add_batch("batch_running", status="in_progress")
    for command in ("remainder", "resubmit"):
        code, out, err = run(capsys, command, "batch_running", "--base-url", server.base_url)
        assert (code, out) == (2, "")
        assert "in_progress" in err


def test_resubmit_and_wait(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Real time here (the CLI sleeps for real): a batch cancelled while validating, resubmitted whole, run at
    # 1,000 requests a second.
    api = FakeBatchAPI(api_key=SECRET, cancel_delay=0.1, request_rate=1000)
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(request_line(f"r{i}") + b"\n" for i in range(4)))
    with FakeServer(api) as server:
        with BatchesClient(SECRET, base_url=server.base_url) as client:
            batch = client.create_batch(client.upload_file(path).id, endpoint=ENDPOINT, metadata={"run": "cli"})
            batch_id = client.cancel_and_wait(batch.id, timeout=10, poll_interval=0.05).id
        argv = ["--wait", "--json", "--poll-interval", "0.1", "--timeout", "10", "--base-url", server.base_url]
        code, out, err = run(capsys, "resubmit", batch_id, *argv)
        assert code == 0, err
        new = json.loads(out)
        assert f"resubmitted the rest of {batch_id} as {new['id']}" in err
        assert new["status"] == "completed"
        assert new["request_counts"]["total"] == 4
        assert new["metadata"] == {"run": "cli", "resubmitted_from": batch_id}
        code, out, err = run(capsys, "resubmit", new["id"], "--base-url", server.base_url)
        assert (code, out) == (0, "")
        assert "nothing to resubmit" in err


def test_resubmit_timeout_needs_wait(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "resubmit", "batch_1", "--timeout", "5")
    assert code == 2
    assert "need --wait" in err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "remainder" in out
    assert "resubmit" in out
