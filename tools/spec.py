"""Turn OpenAI's full OpenAPI document into this project's fragment.

Pure functions, no I/O beyond reading and rendering YAML: `build_fragment` extracts the listed operations and the
transitive `$ref` closure of what they use, after upgrading 3.0 nullability to 3.1 and applying the override set
(`openapi/overrides.yaml`). `summarize_changes` tells what a new fragment adds or removes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import yaml

try:  # libyaml parses the multi-megabyte upstream document ~10x faster; fall back to pure Python
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - wheels ship libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

OPENAPI_VERSION = "3.1.0"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keys that only drive OpenAI's documentation site; they hold examples that fail their own schema (SOURCE.md).
DROPPED_KEYS = frozenset({"x-oaiMeta"})
# Top-level keys of the fragment, in the order they are written.
TOP_LEVEL_ORDER = ("openapi", "info", "servers", "security", "tags", "paths", "components")


class SpecError(Exception):
    """The upstream document or the override set cannot produce a fragment."""


def parse_yaml(text: str) -> Any:
    """Parse YAML (or JSON, a subset of YAML) text."""
    return yaml.load(text, Loader=_Loader)


def parse_operation_ids(text: str) -> list[str]:
    """Return the operation ids listed one per line, `#` comments and blank lines ignored."""
    ids = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [op_id for op_id in ids if op_id]


def build_fragment(
    document: dict[str, Any], operation_ids: list[str], overrides: list[dict[str, Any]]
) -> dict[str, Any]:
    """Extract `operation_ids` and their `$ref` closure from `document`, with the overrides applied.

    Raises:
        SpecError: an operation is missing, a `$ref` dangles, or an override targets nothing.
    """
    doc = copy.deepcopy(document)
    operations = _find_operations(doc)
    missing = [op_id for op_id in operation_ids if op_id not in operations]
    if missing:
        raise SpecError(f"operation(s) not found in the upstream document: {', '.join(missing)}")
    _upgrade_nullable(doc)
    _apply_overrides(doc, operations, overrides)

    paths: dict[str, dict[str, Any]] = {}
    for op_id in operation_ids:
        path, method = operations[op_id]
        paths.setdefault(path, {})[method] = _strip(doc["paths"][path][method])
    components = _ref_closure(doc, paths)

    used_tags = {tag for item in paths.values() for op in item.values() for tag in op.get("tags", [])}
    fragment: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {k: doc["info"][k] for k in ("title", "description", "version") if k in doc.get("info", {})},
        "servers": doc.get("servers", []),
        "security": doc.get("security", []),
        "tags": [_strip(tag) for tag in doc.get("tags", []) if tag.get("name") in used_tags],
        "paths": paths,
        "components": components,
    }
    fragment["components"]["securitySchemes"] = {
        name: scheme
        for name, scheme in doc.get("components", {}).get("securitySchemes", {}).items()
        if any(name in requirement for requirement in fragment["security"])
    }
    return {key: fragment[key] for key in TOP_LEVEL_ORDER if fragment.get(key) not in (None, [], {})}


def render_fragment(fragment: dict[str, Any], header: str) -> str:
    """Render the fragment as YAML with sorted keys and block-style multi-line strings."""
    body = yaml.dump(fragment, Dumper=_BlockDumper, sort_keys=True, allow_unicode=True, width=120)
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + body


def summarize_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Describe operations, fields and enum values that `new` adds or removes compared with `old`."""
    old_ops, new_ops = _operation_index(old or {}), _operation_index(new)
    old_fields, new_fields = _field_index(old or {}), _field_index(new)
    lines = [f"+ operation {op}" for op in sorted(new_ops.keys() - old_ops.keys())]
    lines += [f"- operation {op}" for op in sorted(old_ops.keys() - new_ops.keys())]
    lines += [f"+ field {f}" for f in _outermost(new_fields.keys() - old_fields.keys())]
    lines += [f"- field {f}" for f in _outermost(old_fields.keys() - new_fields.keys())]
    for field in sorted(old_fields.keys() & new_fields.keys()):
        before, after = old_fields[field], new_fields[field]
        lines += [f"+ enum {field}: {value}" for value in sorted(after - before)]
        lines += [f"- enum {field}: {value}" for value in sorted(before - after)]
    return lines


# --- extraction -------------------------------------------------------------------------------------------------


def _find_operations(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = (path, method)
    return found


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in DROPPED_KEYS}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


_LOCAL_REF = re.compile(r"^#/components/([A-Za-z]+)/([^/]+)$")


def _ref_closure(doc: dict[str, Any], roots: Any) -> dict[str, dict[str, Any]]:
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(roots))
    while pending:
        ref = pending.pop()
        match = _LOCAL_REF.match(ref)
        if not match:
            raise SpecError(f"unsupported $ref {ref!r}: only '#/components/<kind>/<name>' is followed")
        kind, name = match.groups()
        if name in components.get(kind, {}):
            continue
        target = doc.get("components", {}).get(kind, {}).get(name)
        if target is None:
            raise SpecError(f"dangling $ref {ref!r}: no such component in the upstream document")
        components.setdefault(kind, {})[name] = _strip(target)
        pending.extend(_refs(target))
    return components


# --- 3.0 nullability --------------------------------------------------------------------------------------------


def _upgrade_nullable(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 `nullable: true` as the 3.1 `anyOf [..., {type: 'null'}]`, in place."""
    if isinstance(node, list):
        for i, value in enumerate(node):
            node[i] = _upgrade_nullable(value)
        return node
    if not isinstance(node, dict):
        return node
    for key, value in list(node.items()):
        node[key] = _upgrade_nullable(value)
    if node.get("nullable") is True:
        del node["nullable"]
        return _make_nullable(node)
    return node


def _is_nullable(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(
        isinstance(s, dict) and s.get("type") == "null" for s in schema.get("anyOf", []) + schema.get("oneOf", [])
    )


def _make_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if _is_nullable(schema):
        return schema
    description = schema.pop("description", None)
    wrapped: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]}
    if description is not None:  # keep the description where readers and the generator look for it
        wrapped["description"] = description
    return wrapped


# --- overrides --------------------------------------------------------------------------------------------------


def _apply_overrides(
    doc: dict[str, Any], operations: dict[str, tuple[str, str]], overrides: list[dict[str, Any]]
) -> None:
    for number, entry in enumerate(overrides, start=1):
        if not isinstance(entry, dict) or not entry.get("why"):
            raise SpecError(f"override #{number} must be a mapping with a 'why'")
        if "nullable" in entry:
            for target in entry["nullable"]:
                parent, key = _locate(doc, operations, target, number)
                parent[key] = _make_nullable(parent[key])
        for action in ("merge", "set"):
            if action not in entry:
                continue
            spec = entry[action]
            for target in spec["at"]:
                parent, key = _locate(doc, operations, target, number)
                value = copy.deepcopy(spec["value"])
                parent[key] = _deep_merge(parent[key], value) if action == "merge" else value


def _locate(doc: dict[str, Any], operations: dict[str, tuple[str, str]], target: str, number: int) -> tuple[Any, Any]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in target.split("/")]
    node: Any = doc
    if parts[0].startswith("op:"):
        op_id = parts.pop(0)[3:]
        if op_id not in operations:
            raise SpecError(f"override #{number} targets unknown operation {op_id!r}")
        path, method = operations[op_id]
        node = doc["paths"][path][method]
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(node, dict) else None
        if node is None:
            raise SpecError(f"override #{number} targets {target!r}, which the upstream document does not have")
    last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
    if (isinstance(node, list) and last >= len(node)) or (isinstance(node, dict) and last not in node):
        raise SpecError(f"override #{number} targets {target!r}, which the upstream document does not have")
    return node, last


def _deep_merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = _deep_merge(base[key], value) if key in base else value
        return merged
    return extra


# --- rendering --------------------------------------------------------------------------------------------------


class _BlockDumper(_Dumper):  # type: ignore[misc, valid-type]
    """Writes multi-line strings as `|` blocks, so description changes diff line by line."""


def _represent_str(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value and not any(c in value for c in "\t\r") and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


# --- change summary ---------------------------------------------------------------------------------------------


def _operation_index(fragment: dict[str, Any]) -> dict[str, str]:
    return {
        op["operationId"]: f"{method.upper()} {path}"
        for path, item in fragment.get("paths", {}).items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def _field_index(fragment: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Map every field path (`Batch.usage.input_tokens`) to its enum values (empty when not an enum)."""
    index: dict[str, frozenset[str]] = {}
    for name, schema in fragment.get("components", {}).get("schemas", {}).items():
        _walk_fields(schema, name, index)
    return index


def _walk_fields(schema: Any, prefix: str, index: dict[str, frozenset[str]]) -> None:
    if not isinstance(schema, dict):
        return
    index[prefix] = index.get(prefix, frozenset()) | frozenset(str(v) for v in schema.get("enum", []))
    for key in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(key, []):
            _walk_fields(member, prefix, index)
    for field, sub in schema.get("properties", {}).items():
        _walk_fields(sub, f"{prefix}.{field}", index)
    if isinstance(schema.get("items"), dict):
        _walk_fields(schema["items"], f"{prefix}[]", index)


def _outermost(fields: set[str]) -> list[str]:
    """Drop fields whose parent is in the set too: a new object is named once, not with each of its children."""
    return sorted(f for f in fields if not any(f.startswith(p + ".") or f.startswith(p + "[]") for p in fields))
