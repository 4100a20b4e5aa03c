"""Smoke test of the resumed-download benchmark (`python -m devtools.bench.resume --quick`): it runs, every read sees
every record once through its cuts, and it reports its figures. No timing asserts (scripts/bench measures speed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.bench import resume
from devtools.bench.run import ROOT, child_env


@pytest.mark.slow
def test_quick_run_reports_every_read(tmp_path: Path) -> None:
    out = tmp_path / "resume.json"
    done = subprocess.run(
        [sys.executable, "-m", "devtools.bench.resume", "--quick", "--json", str(out)],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr  # 1: a target missed on a loaded machine, still a full report
    assert done.stdout.startswith("- Resumed results download (0.02 GB, ")
    data = json.loads(out.read_text())
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
