"""The real "the spec changed" drill on OpenAI's own documents (shared/upstream, never copied into the project).

In a scratch copy of openapi/, update from the 2025-01-31 document (before `Batch.model` and `Batch.usage`), then from
the 2026-08-21 one, generating each client into a scratch directory: one `update` call each. The layer's contract
tests must pass against both clients, and the second update must reproduce the committed fragment and generated
package byte for byte: what is committed is what the tool makes.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import regenerate
from devtools.spec import parse_yaml
from devtools.update_spec import Source, load_source, update
from tests.contract.runner import run_contract_tests

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_DIR = Path(os.environ.get("BATCHES_EXT_UPSTREAM_DIR", ROOT.parent / "shared" / "upstream"))
OLD_SPEC = "openapi-2025-01-31.yaml"
NEW_SPEC = "openapi.yaml"

pytestmark = pytest.mark.slow


def _load(name: str) -> Source:
    path = UPSTREAM_DIR / name
    if not path.is_file():
        pytest.skip(f"shared/upstream not present: no {path} (set BATCHES_EXT_UPSTREAM_DIR to its directory)")
    return load_source(str(path))  # ~1 s for the 3 MB document with libyaml: once per session


@pytest.fixture(scope="session")
def old_source() -> Source:
    return _load(OLD_SPEC)


@pytest.fixture(scope="session")
def new_source() -> Source:
    return _load(NEW_SPEC)


@dataclass
class Drill:
    openapi_dir: Path
    old_generated: Path
    new_generated: Path
    old_summary: list[str]
    new_summary: list[str]
    old_fragment_text: str
    new_fragment_text: str

    @property
    def old_fragment(self) -> dict[str, Any]:
        fragment: dict[str, Any] = parse_yaml(self.old_fragment_text)
        return fragment


@pytest.fixture(scope="module")
def drill(old_source: Source, new_source: Source, tmp_path_factory: pytest.TempPathFactory) -> Drill:
    scratch = tmp_path_factory.mktemp("drill")
    openapi_dir = scratch / "openapi"
    shutil.copytree(ROOT / "openapi", openapi_dir)
    old_generated, new_generated = scratch / "generated-2025-01-31", scratch / "generated-2026-08-21"
    old_summary = update(old_source, openapi_dir, old_generated)
    old_fragment_text = (openapi_dir / regenerate.FRAGMENT_NAME).read_text()
    new_summary = update(new_source, openapi_dir, new_generated)
    return Drill(
        openapi_dir=openapi_dir,
        old_generated=old_generated,
        new_generated=new_generated,
        old_summary=old_summary,
        new_summary=new_summary,
        old_fragment_text=old_fragment_text,
        new_fragment_text=(openapi_dir / regenerate.FRAGMENT_NAME).read_text(),
    )


def test_summary_of_the_new_spec_names_model_and_usage_as_added(drill: Drill) -> None:
    assert drill.new_summary == [
        "+ field Batch.model",
        "+ field Batch.usage",
        "+ schema BatchError",  # upstream moved the inline `errors.data[]` and `request_counts` objects into
        "+ schema BatchFileExpirationAfter",
        "+ schema BatchRequestCounts",  # components: their fields are unchanged, so no field line for them
        "+ schema CreateBatchRequest",  # inline in the old document's createBatch
        "+ field CreateFileRequest.expires_after",
        "+ schema FileExpirationAfter",
        "+ field OpenAIFile.expires_at",
        "+ enum CreateFileRequest.purpose: evals",
        "+ enum CreateFileRequest.purpose: user_data",
        # No OpenAIFile.purpose line: an override sets that list (evals added, see overrides.yaml) in both documents.
    ]
    assert drill.old_summary == [line.replace("+", "-", 1) for line in drill.new_summary]


def test_old_spec_is_upgraded_from_openapi_3_0(drill: Drill) -> None:
    assert "Source: openapi-2025-01-31.yaml" in drill.old_fragment_text
    assert "nullable:" not in drill.old_fragment_text  # the 3.0 keyword is gone everywhere...
    metadata = drill.old_fragment["components"]["schemas"]["Metadata"]
    assert {"type": "null"} in metadata["anyOf"]  # ...and became a 3.1 anyOf with null
    assert drill.old_fragment["openapi"] == "3.1.0"
    assert "model" not in drill.old_fragment["components"]["schemas"]["Batch"]["properties"]


def test_generated_clients_differ_where_the_specs_do(drill: Drill) -> None:
    old_models = drill.old_generated / regenerate.PACKAGE / "models"
    new_models = drill.new_generated / regenerate.PACKAGE / "models"
    assert not (old_models / "batch_usage.py").exists()
    assert (new_models / "batch_usage.py").exists()
    assert "self.model" not in (old_models / "batch.py").read_text()
    assert "self.model" in (new_models / "batch.py").read_text()


def test_updating_from_the_new_spec_reproduces_what_is_committed(drill: Drill) -> None:
    assert drill.new_fragment_text == (ROOT / "openapi" / regenerate.FRAGMENT_NAME).read_text()
    built = drill.new_generated / regenerate.PACKAGE
    assert regenerate.differences(built, ROOT / "generated" / regenerate.PACKAGE, "generated") == []


@pytest.mark.parametrize("which", ["old_generated", "new_generated"])
def test_contract_holds_against_both_regenerated_clients(drill: Drill, which: str, tmp_path: Path) -> None:
    run = run_contract_tests(getattr(drill, which), tmp_path)
    assert run.all_passed, run.output
    assert run.tests >= 18, run.output
