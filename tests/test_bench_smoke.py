"""Smoke test of `scripts/bench`: every piece runs (tiny counts) and the table has every row. No timing asserts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.bench import report
from devtools.bench.run import ROOT, child_env


@pytest.mark.slow
def test_quick_run_prints_every_row(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "devtools.bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(),
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(report.ROWS)  # the header, then one line per measure
    for row, line in zip(report.ROWS, rows[1:], strict=True):
        assert line.startswith(f"| {row.label.split('{')[0]}")
        assert "failed" not in line
    assert "- Machine:" in done.stdout
    pieces = ("- Remainder of a cancelled batch", "- Bulk cancel of 50 running batches", "- Listing 2,000 batches",
              "- Resumed results download")  # fmt: skip
    for piece in pieces:
        assert any(line.startswith(piece) for line in done.stdout.splitlines()), piece
    data = json.loads(out.read_text())
    assert data["bulk_cancel"]["all_stopped"]["batches_ext"]  # every batch stopped, no unhandled error
    assert data["listing"]["memory"]["batches_ext"]["batches"] == 2000
    assert set(data["raw"]) == {row.key for row in report.ROWS}
    assert set(data["targets"]) == {"import", "import_min", "cpu", "async", "results"}
    for per_client in data["raw"].values():
        assert set(per_client) == {"batches_ext", "openai", "httpx"}


def test_table_marks_targets_and_missing_values() -> None:
    values: dict[str, dict[str, float | None]] = {
        "import": {"batches_ext": 100.0, "openai": 500.0, "httpx": 90.0},
        "cpu": {"batches_ext": 400.0, "openai": 700.0, "httpx": 300.0},
        "results": {"batches_ext": None, "openai": 1.0, "httpx": 1.0},
    }
    notes = {"results": {"batches_ext": "n/a (iter_results not yet available)"}}
    lines = report.table(values, notes).splitlines()
    by_key = dict(zip([row.key for row in report.ROWS], lines[2:], strict=True))
    assert by_key["import"].endswith("| met |")  # 100 <= 0.25 * 500
    assert by_key["cpu"].endswith("| **missed** |")  # 400 > 0.5 * 700
    assert "n/a (iter_results not yet available)" in by_key["results"]
    assert by_key["results"].endswith("| n/a |")
    assert "not measured" in by_key["parse"]
    assert report.verdicts(values) == {
        "import": "met",
        "import_min": "n/a",
        "cpu": "missed",
        "async": "n/a",
        "results": "n/a",
    }


def test_summarize_takes_medians_and_keeps_reasons() -> None:
    raw = {
        "cpu": {"batches_ext": {"cpu_us": [3.0, 1.0, 2.0]}},
        "results": {"batches_ext": {"mb": None, "reason": "iter_results not yet available"}},
    }
    values, notes = report.summarize(raw)
    assert values["cpu"]["batches_ext"] == 2.0
    assert values["results"]["batches_ext"] is None
    assert notes["results"]["batches_ext"] == "n/a (iter_results not yet available)"
