"""Smoke test of the remainder benchmark (`python -m devtools.bench.remainder --quick`): it runs, both clients agree
on the remainder, and it reports its figures. No timing asserts (speed is measured by scripts/bench itself).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.bench import remainder
from tests.bench_quick import run_quick


@pytest.mark.slow
def test_quick_run_reports_both_clients(tmp_path: Path) -> None:
    stdout, data = run_quick("remainder", tmp_path, timeout=120)
    assert stdout.startswith("- Remainder of a cancelled batch (500 requests;")
    # 40% of the requests finished, 1% of those with a 400 (failed for good): the rest is to resubmit.
    assert data["remainder_lines"] == 300
    assert set(data["raw"]) == {"batches_ext", "httpx"}
    assert all(sample["lines"] == 300 for runs in data["raw"].values() for sample in runs)


def test_files_are_what_the_benchmark_says(tmp_path: Path) -> None:
    sizes = remainder.write_files(tmp_path, 200, 200_000)
    assert 190_000 <= sizes["input"] <= 210_000
    lines = (tmp_path / remainder.FILES["input"]).read_bytes().splitlines()
    assert len(lines) == 200
    assert len({json.loads(line)["custom_id"] for line in lines}) == 200
    errors = [json.loads(line) for line in (tmp_path / remainder.FILES["error"]).read_bytes().splitlines()]
    assert sum(1 for record in errors if record["response"] is None) == 120
