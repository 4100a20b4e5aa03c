"""Small promises: `cancel --wait` says when nothing was cancelled, `serve-fake --api-key ""` prints the key it
accepts, and a `FakeClock` moves only by finite, non-negative amounts."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import batches_ext.testing
from batches_ext import BatchesClient, cli
from batches_ext.testing import DEFAULT_API_KEY, FakeBatchAPI, FakeClock, FakeServer
from tests.conftest import cli_environment

SECRET = "sk-test-honest-0123456789"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    with FakeServer(FakeBatchAPI(api_key=SECRET, cancel_delay=0.1)) as server:
        yield server


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_environment(monkeypatch, SECRET)


@pytest.mark.parametrize("status", ["completed", "failed", "expired"])
def test_cancel_wait_on_a_finished_batch_says_nothing_was_cancelled(
    status: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_id = f"batch_finished_{status}"
    fake.api.add_batch(batch_id, status=status, total=4, completed=4)
    code = cli.main(["cancel", batch_id, "--wait", "--base-url", fake.base_url])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_OK  # the batch is stopped; bulk cancel counts "already finished" as ok too
    assert f"note: nothing was cancelled: {batch_id} finished as {status} before a cancel could stop it\n" in err
    assert f"status:         {status}\n" in out


def test_cancel_wait_that_cancels_has_no_such_note(fake: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake.api.add_batch("batch_running_honest", status="in_progress", total=4, completed=1)
    code = cli.main(
        ["cancel", "batch_running_honest", "--wait", "--poll-interval", "0.05", "--base-url", fake.base_url]
    )
    out, err = capsys.readouterr()
    assert code == cli.EXIT_OK
    assert "nothing was cancelled" not in err
    assert "status:         cancelled\n" in out


@pytest.mark.parametrize(
    ("argv", "key_shown"), [([], True), (["--api-key", ""], True), (["--api-key", "k" * 12], False)]
)
def test_serve_fake_banner_names_the_key_it_accepts(
    argv: list[str], key_shown: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def serve_once(api: FakeBatchAPI, *, ready: Callable[[FakeServer], None], **options: Any) -> None:
        del options
        api.add_batch("batch_try", status="in_progress")
        with FakeServer(api) as server:
            ready(server)
            url = server.base_url
            key = capsys.readouterr().out.split("OPENAI_API_KEY=")[1].split("\n")[0]
            if key_shown:
                assert key == DEFAULT_API_KEY
                with BatchesClient(api_key=key, base_url=url) as client:  # the printed key works
                    assert client.retrieve("batch_try").status == "in_progress"
            else:
                assert key == "<the key you passed with --api-key>"

    monkeypatch.setattr(batches_ext.testing, "serve", serve_once)
    assert cli.main(["serve-fake", *argv]) == cli.EXIT_OK


@pytest.mark.parametrize("seconds", [math.nan, math.inf, -math.inf, -1.0])
def test_a_fake_clock_refuses_to_move_by_nan_infinity_or_a_negative_amount(seconds: float) -> None:
    clock = FakeClock()
    before = clock.now
    with pytest.raises(ValueError, match=r"finite|negative"):
        clock.advance(seconds)
    assert clock.now == before


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_fake_clock_cannot_be_set_or_started_at_nan_or_infinity(value: float) -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="finite"):
        clock.now = value
    with pytest.raises(ValueError, match="finite"):
        FakeClock(value)
    assert math.isfinite(clock.now)


def test_a_fake_clock_still_moves_by_zero_and_fractions() -> None:
    clock = FakeClock(100)
    clock.advance(0)
    clock.advance(0.25)
    assert clock() == 100.25
