"""scripts/update-spec on a synthetic upstream document: the exact closure, clear errors, nothing half-written.

The synthetic document has what OpenAI's does and more: unrelated operations and schemas, nested `$ref`s, a `$ref`
cycle, shared responses and parameters (one declared on the path item), OpenAPI 3.0 `nullable`, documentation-only
`x-oaiMeta`. Most tests stop before the generator (fast); the ones that need it say so.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import regenerate, update_spec
from devtools.spec import SpecError, build_fragment, parse_yaml, render_fragment, summarize_changes

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ["cancelBatch", "retrieveBatch", "downloadFile"]
OVERRIDES: list[dict[str, Any]] = [
    {"why": "the API sends null", "nullable": ["components/schemas/Batch/properties/expires_at"]},
    {
        "why": "errors have a body; this ref reaches a schema nothing upstream references",
        "merge": {
            "at": ["op:cancelBatch/responses"],
            "value": {
                "429": {
                    "description": "slow down",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RateLimited"}}},
                }
            },
        },
    },
]
# What the three operations reach, directly, through other components, through the override, or through a cycle.
CLOSURE = {
    ("schemas", "Batch"),
    ("schemas", "BatchError"),
    ("schemas", "RequestCounts"),
    ("schemas", "Metadata"),
    ("schemas", "TreeNode"),  # Batch.tree -> TreeNode.children[] -> TreeNode, TreeNode.owner -> Owner -> TreeNode
    ("schemas", "Owner"),
    ("schemas", "ErrorResponse"),  # via responses/NotFound
    ("schemas", "Error"),
    ("schemas", "BatchId"),  # via parameters/BatchIdPath, declared on the path item
    ("schemas", "RateLimited"),  # only via the override
    ("parameters", "BatchIdPath"),
    ("parameters", "FileIdPath"),
    ("responses", "NotFound"),
    ("securitySchemes", "ApiKeyAuth"),
}
UNRELATED = {"Widget", "WidgetList", "Unused", "UnusedParam", "UnusedResponse", "OtherAuth"}


def _json(schema_ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": schema_ref}}}


def synthetic_spec() -> dict[str, Any]:
    """A small OpenAPI 3.0 document shaped like OpenAI's, with everything the extraction must get right."""
    batch_ok = {"200": {"description": "The batch.", "content": _json("#/components/schemas/Batch")}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Synthetic API", "version": "9.9.9", "description": "For tests.", "termsOfService": "x"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "security": [{"ApiKeyAuth": []}],
        "tags": [{"name": "Batch", "description": "Batches."}, {"name": "Widgets", "description": "Unrelated."}],
        "paths": {
            "/batches/{batch_id}/cancel": {
                "parameters": [{"$ref": "#/components/parameters/BatchIdPath"}],
                "post": {
                    "operationId": "cancelBatch",
                    "tags": ["Batch"],
                    "responses": {**batch_ok, "404": {"$ref": "#/components/responses/NotFound"}},
                    "x-oaiMeta": {"examples": {"response": '{"nullable": true, "trailing": "comma",}'}},
                },
            },
            "/batches/{batch_id}": {
                "get": {
                    "operationId": "retrieveBatch",
                    "tags": ["Batch"],
                    "parameters": [{"$ref": "#/components/parameters/BatchIdPath"}],
                    "responses": batch_ok,
                },
                "delete": {"operationId": "deleteBatch", "responses": {"204": {"description": "Gone."}}},
            },
            "/files/{file_id}/content": {
                "get": {
                    "operationId": "downloadFile",
                    "parameters": [{"$ref": "#/components/parameters/FileIdPath"}],
                    "responses": {
                        "200": {
                            "description": "The bytes.",
                            "content": {"application/json": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/widgets": {
                "parameters": [{"$ref": "#/components/parameters/UnusedParam"}],
                "get": {
                    "operationId": "listWidgets",
                    "tags": ["Widgets"],
                    "responses": {
                        "200": {"description": "Widgets.", "content": _json("#/components/schemas/WidgetList")},
                        "500": {"$ref": "#/components/responses/UnusedResponse"},
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Batch": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": ["validating", "in_progress", "cancelled"]},
                        "expires_at": {"type": "integer", "description": "When it expires."},
                        "output_file_id": {"type": "string", "nullable": True, "description": "Results."},
                        "errors": {
                            "type": "object",
                            "properties": {
                                "data": {"type": "array", "items": {"$ref": "#/components/schemas/BatchError"}}
                            },
                        },
                        "request_counts": {"$ref": "#/components/schemas/RequestCounts"},
                        "metadata": {"$ref": "#/components/schemas/Metadata"},
                        "tree": {"$ref": "#/components/schemas/TreeNode"},
                        "default": {"type": "string", "nullable": True},  # a property named like a keyword
                        "strict": {"type": "boolean", "nullable": False, "example": {"nullable": True}},
                    },
                },
                "BatchError": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "line": {"type": "integer", "nullable": True}},
                },
                "RequestCounts": {"type": "object", "properties": {"total": {"type": "integer"}}},
                "Metadata": {"type": "object", "nullable": True, "additionalProperties": {"type": "string"}},
                "TreeNode": {
                    "type": "object",
                    "properties": {
                        "children": {"type": "array", "items": {"$ref": "#/components/schemas/TreeNode"}},
                        "owner": {"$ref": "#/components/schemas/Owner"},
                    },
                },
                "Owner": {"type": "object", "properties": {"node": {"$ref": "#/components/schemas/TreeNode"}}},
                "ErrorResponse": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"$ref": "#/components/schemas/Error"}},
                },
                "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
                "BatchId": {"type": "string", "pattern": "^batch_"},
                "RateLimited": {"type": "object", "properties": {"retry_after": {"type": "integer"}}},
                "Widget": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
                "WidgetList": {"type": "array", "items": {"$ref": "#/components/schemas/Widget"}},
                "Unused": {"type": "string"},
            },
            "parameters": {
                "BatchIdPath": {
                    "name": "batch_id",
                    "in": "path",
                    "required": True,
                    "schema": {"$ref": "#/components/schemas/BatchId"},
                },
                "FileIdPath": {"name": "file_id", "in": "path", "required": True, "schema": {"type": "string"}},
                "UnusedParam": {"name": "limit", "in": "query", "schema": {"$ref": "#/components/schemas/Unused"}},
            },
            "responses": {
                "NotFound": {"description": "No such batch.", "content": _json("#/components/schemas/ErrorResponse")},
                "UnusedResponse": {"description": "Nope.", "content": _json("#/components/schemas/Unused")},
            },
            "securitySchemes": {
                "ApiKeyAuth": {"type": "http", "scheme": "bearer"},
                "OtherAuth": {"type": "apiKey", "in": "header", "name": "X-Other"},
            },
        },
    }


def _components(fragment: dict[str, Any]) -> set[tuple[str, str]]:
    return {(kind, name) for kind, named in fragment["components"].items() for name in named}


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    """A scratch openapi/ (the committed config and templates, synthetic operations and overrides), a scratch
    generated/ holding a marker file, and the synthetic document on disk."""
    openapi_dir = tmp_path / "openapi"
    shutil.copytree(ROOT / "openapi", openapi_dir)
    (openapi_dir / "operations.txt").write_text("# synthetic\n" + "\n".join(f"{op}  # used" for op in OPERATIONS))
    (openapi_dir / "overrides.yaml").write_text(yaml.safe_dump(OVERRIDES))
    generated_dir = tmp_path / "generated"
    (generated_dir / regenerate.PACKAGE).mkdir(parents=True)
    (generated_dir / regenerate.PACKAGE / "__init__.py").write_text("# the previous client\n")
    source = tmp_path / "upstream.yaml"
    source.write_text(yaml.safe_dump(synthetic_spec()))
    return {"openapi": openapi_dir, "generated": generated_dir, "source": source, "tmp": tmp_path}


def _write_source(workspace: dict[str, Path], spec: dict[str, Any]) -> str:
    workspace["source"].write_text(yaml.safe_dump(spec))
    return str(workspace["source"])


# --- the closure ------------------------------------------------------------------------------------------------


def test_update_extracts_exactly_the_closure(workspace: dict[str, Path]) -> None:
    update_spec.update(str(workspace["source"]), workspace["openapi"], workspace["generated"], run_generator=False)
    fragment = parse_yaml((workspace["openapi"] / regenerate.FRAGMENT_NAME).read_text())
    assert _components(fragment) == CLOSURE
    assert not UNRELATED & {name for _, name in _components(fragment)}
    assert set(fragment["paths"]) == {"/batches/{batch_id}/cancel", "/batches/{batch_id}", "/files/{file_id}/content"}
    assert set(fragment["paths"]["/batches/{batch_id}"]) == {"get"}  # deleteBatch was not asked for
    # the path item's shared parameters come along with its operation
    assert fragment["paths"]["/batches/{batch_id}/cancel"]["parameters"] == [
        {"$ref": "#/components/parameters/BatchIdPath"}
    ]
    assert [tag["name"] for tag in fragment["tags"]] == ["Batch"]
    assert fragment["security"] == [{"ApiKeyAuth": []}]
    assert fragment["info"] == {"title": "Synthetic API", "version": "9.9.9", "description": "For tests."}
    assert "x-oaiMeta" not in json.dumps(fragment)  # its examples fail their own schema upstream
    assert fragment["openapi"] == "3.1.0"


def test_every_ref_in_the_fragment_resolves_inside_it() -> None:
    fragment = build_fragment(synthetic_spec(), OPERATIONS, OVERRIDES)
    text = json.dumps(fragment)
    for kind, name in _components(fragment):
        assert fragment["components"][kind][name] is not None
    refs = {part.split('"')[0] for part in text.split('"$ref": "')[1:]}
    assert refs
    assert {tuple(ref.split("/")[2:4]) for ref in refs} <= CLOSURE


def test_a_ref_into_a_component_takes_the_whole_component() -> None:
    spec = synthetic_spec()
    spec["components"]["schemas"]["RequestCounts"]["properties"]["copy"] = {
        "$ref": "#/components/schemas/Widget/properties/owner"
    }
    fragment = build_fragment(spec, OPERATIONS, OVERRIDES)
    assert ("schemas", "Widget") in _components(fragment)
    spec["components"]["schemas"]["RequestCounts"]["properties"]["copy"]["$ref"] += "/nope"
    with pytest.raises(SpecError, match=r"dangling \$ref '#/components/schemas/Widget/properties/owner/nope'"):
        build_fragment(spec, OPERATIONS, OVERRIDES)


def test_security_schemes_of_operations_come_along() -> None:
    spec = synthetic_spec()
    spec["paths"]["/files/{file_id}/content"]["get"]["security"] = [{"OtherAuth": []}]
    schemes = build_fragment(spec, OPERATIONS, OVERRIDES)["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKeyAuth", "OtherAuth"}


def test_ambiguous_operation_id_is_a_clear_error() -> None:
    spec = synthetic_spec()
    spec["paths"]["/widgets"]["get"]["operationId"] = "retrieveBatch"
    with pytest.raises(
        SpecError, match=r"'retrieveBatch' is ambiguous: .* at GET /batches/\{batch_id\} and GET /widgets"
    ):
        build_fragment(spec, OPERATIONS, OVERRIDES)


def test_extraction_does_not_modify_the_document() -> None:
    spec = synthetic_spec()
    build_fragment(spec, OPERATIONS, OVERRIDES)
    assert spec == synthetic_spec()


def test_output_is_stable_whatever_the_key_order_upstream() -> None:
    def reverse(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: reverse(node[key]) for key in reversed(list(node))}
        return [reverse(item) for item in node] if isinstance(node, list) else node

    header = "h"
    text = render_fragment(build_fragment(synthetic_spec(), OPERATIONS, OVERRIDES), header)
    assert render_fragment(build_fragment(reverse(synthetic_spec()), OPERATIONS, OVERRIDES), header) == text
    top_level = [line.split(":")[0] for line in text.splitlines() if line[:1].isalpha()]
    assert top_level == sorted(top_level)


# --- 3.0 -> 3.1 -------------------------------------------------------------------------------------------------


def test_openapi_3_0_nullable_becomes_anyof_null() -> None:
    schemas = build_fragment(synthetic_spec(), OPERATIONS, OVERRIDES)["components"]["schemas"]
    props = schemas["Batch"]["properties"]
    assert props["output_file_id"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "Results."}
    assert props["default"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}  # a property, not the keyword
    assert props["strict"] == {"type": "boolean", "example": {"nullable": True}}  # `false` dropped, data untouched
    assert schemas["Metadata"] == {
        "anyOf": [{"type": "object", "additionalProperties": {"type": "string"}}, {"type": "null"}]
    }
    assert schemas["BatchError"]["properties"]["line"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    # the override's nullable is applied on top, in the same form
    assert props["expires_at"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "When it expires."}
    assert "nullable" not in json.dumps({k: v for k, v in props.items() if k != "strict"})


# --- errors leave everything untouched --------------------------------------------------------------------------


def _assert_fails_untouched(workspace: dict[str, Path], source: str, match: str) -> None:
    before = _snapshot(workspace["openapi"]), _snapshot(workspace["generated"])
    with pytest.raises(SpecError, match=match):
        update_spec.update(source, workspace["openapi"], workspace["generated"])
    assert (_snapshot(workspace["openapi"]), _snapshot(workspace["generated"])) == before


def test_missing_operation_is_a_clear_error(workspace: dict[str, Path]) -> None:
    spec = synthetic_spec()
    del spec["paths"]["/files/{file_id}/content"]
    _assert_fails_untouched(
        workspace, _write_source(workspace, spec), r"operation\(s\) not found in the upstream document: downloadFile"
    )


def test_dangling_ref_is_a_clear_error(workspace: dict[str, Path]) -> None:
    spec = synthetic_spec()
    del spec["components"]["schemas"]["Owner"]  # reached only through the TreeNode cycle
    _assert_fails_untouched(
        workspace, _write_source(workspace, spec), r"dangling \$ref '#/components/schemas/Owner': no such component"
    )


def test_non_local_ref_is_a_clear_error(workspace: dict[str, Path]) -> None:
    spec = synthetic_spec()
    spec["components"]["schemas"]["Error"]["properties"]["message"] = {"$ref": "common.yaml#/Message"}
    _assert_fails_untouched(workspace, _write_source(workspace, spec), r"unsupported \$ref 'common.yaml#/Message'")


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        (
            {"why": "w", "nullable": ["components/schemas/Batch/properties/gone"]},
            r"override #3 targets 'components/schemas/Batch/properties/gone', which the upstream document does not",
        ),
        ({"why": "w", "set": {"at": ["op:deleteAll/responses"], "value": {}}}, "unknown operation 'deleteAll'"),
        ({"why": "w", "nulable": ["components/schemas/Batch"]}, "unknown key.*nulable"),
        ({"nullable": ["components/schemas/Batch"]}, "must be a mapping with a 'why'"),
        ({"why": "w", "merge": {"at": "components/schemas/Batch", "value": {}}}, "'merge.at' must be a non-empty"),
        ({"why": "w", "set": {"at": ["components/schemas/Batch"]}}, "needs 'at'.*and 'value'"),
    ],
    ids=["missing-path", "unknown-operation", "misspelt-action", "no-why", "at-not-a-list", "no-value"],
)
def test_bad_override_is_a_clear_error(workspace: dict[str, Path], override: dict[str, Any], problem: str) -> None:
    (workspace["openapi"] / "overrides.yaml").write_text(yaml.safe_dump([*OVERRIDES, override]))
    _assert_fails_untouched(workspace, str(workspace["source"]), problem)


def test_source_that_is_not_openapi_is_a_clear_error(workspace: dict[str, Path]) -> None:
    workspace["source"].write_text("just: a mapping\n")
    _assert_fails_untouched(workspace, str(workspace["source"]), "is not an OpenAPI document")
    workspace["source"].write_text("paths: [unclosed\n")
    _assert_fails_untouched(workspace, str(workspace["source"]), "cannot read")
    _assert_fails_untouched(workspace, str(workspace["tmp"] / "absent.yaml"), "cannot read")


@pytest.mark.slow
def test_generator_failure_leaves_openapi_and_generated_untouched(workspace: dict[str, Path]) -> None:
    """A real generator failure (a broken template in the scratch openapi/), not a simulated one."""
    template = workspace["openapi"] / "templates" / "str_enum.py.jinja"
    template.write_text("{% for %}\n")
    before = _snapshot(workspace["openapi"]), _snapshot(workspace["generated"])
    with pytest.raises(regenerate.GenerationError, match="openapi-python-client generate"):
        update_spec.update(str(workspace["source"]), workspace["openapi"], workspace["generated"])
    assert (_snapshot(workspace["openapi"]), _snapshot(workspace["generated"])) == before
    assert not (workspace["openapi"] / regenerate.FRAGMENT_NAME).with_name(".openai-batches.yaml.partial").exists()


# --- the command line and the change summary --------------------------------------------------------------------


@pytest.mark.slow
def test_cli_updates_regenerates_and_prints_the_summary(
    workspace: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(workspace["source"]), "--openapi-dir", str(workspace["openapi"]), "--generated-dir"]
    assert update_spec.main([*argv, str(workspace["generated"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Updated {workspace['openapi'] / regenerate.FRAGMENT_NAME} from {workspace['source']}.")
    lines = set(out.splitlines())  # compared with the committed, real fragment that the scratch copy started from
    assert {"+ field Batch.tree", "+ schema TreeNode", "- field Batch.usage", "- enum Batch.status: expired"} <= lines
    # The synthetic document has three of the committed fragment's operations: the others are reported removed.
    assert {line for line in lines if "operation" in line} == {
        f"- operation {op}"
        for op in (
            "createBatch (POST /batches)",
            "createFile (POST /files)",
            "deleteFile (DELETE /files/{file_id})",
            "listBatches (GET /batches)",
            "retrieveFile (GET /files/{file_id})",
        )
    }
    package = workspace["generated"] / regenerate.PACKAGE
    assert (package / "api" / "batch" / "cancel_batch.py").is_file()
    assert (package / "models" / "tree_node.py").is_file()  # the cycle generates
    assert "the previous client" not in (package / "__init__.py").read_text()
    # A second run changes nothing and says so.
    assert update_spec.main([*argv, str(workspace["generated"])]) == 0
    assert capsys.readouterr().out.splitlines()[1] == update_spec.NO_CHANGES


def test_cli_error_names_the_problem_and_exits_1(
    workspace: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace["openapi"] / "operations.txt").write_text("cancelBatch\nlaunchRocket\n")
    # Relative paths, as typed where scripts/update-spec was run (the wrapper changes into the project first).
    monkeypatch.setenv(regenerate.CALLER_CWD_ENV, str(workspace["tmp"]))
    assert update_spec.main(["upstream.yaml", "--openapi-dir", "openapi", "--generated-dir", "generated"]) == 1
    err = capsys.readouterr().err
    assert "update-spec: operation(s) not found in the upstream document: launchRocket" in err
    assert f"nothing was changed in {workspace['openapi']} or {workspace['generated']}" in err


def test_summary_names_added_and_removed_fields_and_enum_values() -> None:
    old = build_fragment(synthetic_spec(), OPERATIONS, OVERRIDES)
    spec = synthetic_spec()
    batch = spec["components"]["schemas"]["Batch"]["properties"]
    batch["priority"] = {"type": "string", "enum": ["low", "high"]}
    batch["usage"] = {"type": "object", "properties": {"input_tokens": {"type": "integer"}}}
    del batch["output_file_id"]
    batch["status"]["enum"] = ["validating", "in_progress", "paused"]  # + paused, - cancelled
    spec["components"]["schemas"]["BatchError"]["properties"]["hint"] = {"type": "string"}  # reached via a $ref
    new = build_fragment(spec, [*OPERATIONS[:2]], OVERRIDES)  # downloadFile dropped
    assert summarize_changes(old, new) == [
        "- operation downloadFile (GET /files/{file_id}/content)",
        "+ field Batch.priority",
        "+ field Batch.usage",  # a new object is named once, not with each of its fields
        "+ field BatchError.hint",  # once, where it is defined: not again as Batch.errors.data[].hint
        "- field Batch.output_file_id",
        "+ enum Batch.status: paused",
        "- enum Batch.status: cancelled",
    ]
    assert summarize_changes(new, copy.deepcopy(new)) == []


def test_summary_survives_a_ref_cycle() -> None:
    fragment = build_fragment(synthetic_spec(), OPERATIONS, OVERRIDES)
    lines = summarize_changes(None, fragment)
    assert "+ schema TreeNode" in lines
    assert "+ operation retrieveBatch (GET /batches/{batch_id})" in lines


def test_remove_deletes_and_optional_skips_only_what_the_document_lacks() -> None:
    removing = {"why": "test", "remove": ["components/schemas/Batch/properties/status/enum"]}
    fragment = build_fragment(synthetic_spec(), OPERATIONS, [*OVERRIDES, removing])
    assert "enum" not in fragment["components"]["schemas"]["Batch"]["properties"]["status"]
    missing = "components/schemas/Batch/properties/paused_at"
    with pytest.raises(SpecError, match="paused_at"):
        build_fragment(synthetic_spec(), OPERATIONS, [*OVERRIDES, {"why": "test", "nullable": [missing]}])
    present = "components/schemas/Batch/properties/output_file_id"
    optional = {"why": "test", "optional": True, "nullable": [missing, present]}
    fragment = build_fragment(synthetic_spec(), OPERATIONS, [*OVERRIDES, optional])
    assert {"type": "null"} in fragment["components"]["schemas"]["Batch"]["properties"]["output_file_id"]["anyOf"]
