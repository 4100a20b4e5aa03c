"""Drill: the spec gains an optional Batch field and a status value; regenerate, and the layer keeps its contract.

A copy of the committed fragment gets `priority` (an optional string) and the status `paused`; the client is
generated from it into a scratch directory, and the contract tests run against it in a fresh interpreter. The layer
needs no change: the new field shows in `to_dict()` and on the generated model, and the new status parses as a
real member.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from batches_ext import Batch, BatchStatus
from devtools import regenerate
from devtools.spec import parse_yaml, render_fragment, summarize_changes
from tests.contract.runner import run_contract_tests, run_python
from tests.payloads import CANCELLING, batch

ROOT = Path(__file__).resolve().parent.parent
NEW_FIELD, NEW_STATUS = "priority", "paused"

pytestmark = pytest.mark.slow

# Runs in the child, against the drill's client; prints what it saw for the test to check.
OBSERVE = f"""
import json
import openai_batches_client
from batches_ext import Batch, BatchStatus
from tests.payloads import CANCELLING, batch

parsed = Batch.from_dict(batch(CANCELLING, {NEW_FIELD}="high", status="{NEW_STATUS}"))
print(json.dumps({{
    "generated": openai_batches_client.__file__,
    "to_dict": parsed.to_dict()["{NEW_FIELD}"],
    "raw": parsed.raw.{NEW_FIELD},
    "extra": sorted(parsed.extra),
    "status": str(parsed.status),
    "status_is_that_member": "{NEW_STATUS.upper()}" in BatchStatus.__members__
        and parsed.status is BatchStatus["{NEW_STATUS.upper()}"],
    "terminal": parsed.is_terminal,
    "round_trip": Batch.from_dict(parsed.to_dict()) == parsed,
}}))
"""


@pytest.fixture(scope="module")
def drill_client(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Generate the client for the changed fragment; return its directory and the change summary."""
    scratch = tmp_path_factory.mktemp("spec-change")
    openapi_dir = scratch / "openapi"
    shutil.copytree(ROOT / "openapi", openapi_dir)
    fragment_path = openapi_dir / regenerate.FRAGMENT_NAME
    committed: dict[str, Any] = parse_yaml(fragment_path.read_text())
    changed: dict[str, Any] = parse_yaml(fragment_path.read_text())
    schema = changed["components"]["schemas"]["Batch"]
    schema["properties"][NEW_FIELD] = {"type": "string", "description": "How soon the batch should run."}
    schema["properties"]["status"]["enum"].append(NEW_STATUS)
    fragment_path.write_text(render_fragment(changed, "The committed fragment plus a field and a status (a drill)."))
    generated_dir = scratch / "generated"
    regenerate.generate(fragment_path, generated_dir, openapi_dir=openapi_dir)
    return generated_dir, summarize_changes(committed, changed)


def test_summary_names_the_new_field_and_status(drill_client: tuple[Path, list[str]]) -> None:
    assert drill_client[1] == [f"+ field Batch.{NEW_FIELD}", f"+ enum Batch.status: {NEW_STATUS}"]


def test_generated_model_knows_the_new_field_and_status(drill_client: tuple[Path, list[str]]) -> None:
    models = drill_client[0] / regenerate.PACKAGE / "models"
    assert f"{NEW_FIELD}: str | Unset = UNSET" in (models / "batch.py").read_text()
    assert f'{NEW_STATUS.upper()} = "{NEW_STATUS}"' in (models / "batch_status.py").read_text()


def test_contract_holds_against_the_changed_client(drill_client: tuple[Path, list[str]], tmp_path: Path) -> None:
    run = run_contract_tests(drill_client[0], tmp_path)
    assert run.all_passed, run.output
    assert run.tests >= 18, run.output


def test_new_field_and_status_flow_through_the_layer(drill_client: tuple[Path, list[str]]) -> None:
    seen = json.loads(run_python(drill_client[0], OBSERVE))
    assert Path(seen["generated"]).is_relative_to(drill_client[0])
    assert seen["to_dict"] == "high"
    assert seen["raw"] == "high"  # the generated model has the field...
    assert NEW_FIELD not in seen["extra"]  # ...so it is no longer an unknown extra
    assert seen["status"] == NEW_STATUS
    assert seen["status_is_that_member"] is True
    assert seen["terminal"] is False
    assert seen["round_trip"] is True


def test_committed_client_treats_them_as_unknown() -> None:
    """The control: without the regeneration, the same payload still parses, as unknowns."""
    parsed = Batch.from_dict(batch(CANCELLING, **{NEW_FIELD: "high", "status": NEW_STATUS}))
    assert parsed.extra == {NEW_FIELD: "high"}
    assert parsed.to_dict()[NEW_FIELD] == "high"
    assert parsed.status == NEW_STATUS
    assert NEW_STATUS.upper() not in BatchStatus.__members__
