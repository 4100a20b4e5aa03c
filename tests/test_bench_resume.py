"""Smoke test of the resumed-download benchmark (`python -m devtools.bench.resume --quick`): it runs, every read sees
every record once through its cuts, and it reports its figures. No timing asserts (scripts/bench measures speed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.bench import resume
from tests.bench_quick import run_quick


@pytest.mark.slow
def test_quick_run_reports_every_read(tmp_path: Path) -> None:
    stdout, data = run_quick("resume", tmp_path, timeout=180)
    assert stdout.startswith("- Resumed results download (0.02 GB, ")
    assert set(data["raw"]) == set(resume.MEASURES)
    for kind, runs in data["raw"].items():
        assert [sample["records"] for sample in runs] == [data["records"]]
        assert [sample["downloads"] for sample in runs] == [1 if kind == "floor" else resume.CUTS + 1]


def test_the_file_is_what_the_benchmark_says(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    count = resume.write_file(path, 1_000_000)
    lines = path.read_bytes().splitlines()
    assert len(lines) == count
    assert len({json.loads(line)["custom_id"] for line in lines}) == count
    assert resume.cut_points(1000, 3) == [250, 250, 250]
