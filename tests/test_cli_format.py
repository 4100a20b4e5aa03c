"""The CLI's human output: relative times, counts, the batch table and the progress lines, on a fixed now."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from batches_ext import Batch
from batches_ext._cli_demo import summarize_result
from batches_ext._cli_format import batch_table, clean, counts_text, iso_utc, relative_time, status_line
from batches_ext._cli_progress import Progress, elapsed_text, live_line
from batches_ext._results import parse_result_line
from tests.payloads import ALL_FIELDS, CANCELLING, SEED_COMPLETED, batch

NOW = datetime(2024, 3, 26, 16, 48, 33, tzinfo=UTC)  # 3 minutes after SEED_COMPLETED's created_at


@pytest.mark.parametrize(
    ("offset_s", "text"),
    [
        (0, "now"),
        (0.4, "now"),
        (-0.999, "now"),
        (-1, "1 s ago"),
        (-59.9, "59 s ago"),
        (-60, "1 min ago"),
        (-180, "3 min ago"),
        (-3599, "59 min ago"),
        (-3600, "1 h ago"),
        (7200, "in 2 h"),
        (7199, "in 1 h"),  # rounds down: a deadline never looks further away than it is
        (86_399, "in 23 h"),
        (2 * 86_400 - 1, "in 47 h"),
        (2 * 86_400, "in 2 days"),
        (-30 * 86_400, "30 days ago"),
        (59, "in 59 s"),
    ],
)
def test_relative_time(offset_s: float, text: str) -> None:
    assert relative_time(NOW + timedelta(seconds=offset_s), NOW) == text


def test_one_day_is_singular_past_two_days_only_in_days() -> None:
    assert relative_time(NOW - timedelta(days=2, hours=5), NOW) == "2 days ago"


def test_iso_utc_converts_other_zones() -> None:
    from datetime import timezone

    moment = datetime(2024, 3, 26, 18, 45, 33, 999_000, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(moment) == "2024-03-26T16:45:33Z"


@pytest.mark.parametrize(
    ("counts", "text"),
    [
        ({"total": 100, "completed": 35, "failed": 2}, "37/100 done (35 ok, 2 failed), 37%"),
        ({"total": 3, "completed": 1, "failed": 1}, "2/3 done (1 ok, 1 failed), 66%"),
        ({"total": 1000, "completed": 999, "failed": 0}, "999/1000 done (999 ok, 0 failed), 99%"),
        ({"total": 0, "completed": 0, "failed": 0}, "no requests counted yet"),
        (None, "not reported"),
    ],
)
def test_counts_text(counts: dict[str, int] | None, text: str) -> None:
    assert counts_text(Batch.from_dict(batch(request_counts=counts)).request_counts) == text


def test_table_of_the_seed_batch() -> None:
    table = batch_table(Batch.from_dict(SEED_COMPLETED), NOW)
    assert table == (
        "id:             batch_abc123\n"
        "status:         completed\n"
        "endpoint:       /v1/completions\n"
        "model:          gpt-5-2025-08-07\n"
        "request_counts: 100/100 done (95 ok, 5 failed), 100%\n"
        "input_file_id:  file-abc123\n"
        "output_file_id: file-cvaTdG\n"
        "error_file_id:  file-HOWS94\n"
        "usage:          1500 in (1024 cached), 500 out (300 reasoning), 2000 tokens\n"
        "metadata:       customer_id=user_123456789, batch_description=Nightly eval job\n"
        "created_at:     2024-03-26T16:45:33Z (3 min ago)\n"
        "in_progress_at: 2024-03-26T16:45:38Z (2 min ago)\n"
        "expires_at:     2024-03-27T16:45:33Z (in 23 h)\n"
        "finalizing_at:  2024-03-26T22:45:33Z (in 5 h)\n"
        "completed_at:   2024-03-26T22:46:03Z (in 5 h)"
    )


def test_table_of_a_cancelling_batch_omits_what_is_unset() -> None:
    table = batch_table(Batch.from_dict(CANCELLING), NOW)
    assert "model:" not in table
    assert "usage:" not in table
    assert "output_file_id: none" in table
    assert "error_file_id:  none" in table
    assert "request_counts: 24/100 done (23 ok, 1 failed), 24%" in table
    stamps = [line.split(":", 1)[0] for line in table.splitlines() if line.split(":", 1)[0].endswith("_at")]
    assert stamps == ["created_at", "in_progress_at", "expires_at", "cancelling_at"]


def test_table_lists_validation_errors_up_to_a_limit() -> None:
    errors = [{"code": "invalid_json_line", "message": "bad", "param": None, "line": n} for n in range(1, 8)]
    table = batch_table(Batch.from_dict(batch(ALL_FIELDS, errors={"object": "list", "data": errors})), NOW)
    rows = [line for line in table.splitlines() if line.startswith("errors:")]
    assert rows[0] == "errors:         line 1: invalid_json_line: bad"
    assert rows[-1] == "errors:         ... and 2 more (see --json)"
    assert len(rows) == 6


def test_server_text_cannot_drive_the_terminal() -> None:
    evil = batch(CANCELLING, metadata={"note": "\x1b]0;pwned\x07 line\nbreak"}, status="in_\x1b[2Jprogress")
    table = batch_table(Batch.from_dict(evil), NOW)
    assert "\x1b" not in table
    assert "\x07" not in table
    assert "note=\\x1b]0;pwned\\x07 line\\nbreak" in table
    assert clean("plain é text") == "plain é text"


def test_status_line() -> None:
    assert status_line(Batch.from_dict(CANCELLING)) == "batch_abc123: cancelling, 24/100 done (23 ok, 1 failed), 24%"


# --- progress ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [(0, "0.0s"), (4.25, "4.2s"), (59.94, "59.9s"), (125, "2m05s")])
def test_elapsed_text(seconds: float, text: str) -> None:
    assert elapsed_text(seconds) == text


def test_live_line() -> None:
    assert live_line(Batch.from_dict(CANCELLING), 4.2) == (
        "cancelling [####----------------] 24/100 (23 ok, 1 failed) 24% 4.2s"
    )
    assert live_line(Batch.from_dict(batch(request_counts=None)), 1) == "cancelling 1.0s"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def counts(completed: int, status: str = "cancelling") -> Batch:
    return Batch.from_dict(
        batch(CANCELLING, status=status, request_counts={"total": 100, "completed": completed, "failed": 1})
    )


def test_progress_without_a_terminal_prints_a_line_per_update() -> None:
    stream, time = io.StringIO(), FakeTime()
    progress = Progress(stream, clock=time.clock, sleep=time.sleep)
    assert not progress.live  # a StringIO is not a terminal
    progress.update(counts(10))
    progress.sleep(1.5)
    progress.update(counts(12, "cancelled"))
    progress.finish()
    assert stream.getvalue() == (
        "[0.0s] batch_abc123: cancelling, 11/100 done (10 ok, 1 failed), 11%\n"
        "[1.5s] batch_abc123: cancelled, 13/100 done (12 ok, 1 failed), 13%\n"
    )
    assert time.now == 1.5


def test_live_progress_rewrites_one_line_and_ticks_while_sleeping() -> None:
    stream, time = io.StringIO(), FakeTime()
    progress = Progress(stream, live=True, clock=time.clock, sleep=time.sleep)
    progress.sleep(0.5)  # before the first update there is nothing to draw
    assert stream.getvalue() == ""
    progress.restart()
    progress.update(counts(10))
    progress.sleep(0.5)  # two ticks of 0.25 s
    progress.update(counts(12, "cancelled"))
    progress.finish()
    progress.finish()  # idempotent
    frames = stream.getvalue().split("\r")
    assert frames[0] == ""
    assert [frame.rstrip() for frame in frames[1:]] == [
        "cancelling [##------------------] 11/100 (10 ok, 1 failed) 11% 0.0s",  # elapsed counts from restart()
        "cancelling [##------------------] 11/100 (10 ok, 1 failed) 11% 0.2s",
        "cancelling [##------------------] 11/100 (10 ok, 1 failed) 11% 0.5s",
        "cancelled [##------------------] 13/100 (12 ok, 1 failed) 13% 0.5s",
    ]
    # a shorter line pads over the end of the longer one it replaces, then the line is ended
    assert frames[-1].endswith("0.5s \n")


def test_live_line_fits_the_terminal_width() -> None:
    class Narrow(io.StringIO):
        def fileno(self) -> int:
            raise OSError("no terminal")  # falls back to 80 columns

    stream = Narrow()
    progress = Progress(stream, live=True)
    progress.update(Batch.from_dict(batch(CANCELLING, status="x" * 200)))
    assert len(stream.getvalue()) == 1 + 79


def test_summarize_result() -> None:
    ok = (
        '{"id": "r1", "custom_id": "request-1", "error": null, "response": {"status_code": 200, '
        '"body": {"choices": [{"message": {"content": "Hello there"}}]}}}'
    )
    failed = '{"custom_id": "request-2", "response": null, "error": {"code": "x", "message": "' + "m" * 80 + '"}}'
    other = '{"custom_id": "request-3", "response": {"status_code": 200, "body": {"data": [1]}}}'
    assert summarize_result(parse_result_line(ok, 1, "f")) == "request-1    200  Hello there"
    assert summarize_result(parse_result_line(failed, 2, "f")) == "request-2    ---  " + "m" * 57 + "..."
    assert summarize_result(parse_result_line(other, 3, "f")) == 'request-3    200  {"data":[1]}'
