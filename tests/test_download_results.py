"""download_results: results files written to disk whole or not at all, resumed across breaks and across runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from batches_ext import errors
from batches_ext._download import DownloadedResults
from batches_ext.testing import FakeBatchAPI
from tests.conftest import PeakMemory, call_on_fake, fake_client


def seeded(api: FakeBatchAPI) -> tuple[str, bytes, bytes]:
    data = api.add_batch("batch_dl", status="cancelled", total=60, completed=50, failed=5)
    return data["id"], api.get_file(data["output_file_id"]), api.get_file(data["error_file_id"])


def download(kind: str, api: FakeBatchAPI, *args: Any, max_retries: int = 2, **options: Any) -> Any:
    return call_on_fake(kind, api, "download_results", *args, max_retries=max_retries, **options)


def ranges(api: FakeBatchAPI) -> list[str | None]:
    return [h.get("range") for r, h in zip(api.requests, api.request_headers, strict=True) if "/content" in r.path]


def test_both_files_into_a_directory(kind: str, tmp_path: Path) -> None:
    api = FakeBatchAPI()
    batch_id, output, failed = seeded(api)
    progress: list[tuple[str, int, int | None]] = []
    written = download(kind, api, batch_id, tmp_path, on_progress=lambda *report: progress.append(report))
    assert written == DownloadedResults(tmp_path / f"{batch_id}_output.jsonl", tmp_path / f"{batch_id}_error.jsonl")
    assert written.output.read_bytes() == output
    assert written.error.read_bytes() == failed
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"{batch_id}_error.jsonl", f"{batch_id}_output.jsonl"]
    assert progress[-1] == ("error", len(failed), len(failed))
    assert ("output", len(output), len(output)) in progress


def test_a_file_path_and_no_error_file(kind: str, tmp_path: Path) -> None:
    api = FakeBatchAPI()
    batch_id, output, _ = seeded(api)
    assert download(kind, api, batch_id, tmp_path / "out.jsonl", errors=False) == (tmp_path / "out.jsonl", None)
    assert [path.name for path in tmp_path.iterdir()] == ["out.jsonl"]
    written = download(kind, api, batch_id, tmp_path / "out.jsonl")
    assert written.error == tmp_path / "out_error.jsonl"
    assert written.output.read_bytes() == output


def test_breaks_are_resumed_with_range(kind: str, tmp_path: Path) -> None:
    api = FakeBatchAPI()
    batch_id, output, _ = seeded(api)
    api.cut_downloads(5000, 7)
    written = download(kind, api, batch_id, tmp_path, errors=False)
    assert written.output.read_bytes() == output
    assert ranges(api) == [None, "bytes=5000-", "bytes=5007-"]


def test_a_part_left_by_an_earlier_run_is_continued(kind: str, tmp_path: Path) -> None:
    api = FakeBatchAPI()
    batch_id, output, _ = seeded(api)
    api.cut_downloads(12_000)
    with pytest.raises(errors.ResultsDownloadError, match="failed after 1 break"):
        download(kind, api, batch_id, tmp_path, errors=False, max_retries=0)
    part = tmp_path / f"{batch_id}_output.jsonl.part"
    assert part.read_bytes() == output[:12_000]
    assert not (tmp_path / f"{batch_id}_output.jsonl").exists()
    written = download(kind, api, batch_id, tmp_path, errors=False)
    assert written.output.read_bytes() == output
    assert not part.exists()
    assert ranges(api) == [None, "bytes=12000-"]


@pytest.mark.parametrize(
    ("left", "asked"),
    [(b"garbage!" * 100, ["bytes=800-"]), (b"x" * 1_000_000, ["bytes=1000000-", None])],
    ids=["Range ignored", "a part longer than the file (416)"],
)
def test_a_part_is_written_again_when_range_is_not_honoured(
    kind: str, tmp_path: Path, left: bytes, asked: list[str | None]
) -> None:
    api = FakeBatchAPI(ranges=len(left) > 1000)  # ignores Range; or honours it, but the part is past the end (416)
    batch_id, output, _ = seeded(api)
    (tmp_path / f"{batch_id}_output.jsonl.part").write_bytes(left)
    written = download(kind, api, batch_id, tmp_path, errors=False)
    assert written.output.read_bytes() == output
    assert ranges(api) == asked


def test_a_bad_destination_sends_nothing(kind: str, tmp_path: Path) -> None:
    api = FakeBatchAPI()
    seeded(api)
    with pytest.raises(ValueError, match="is not a directory"):
        download(kind, api, "batch_dl", tmp_path / "missing" / "out.jsonl")
    with pytest.raises(ValueError, match="is not a directory"):
        download(kind, api, "batch_dl", str(tmp_path / "missing") + "/")
    with pytest.raises(ValueError, match="must be a directory or a file path"):
        download(kind, api, "batch_dl", "")
    assert api.requests == []  # not even the retrieve


def test_writing_to_disk_holds_little_memory(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    source = tmp_path / "big.jsonl"
    with source.open("wb") as out:
        for _ in range(40):
            out.write(b'{"custom_id": "x"}\n' * 50_000)
    api.add_file("file-big", source)
    api.add_batch("batch_big", status="completed", total=1, completed=1, output_file_id="file-big")
    api.cut_downloads(10_000_000, 10_000_000)
    (tmp_path / "out").mkdir()
    with fake_client(api) as client, PeakMemory() as memory:
        written = client.download_results("batch_big", tmp_path / "out")
    assert written.output is not None
    assert written.output.stat().st_size == source.stat().st_size
    assert written.output.read_bytes() == source.read_bytes()
    assert memory.peak < 3_000_000, (
        f"peak {memory.peak / 1e6:.1f} MB writing a {source.stat().st_size / 1e6:.0f} MB file"
    )
