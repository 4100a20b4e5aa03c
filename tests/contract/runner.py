"""Run code or the contract tests in a fresh interpreter whose `openai_batches_client` is another generated copy.

PYTHONPATH entries come before the site directory, so they win over the `generated/` path entry that the editable
install adds with a .pth file; the contract's first test checks that they really did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = Path(__file__).resolve().parent
GENERATED_ENV = "BATCHES_EXT_CONTRACT_GENERATED"
# Inherited from the parent pytest or its coverage plugin; they would make the child measure or change options.
_DROPPED_ENV_PREFIXES = ("COV_CORE_", "COVERAGE_", "PYTEST_")


@dataclass(frozen=True)
class ContractRun:
    """The outcome of one run of the contract tests, from pytest's JUnit report."""

    tests: int
    failures: int
    errors: int
    skipped: int
    output: str

    @property
    def all_passed(self) -> bool:
        return self.tests > 0 and self.failures == self.errors == self.skipped == 0


def environment(generated_dir: Path) -> dict[str, str]:
    """The child's environment: `generated_dir` first on PYTHONPATH, nothing inherited from the parent's pytest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_ENV_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(generated_dir), env.get("PYTHONPATH")]))
    env[GENERATED_ENV] = str(generated_dir)
    return env


def run_contract_tests(generated_dir: Path, report_dir: Path) -> ContractRun:
    """Run tests/contract with `generated_dir/openai_batches_client` as the generated package."""
    report = report_dir / "contract-junit.xml"
    command = [
        sys.executable, "-m", "pytest", str(CONTRACT_DIR), "-q", "-p", "no:cacheprovider", "-o", "addopts=",
        f"--junitxml={report}",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=ROOT, env=environment(generated_dir), capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    if not report.exists():
        raise AssertionError(f"the contract tests did not run (exit {result.returncode}):\n{output}")
    suite = ET.parse(report).getroot()  # noqa: S314 - written a moment ago by our own child process
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None, output
    counts = {key: int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")}
    run = ContractRun(**counts, output=output)
    assert (result.returncode == 0) == run.all_passed, output
    return run


def run_python(generated_dir: Path, code: str) -> str:
    """Run `code` with `generated_dir` first on PYTHONPATH; return its stdout, failing loudly on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment(generated_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
