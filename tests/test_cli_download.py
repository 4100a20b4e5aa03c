"""`batches-ext download` and `results --all`: results files to disk with progress, both files in one stream."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from batches_ext import cli
from batches_ext._cli_download import DownloadProgress, size_text
from batches_ext.testing import FakeBatchAPI, FakeServer
from tests.conftest import cli_environment

SECRET = "sk-test-download-0123456789"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    cli_environment(monkeypatch, SECRET)
    with FakeServer(FakeBatchAPI(api_key=SECRET)) as running:
        yield running


def test_download_writes_both_files_and_prints_their_paths(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    data = server.api.add_batch("batch_dl", status="cancelled", total=20, completed=12, failed=3)
    server.api.cut_downloads(2000)
    code = cli.main(["download", "batch_dl", "-o", str(tmp_path), "--base-url", server.base_url])
    out, err = capsys.readouterr()
    assert code == 0
    output, errors = tmp_path / "batch_dl_output.jsonl", tmp_path / "batch_dl_error.jsonl"
    assert out == f"{output}\n{errors}\n"
    assert output.read_bytes() == server.api.get_file(data["output_file_id"])
    assert errors.read_bytes() == server.api.get_file(data["error_file_id"])
    lines = err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["output", "error"]  # plain: one line per file, no bar
    assert lines[0].startswith(f"output: {size_text(output.stat().st_size)} in ")
    assert SECRET not in out + err


def test_download_of_a_batch_without_results(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    server.api.add_batch("batch_running", status="in_progress")
    code = cli.main(["download", "batch_running", "--base-url", server.base_url])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "")
    assert err == "note: batch batch_running has no results file yet; nothing written\n"


def test_download_into_a_missing_directory_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    server.api.add_batch("batch_dl", status="completed", total=2, completed=2)
    code = cli.main(["download", "batch_dl", "-o", str(tmp_path / "nope") + "/", "--base-url", server.base_url])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == f"error: {tmp_path / 'nope'} is not a directory\n"


def test_the_live_bar_shows_bytes_rate_and_eta() -> None:
    now = [100.0]
    stream = io.StringIO()
    progress = DownloadProgress(stream, live=True, clock=lambda: now[0])
    progress.update("output", 0, 90_000_000)
    now[0] += 2
    progress.update("output", 30_000_000, 90_000_000)
    assert progress.line(now[0]) == "output [######--------------] 30.0 MB/90.0 MB 15.0 MB/s ETA 4.0s"
    now[0] += 4
    progress.update("output", 90_000_000, 90_000_000)
    progress.update("error", 812, None)
    progress.finish()
    text = stream.getvalue()
    assert "\routput [####################] 90.0 MB/90.0 MB 15.0 MB/s done" in text
    assert text.endswith("\n")
    assert text.count("\n") == 2  # one finished line per file


@pytest.mark.parametrize(
    ("size", "text"), [(812, "812 B"), (45_300, "45.3 kB"), (120_400_000, "120.4 MB"), (1_070_000_000, "1.07 GB")]
)
def test_size_text(size: int, text: str) -> None:
    assert size_text(size) == text


def test_results_all_prints_both_files_as_stored(
    capsysbinary: pytest.CaptureFixture[bytes], server: FakeServer
) -> None:
    data = server.api.add_batch("batch_all", status="cancelled", total=10, completed=6, failed=2)
    code = cli.main(["results", "batch_all", "--all", "--base-url", server.base_url])
    out, err = capsysbinary.readouterr()
    assert (code, err) == (0, b"")
    assert out == server.api.get_file(data["output_file_id"]) + server.api.get_file(data["error_file_id"])


def test_results_all_and_errors_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["results", "batch_all", "--all", "--errors"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
