"""Running one benchmark's quick mode the way its smoke test does (no timing asserts: scripts/bench measures speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.bench.run import ROOT, child_env


def run_quick(module: str, tmp_path: Path, *, timeout: float) -> tuple[str, dict[str, Any]]:
    """`python -m devtools.bench.<module> --quick --json FILE`: what it printed, and its JSON report.

    Exit 1 is accepted: a target missed on a loaded machine still gives a full report.
    """
    out = tmp_path / f"{module}.json"
    done = subprocess.run(
        [sys.executable, "-m", f"devtools.bench.{module}", "--quick", "--json", str(out)],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(out.read_text())
    return done.stdout, report
