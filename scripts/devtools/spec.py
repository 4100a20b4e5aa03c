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
# Keys of a path item that its operations inherit.
PATH_ITEM_SHARED_KEYS = ("parameters", "servers")
# Keys whose values are data (examples, defaults, enum members), never schemas: nothing inside them is rewritten.
DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})
# Keys whose values map property names to schemas.
NAMED_SCHEMA_KEYS = frozenset({"properties", "patternProperties"})
# Top-level keys the fragment may have (rendering sorts them, like every other key, for stable diffs).
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
    operations = _find_operations(doc, operation_ids)
    missing = [op_id for op_id in operation_ids if op_id not in operations]
    if missing:
        raise SpecError(f"operation(s) not found in the upstream document: {', '.join(missing)}")
    _upgrade_nullable(doc)
    _apply_overrides(doc, operations, overrides)

    paths: dict[str, dict[str, Any]] = {}
    for op_id in operation_ids:
        path, method = operations[op_id]
        item = paths.setdefault(path, {})
        item[method] = _strip(doc["paths"][path][method])
        for shared in PATH_ITEM_SHARED_KEYS:  # they apply to every operation of the path, so they come along
            if shared in doc["paths"][path]:
                item[shared] = _strip(doc["paths"][path][shared])
    components = _ref_closure(doc, paths)

    used_tags = {tag for op_id in operation_ids for tag in _operation(doc, operations, op_id).get("tags", [])}
    fragment: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {k: doc["info"][k] for k in ("title", "description", "version") if k in doc.get("info", {})},
        "servers": doc.get("servers", []),
        "security": doc.get("security", []),
        "tags": [_strip(tag) for tag in doc.get("tags", []) if tag.get("name") in used_tags],
        "paths": paths,
        "components": components,
    }
    requirements = fragment["security"] + [
        requirement for op_id in operation_ids for requirement in _operation(doc, operations, op_id).get("security", [])
    ]
    fragment["components"]["securitySchemes"] = {
        name: scheme
        for name, scheme in doc.get("components", {}).get("securitySchemes", {}).items()
        if any(name in requirement for requirement in requirements)
    }
    return {key: fragment[key] for key in TOP_LEVEL_ORDER if fragment.get(key) not in (None, [], {})}


def render_fragment(fragment: dict[str, Any], header: str) -> str:
    """Render the fragment as YAML with sorted keys and block-style multi-line strings."""
    body = str(yaml.dump(fragment, Dumper=_BlockDumper, sort_keys=True, allow_unicode=True, width=120))
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + body


def summarize_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Describe operations, schemas, fields and enum values that `new` adds or removes compared with `old`.

    Fields are indexed with `$ref`s followed, so moving an inline object into a named component (as upstream did
    with `Batch.request_counts`) changes nothing field-wise; the new component is reported as a schema.
    """
    old_ops, new_ops = _operation_index(old or {}), _operation_index(new)
    old_fields, new_fields = _field_index(old or {}), _field_index(new)
    # A change inside a named schema is reported once, where it is defined, not again at every place that uses it.
    old_canon, new_canon = _canonical_paths(old or {}), _canonical_paths(new)
    added = {new_canon[f] for f in new_fields.keys() - old_fields.keys()}
    removed = {old_canon[f] for f in old_fields.keys() - new_fields.keys()}
    lines = [f"+ operation {op} ({new_ops[op]})" for op in sorted(new_ops.keys() - old_ops.keys())]
    lines += [f"- operation {op} ({old_ops[op]})" for op in sorted(old_ops.keys() - new_ops.keys())]
    lines += [f"+ {_kind(f)} {f}" for f in _outermost(added)]
    lines += [f"- {_kind(f)} {f}" for f in _outermost(removed)]
    enum_changes: dict[str, None] = {}  # ordered and deduplicated
    for field in sorted(old_fields.keys() & new_fields.keys()):
        before, after = old_fields[field], new_fields[field]
        where = new_canon[field]
        enum_changes.update(dict.fromkeys(f"+ enum {where}: {value}" for value in sorted(after - before)))
        enum_changes.update(dict.fromkeys(f"- enum {where}: {value}" for value in sorted(before - after)))
    lines += enum_changes
    return lines


# --- extraction -------------------------------------------------------------------------------------------------


def _find_operations(doc: dict[str, Any], wanted: list[str]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            op_id = op["operationId"]
            if op_id in found and op_id in wanted:
                where = " and ".join(f"{m.upper()} {p}" for p, m in (found[op_id], (path, method)))
                raise SpecError(f"operation {op_id!r} is ambiguous: the upstream document has it at {where}")
            found[op_id] = (path, method)
    return found


def _operation(doc: dict[str, Any], operations: dict[str, tuple[str, str]], op_id: str) -> dict[str, Any]:
    path, method = operations[op_id]
    operation: dict[str, Any] = doc["paths"][path][method]
    return operation


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


_LOCAL_REF = re.compile(r"^#/components/([^/]+)/([^/]+)(/.*)?$")


def _ref_closure(doc: dict[str, Any], roots: Any) -> dict[str, dict[str, Any]]:
    """Return every component that `roots` reference, directly or through other components, by kind and name.

    A `$ref` may point into a component (`#/components/schemas/A/properties/b`): the whole component is taken, so
    the pointer stays valid in the fragment.
    """
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(roots))
    while pending:
        ref = pending.pop()
        match = _LOCAL_REF.match(ref)
        if not match:
            raise SpecError(f"unsupported $ref {ref!r}: only '#/components/<kind>/<name>[/...]' is followed")
        kind, name, rest = _unescape(match[1]), _unescape(match[2]), match[3]
        target = doc.get("components", {}).get(kind, {}).get(name)
        if not isinstance(target, dict):
            raise SpecError(f"dangling $ref {ref!r}: no such component in the upstream document")
        if rest and _follow(target, [_unescape(p) for p in rest.strip("/").split("/")]) is None:
            raise SpecError(f"dangling $ref {ref!r}: component {name!r} has no {rest!r}")
        if name in components.get(kind, {}):
            continue
        components.setdefault(kind, {})[name] = _strip(target)
        pending.extend(_refs(target))
    return components


def _unescape(part: str) -> str:
    """Decode one JSON-pointer segment (RFC 6901: `~1` is `/`, `~0` is `~`)."""
    return part.replace("~1", "/").replace("~0", "~")


def _follow(node: Any, parts: list[str]) -> Any:
    """Follow the decoded pointer segments `parts` from `node`; None when they lead nowhere."""
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


# --- 3.0 nullability --------------------------------------------------------------------------------------------


def _upgrade_nullable(node: Any, *, named: bool = False) -> Any:
    """Rewrite OpenAPI 3.0 `nullable: true` as the 3.1 `anyOf [..., {type: 'null'}]`, in place.

    `nullable: false` (the 3.0 default, unknown to 3.1) is dropped. Examples, defaults and enum members are data,
    not schemas, and are left alone even when they hold a `nullable` key; `named` says that `node`'s keys are
    property names (a property may well be called `default`), not keywords.
    """
    if isinstance(node, list):
        for i, value in enumerate(node):
            node[i] = _upgrade_nullable(value)
        return node
    if not isinstance(node, dict):
        return node
    for key, value in list(node.items()):
        if named or (key not in DATA_KEYS and not key.startswith("x-")):
            node[key] = _upgrade_nullable(value, named=not named and key in NAMED_SCHEMA_KEYS)
    nullable = None if named else node.get("nullable")
    if isinstance(nullable, bool):
        del node["nullable"]
        return _make_nullable(node) if nullable else node
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


OVERRIDE_ACTIONS = ("nullable", "merge", "set", "remove")


def _apply_overrides(
    doc: dict[str, Any], operations: dict[str, tuple[str, str]], overrides: list[dict[str, Any]]
) -> None:
    if not isinstance(overrides, list):
        raise SpecError("the override set must be a YAML list of entries")
    for number, entry in enumerate(overrides, start=1):
        if not isinstance(entry, dict) or not entry.get("why"):
            raise SpecError(f"override #{number} must be a mapping with a 'why'")
        unknown = sorted(set(entry) - {"why", "optional", *OVERRIDE_ACTIONS})
        if unknown or not any(action in entry for action in OVERRIDE_ACTIONS):
            raise SpecError(
                f"override #{number} must use one of {', '.join(OVERRIDE_ACTIONS)}"
                + (f"; unknown key(s): {', '.join(unknown)}" if unknown else "")
            )
        optional = entry.get("optional", False)
        if "nullable" in entry:
            for parent, key in _present(doc, operations, entry["nullable"], number, "nullable", optional=optional):
                parent[key] = _make_nullable(parent[key])
        if "remove" in entry:
            for parent, key in _present(doc, operations, entry["remove"], number, "remove", optional=optional):
                del parent[key]
        for action in ("merge", "set"):
            if action not in entry:
                continue
            spec = entry[action]
            if not isinstance(spec, dict) or "value" not in spec:
                raise SpecError(f"override #{number}: '{action}' needs 'at' (a list of targets) and 'value'")
            for parent, key in _present(doc, operations, spec.get("at"), number, f"{action}.at", optional=optional):
                value = copy.deepcopy(spec["value"])
                parent[key] = _deep_merge(parent[key], value) if action == "merge" else value


def _present(
    doc: dict[str, Any],
    operations: dict[str, tuple[str, str]],
    targets: Any,
    number: int,
    where: str,
    *,
    optional: bool,
) -> Iterator[tuple[Any, Any]]:
    """The container and key of each target; with `optional`, targets the document lacks are skipped."""
    for target in _targets(targets, number, where):
        try:
            yield _locate(doc, operations, target, number)
        except SpecError:
            if not optional:
                raise


def _targets(value: Any, number: int, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(t, str) and t for t in value):
        raise SpecError(f"override #{number}: '{where}' must be a non-empty list of targets")
    return value


def _locate(doc: dict[str, Any], operations: dict[str, tuple[str, str]], target: str, number: int) -> tuple[Any, Any]:
    """Return the container of `target` and the key (or index) of `target` in it."""
    parts = [_unescape(p) for p in target.strip("/").split("/")]
    node: Any = doc
    if parts[0].startswith("op:"):
        op_id = parts.pop(0)[3:]
        if op_id not in operations:
            raise SpecError(f"override #{number} targets unknown operation {op_id!r}")
        if not parts:
            raise SpecError(f"override #{number} targets the whole operation {op_id!r}; name a part of it")
        path, method = operations[op_id]
        node = doc["paths"][path][method]
    node, last = _follow(node, parts[:-1]), parts[-1]
    if isinstance(node, dict) and last in node:
        return node, last
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        return node, int(last)
    raise SpecError(f"override #{number} targets {target!r}, which the upstream document does not have")


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
    """Map every schema and field path (`Batch`, `Batch.usage.input_tokens`) to its enum values (often none)."""
    return {path: enums for path, (enums, _) in _field_entries(fragment).items()}


def _canonical_paths(fragment: dict[str, Any]) -> dict[str, str]:
    """Map every field path to where it is defined: `ListBatchesResponse.data[].model` to `Batch.model`."""
    return {path: canonical for path, (_, canonical) in _field_entries(fragment).items()}


def _field_entries(fragment: dict[str, Any]) -> dict[str, tuple[frozenset[str], str]]:
    schemas = fragment.get("components", {}).get("schemas", {})
    index: dict[str, tuple[frozenset[str], str]] = {}
    for name, schema in schemas.items():
        _walk_fields(schema, name, name, index, schemas, (f"#/components/schemas/{name}",))
    return index


def _walk_fields(
    schema: Any,
    prefix: str,
    canonical: str,
    index: dict[str, tuple[frozenset[str], str]],
    schemas: dict[str, Any],
    seen: tuple[str, ...],
) -> None:
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        match = _LOCAL_REF.match(ref)
        if ref in seen or not match or match[1] != "schemas" or match[3]:  # a cycle, or nothing to index
            index.setdefault(prefix, (frozenset(), canonical))
            return
        name = _unescape(match[2])
        index.setdefault(prefix, (frozenset(), canonical))  # the field is defined here; what it holds, in `name`
        _walk_fields(schemas.get(name), prefix, name, index, schemas, (*seen, ref))
        return
    enums, defined_at = index.get(prefix, (frozenset(), canonical))
    index[prefix] = (enums | frozenset(str(v) for v in schema.get("enum", [])), defined_at)
    for key in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(key, []):
            _walk_fields(member, prefix, canonical, index, schemas, seen)
    for field, sub in schema.get("properties", {}).items():
        _walk_fields(sub, f"{prefix}.{field}", f"{canonical}.{field}", index, schemas, seen)
    if isinstance(schema.get("items"), dict):
        _walk_fields(schema["items"], f"{prefix}[]", f"{canonical}[]", index, schemas, seen)


def _kind(path: str) -> str:
    return "field" if "." in path or "[]" in path else "schema"


def _outermost(fields: set[str]) -> list[str]:
    """Drop fields whose parent is in the set too: a new object is named once, not with each of its children."""
    return sorted(f for f in fields if not any(f.startswith(p + ".") or f.startswith(p + "[]") for p in fields))
