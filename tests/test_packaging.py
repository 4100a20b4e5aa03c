"""The wheel built from pyproject.toml: both packages, typed, the three runtime dependencies and nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out)]
    subprocess.run([*build, str(ROOT)], check=True, capture_output=True)
    (path,) = out.glob("batches_ext-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_both_packages(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for required in (
        "batches_ext/__init__.py",
        "batches_ext/py.typed",
        "batches_ext/_client.py",
        "batches_ext/_async_client.py",
        "openai_batches_client/__init__.py",
        "openai_batches_client/models/batch.py",
        "openai_batches_client/api/batch/cancel_batch.py",
    ):
        assert required in names
    tops = {name.split("/")[0] for name in names if not name.startswith("batches_ext-")}
    assert tops == {"batches_ext", "openai_batches_client"}  # no tests/, scripts/, generated/ prefix


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    requirements = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0] for r in metadata.get_all("Requires-Dist") or []}
    assert requirements == {"httpx", "attrs", "python-dateutil"}
    assert metadata["Requires-Python"] == ">=3.11"


def test_top_level_shows_the_design() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    tops = {path.split("/", 1)[0] for path in tracked}
    design = {"openapi", "generated", "batches_ext", "tests", "pyproject.toml", "scripts", "README.md", "BENCHMARKS.md"}
    assert tops - {".ci", ".gitignore"} == design
