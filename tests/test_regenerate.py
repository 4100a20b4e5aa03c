"""scripts/regenerate: the committed client is what the fragment makes, and --check names every stale file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from devtools import regenerate

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "generated" / regenerate.PACKAGE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client generated from the committed fragment into a scratch directory (`--out`)."""
    out = tmp_path_factory.mktemp("regenerated")
    assert regenerate.main(["--out", str(out)]) == 0
    return out


def test_generated_is_reproducible_from_the_committed_fragment(fresh: Path) -> None:
    assert regenerate.differences(fresh / regenerate.PACKAGE, COMMITTED, "generated") == []
    assert not list(fresh.rglob("__pycache__")) + list(fresh.rglob(".ruff_cache"))


def test_check_passes_on_the_committed_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert regenerate.main(["--check"]) == 0
    assert capsys.readouterr().out == f"generated/{regenerate.PACKAGE} matches {regenerate.FRAGMENT_NAME}.\n"


def test_check_names_every_stale_file(fresh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "generated"
    shutil.copytree(fresh, out)
    package = out / regenerate.PACKAGE
    (package / "client.py").write_text("# edited by hand\n")
    (package / "models" / "batch_usage.py").unlink()
    (package / "models" / "hand_written.py").write_text("")
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "client.cpython-311.pyc").write_bytes(b"ignored")
    assert regenerate.main(["--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "generated/ is stale; run scripts/regenerate. Stale files:",
        f"  generated/{regenerate.PACKAGE}/models/batch_usage.py (missing)",
        f"  generated/{regenerate.PACKAGE}/models/hand_written.py (not produced by the fragment)",
        f"  generated/{regenerate.PACKAGE}/client.py (differs)",
    ]


def test_generator_failure_is_reported_and_leaves_the_output_alone(
    fresh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openapi_dir = tmp_path / "openapi"
    shutil.copytree(ROOT / "openapi", openapi_dir)
    (openapi_dir / regenerate.FRAGMENT_NAME).write_text("openapi: 3.1.0\npaths: {}\n")  # no `info`: invalid
    out = tmp_path / "generated"
    shutil.copytree(fresh, out)
    assert regenerate.main(["--openapi-dir", str(openapi_dir), "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith("regenerate: openapi-python-client generate failed:")
    assert regenerate.differences(fresh / regenerate.PACKAGE, out / regenerate.PACKAGE, "generated") == []


def test_a_layer_that_does_not_import_is_a_warning_not_a_crash(
    fresh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    shutil.copytree(fresh, out)
    (out / regenerate.PACKAGE / "models" / "batch_status.py").unlink()  # the layer imports BatchStatus
    with pytest.raises(regenerate.GenerationError, match="batches_ext does not import against"):
        regenerate.unreviewed_layer_fields(out)
    regenerate.warn_about_layer(out)
    assert "warning: batches_ext does not import against" in capsys.readouterr().err
    regenerate.warn_about_layer(fresh)  # the committed fragment's client: every field typed, nothing to say
    assert capsys.readouterr().err == ""
