"""Drill: the spec gains fields and a status value; regenerate, and the layer follows with no change of its own.

A copy of the committed fragment gets, on `Batch`, `priority` (an optional string), `paused_at` (a unix time),
the status `paused` and `in_flight` in its request counts, and on the file object `region` and `archived_at`. The
client is generated from it into a scratch directory, and the contract tests run against it in a fresh interpreter.
The layer needs no change (and gets none: git sees nothing under batches_ext/): `batch.priority` is the string,
`batch.paused_at` an aware UTC datetime, the same for the file, and the new status parses as a real member. What
regenerating prints names the new fields as ones the layer has no typed accessor for yet.
"""

from __future__ import annotations

import json
import shutil
import subprocess
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
NEW_TIME = "paused_at"
NEW_FILE_FIELD, NEW_FILE_TIME = "region", "archived_at"
NEW_COUNT = "in_flight"  # a field of the nested request_counts object
PAUSED_AT = 1711473333  # 2024-03-26T17:15:33Z

pytestmark = pytest.mark.slow

# Runs in the child, against the drill's client; prints what it saw for the test to check.
OBSERVE = f"""
import json
import openai_batches_client
import batches_ext
from batches_ext import Batch, BatchStatus, FileObject
from tests.payloads import CANCELLING, batch

parsed = Batch.from_dict(batch(CANCELLING, {NEW_FIELD}="high", {NEW_TIME}={PAUSED_AT}, status="{NEW_STATUS}"))
file = FileObject.from_dict({{"id": "file-1", "object": "file", "bytes": 1, "created_at": {PAUSED_AT},
                             "filename": "in.jsonl", "purpose": "batch", "{NEW_FILE_FIELD}": "eu",
                             "{NEW_FILE_TIME}": "2024-03-26T17:15:33Z"}})
print(json.dumps({{
    "generated": openai_batches_client.__file__,
    "layer": batches_ext.__file__,
    "attribute": parsed.{NEW_FIELD},
    "time": parsed.{NEW_TIME}.isoformat(),
    "time_is_aware": parsed.{NEW_TIME}.utcoffset() is not None,
    "time_missing": Batch.from_dict(CANCELLING).{NEW_TIME},
    "file_attribute": file.{NEW_FILE_FIELD},
    "file_time": file.{NEW_FILE_TIME}.isoformat(),
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
    schema["properties"][NEW_TIME] = {"type": "integer", "format": "unixtime", "description": "When it paused."}
    schema["properties"]["status"]["enum"].append(NEW_STATUS)
    counts_schema = changed["components"]["schemas"]["BatchRequestCounts"]
    counts_schema["properties"][NEW_COUNT] = {"type": "integer", "description": "Requests running now."}
    file_schema = changed["components"]["schemas"]["OpenAIFile"]
    file_schema["properties"][NEW_FILE_FIELD] = {"type": "string", "description": "Where the file is stored."}
    file_schema["properties"][NEW_FILE_TIME] = {"type": "integer", "format": "unixtime", "description": "Archived."}
    fragment_path.write_text(render_fragment(changed, "The committed fragment plus a field and a status (a drill)."))
    generated_dir = scratch / "generated"
    regenerate.generate(fragment_path, generated_dir, openapi_dir=openapi_dir)
    return generated_dir, summarize_changes(committed, changed)


def test_summary_names_the_new_fields_and_status(drill_client: tuple[Path, list[str]]) -> None:
    assert sorted(drill_client[1]) == sorted(
        [
            f"+ field Batch.{NEW_FIELD}",
            f"+ field Batch.{NEW_TIME}",
            f"+ field BatchRequestCounts.{NEW_COUNT}",
            f"+ field OpenAIFile.{NEW_FILE_FIELD}",
            f"+ field OpenAIFile.{NEW_FILE_TIME}",
            f"+ enum Batch.status: {NEW_STATUS}",
        ]
    )


def test_generated_model_knows_the_new_field_and_status(drill_client: tuple[Path, list[str]]) -> None:
    models = drill_client[0] / regenerate.PACKAGE / "models"
    assert f"{NEW_FIELD}: str | Unset = UNSET" in (models / "batch.py").read_text()
    assert f'{NEW_STATUS.upper()} = "{NEW_STATUS}"' in (models / "batch_status.py").read_text()


def test_contract_holds_against_the_changed_client(drill_client: tuple[Path, list[str]], tmp_path: Path) -> None:
    run = run_contract_tests(drill_client[0], tmp_path)
    assert run.all_passed, run.output
    assert run.tests >= 18, run.output


def _layer_status() -> str:
    command = ["git", "status", "--porcelain", "--", "batches_ext"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_new_field_and_status_flow_through_the_layer(drill_client: tuple[Path, list[str]]) -> None:
    before = _layer_status()
    seen = json.loads(run_python(drill_client[0], OBSERVE))
    assert _layer_status() == before  # nothing under batches_ext/ changed (clean in CI)
    assert Path(seen["generated"]).is_relative_to(drill_client[0])
    assert Path(seen["layer"]).is_relative_to(ROOT / "batches_ext")  # the committed layer, as it is
    assert seen["attribute"] == "high"
    assert seen["time"] == "2024-03-26T17:15:33+00:00"
    assert seen["time_is_aware"] is True
    assert seen["time_missing"] is None
    assert seen["file_attribute"] == "eu"
    assert seen["file_time"] == "2024-03-26T17:15:33+00:00"
    assert seen["to_dict"] == "high"
    assert seen["raw"] == "high"  # the generated model has the field...
    assert NEW_FIELD not in seen["extra"]  # ...so it is no longer an unknown extra
    assert seen["status"] == NEW_STATUS
    assert seen["status_is_that_member"] is True
    assert seen["terminal"] is False
    assert seen["round_trip"] is True


def test_regenerating_names_the_fields_the_layer_does_not_type(drill_client: tuple[Path, list[str]]) -> None:
    report = regenerate.unreviewed_layer_fields(drill_client[0])
    assert report == {
        "Batch": sorted([NEW_FIELD, NEW_TIME]),
        "Batch.request_counts": [NEW_COUNT],
        "FileObject": sorted([NEW_FILE_FIELD, NEW_FILE_TIME]),
    }
    warning = regenerate.layer_warning(report)
    assert f"Batch: {NEW_TIME}, {NEW_FIELD}" in warning
    assert f"FileObject: {NEW_FILE_TIME}, {NEW_FILE_FIELD}" in warning
    assert regenerate.unreviewed_layer_fields() == {}  # the committed generated/: nothing to add


def test_committed_client_treats_them_as_unknown() -> None:
    """The control: without the regeneration, the same payload still parses, as unknowns."""
    parsed = Batch.from_dict(batch(CANCELLING, **{NEW_FIELD: "high", NEW_TIME: PAUSED_AT, "status": NEW_STATUS}))
    assert parsed.extra == {NEW_FIELD: "high", NEW_TIME: PAUSED_AT}
    with pytest.raises(AttributeError):
        getattr(parsed, NEW_FIELD)  # an unknown field is not an attribute: only the generated model's are
    assert parsed.to_dict()[NEW_FIELD] == "high"
    assert parsed.status == NEW_STATUS
    assert NEW_STATUS.upper() not in BatchStatus.__members__
