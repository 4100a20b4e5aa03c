"""Provider shapes: the fake's batches written the way other servers write them (shared/PROVIDERS.md).

The store keeps OpenAI's shape; a shape is applied to each 2xx JSON reply on its way out, so every route (and
any route added later) answers in it. A shape is a set of quirks, each one kind of difference seen in the wild,
or the name of a preset bundling the quirks attributed to one provider:

    FakeBatchAPI(shape="azure")                           # ISO timestamps, `Validating`, null counts, ...
    fake.shape = {"ms_timestamps", "empty_file_ids"}      # any combination, changeable at any time
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

from batches_ext.testing._wire import JSON_TYPE, Reply, dumps

__all__ = ["PRESETS", "QUIRKS", "check_shape", "render"]

Batch = dict[str, Any]

# Each quirk, and what it does to a batch (or a list page). The docstrings of FakeBatchAPI point here.
QUIRKS: Final[dict[str, str]] = {
    "iso_timestamps": "`*_at` as ISO-8601 strings with 7 fractional digits and an offset (Azure's REST examples)",
    "ms_timestamps": "`*_at` in unix milliseconds (Zhipu)",
    "zero_timestamps": "unset `*_at` as 0 instead of null",
    "missing_timestamps": "unset `*_at` left out instead of null",
    "capitalized_status": "status capitalised: `Validating`, `In_progress` (Azure)",
    "upper_status": "status in upper case: `IN_PROGRESS`",
    "null_counts": "`request_counts` null as a whole",
    "null_count_members": "`request_counts` members that are 0 as null (Azure, Zhipu)",
    "errors_list": "`errors` as a bare list of entries instead of `{object: list, data}` (Groq's docs)",
    "errors_string": "`errors` as one plain string, the messages joined (Cerebras)",
    "no_endpoint": "`endpoint` left out (Azure)",
    "null_endpoint": "`endpoint` null",
    "empty_file_ids": 'file ids that are null as `""` (Zhipu)',
    "list_without_object": "list pages without `object` (Azure)",
    "cursor_paging": "list pages with `paging.next_cursor` instead of first_id, last_id and has_more (Groq)",
}
# The quirks shared/PROVIDERS.md attributes to each provider (a model of those differences, not a replica).
PRESETS: Final[dict[str, frozenset[str]]] = {
    "openai": frozenset(),
    "azure": frozenset(
        {"iso_timestamps", "capitalized_status", "null_count_members", "no_endpoint", "list_without_object"}
    ),
    "zhipu": frozenset({"ms_timestamps", "null_count_members", "empty_file_ids"}),
    "groq": frozenset({"errors_list", "cursor_paging"}),
    "cerebras": frozenset({"errors_string"}),
}
# Quirks that say different things about the same field.
_EXCLUSIVE: Final = (
    {"iso_timestamps", "ms_timestamps"},
    {"zero_timestamps", "missing_timestamps"},
    {"capitalized_status", "upper_status"},
    {"errors_list", "errors_string"},
    {"no_endpoint", "null_endpoint"},
)
_FILE_IDS: Final = ("input_file_id", "output_file_id", "error_file_id")


def check_shape(shape: str | Iterable[str] | None) -> frozenset[str]:
    """The quirks of `shape`: a preset's name, a quirk's name, or several of either; None is OpenAI's shape.

    Raises:
        ValueError: an unknown name, or two quirks that contradict each other.
        TypeError: `shape` is not a str or an iterable of str.

    """
    if shape is None:
        return frozenset()
    names = [shape] if isinstance(shape, str) else list(shape)
    quirks: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"a shape is named by str, got {type(name).__name__}")
        if name in PRESETS:
            quirks |= PRESETS[name]
        elif name in QUIRKS:
            quirks.add(name)
        else:
            known = ", ".join([*PRESETS, *QUIRKS])
            raise ValueError(f"unknown shape {name!r}; known: {known}")
    for group in _EXCLUSIVE:
        if len(clash := group & quirks) > 1:
            raise ValueError(f"shape quirks {sorted(clash)} contradict each other")
    return frozenset(quirks)


def render(reply: Reply, quirks: frozenset[str]) -> Reply:
    """`reply` with its batch (or page of batches) in the shape; other replies are returned as they are."""
    if not quirks or not 200 <= reply.status < 300 or not isinstance(reply.body, bytes):
        return reply
    if reply.headers.get("content-type") != JSON_TYPE:
        return reply
    payload = json.loads(reply.body)
    if not isinstance(payload, dict):
        return reply
    if payload.get("object") == "batch":
        payload = _batch(payload, quirks)
    elif isinstance(payload.get("data"), list):
        payload = _page(payload, quirks)
    else:
        return reply
    return Reply(reply.status, dumps(payload), reply.headers)


def _page(page: dict[str, Any], quirks: frozenset[str]) -> dict[str, Any]:
    data = [_batch(item, quirks) if isinstance(item, dict) and item.get("object") == "batch" else item
            for item in page["data"]]  # fmt: skip
    shaped = {**page, "data": data}
    if "cursor_paging" in quirks:
        cursor = page.get("last_id") if page.get("has_more") else None
        shaped = {"object": page.get("object", "list"), "data": data, "paging": {"next_cursor": cursor}}
    if "list_without_object" in quirks:
        shaped.pop("object", None)
    return shaped


def _batch(batch: Batch, quirks: frozenset[str]) -> Batch:
    shaped = dict(batch)
    for step in _STEPS:
        step(shaped, quirks)
    return shaped


def _timestamps(batch: Batch, quirks: frozenset[str]) -> None:
    for name in [name for name in batch if name.endswith("_at")]:
        value = batch[name]
        if value is None:
            if "zero_timestamps" in quirks:
                batch[name] = 0
            elif "missing_timestamps" in quirks:
                del batch[name]
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if "iso_timestamps" in quirks:
                batch[name] = _iso(value)
            elif "ms_timestamps" in quirks:
                batch[name] = round(value * 1000)


def _iso(seconds: float) -> str:
    """`2024-03-26T17:45:33.1234560+00:00`: seven fractional digits, as .NET writes them."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0+00:00"


def _status(batch: Batch, quirks: frozenset[str]) -> None:
    status = batch.get("status")
    if not isinstance(status, str):
        return
    if "capitalized_status" in quirks:
        batch["status"] = status[:1].upper() + status[1:]
    elif "upper_status" in quirks:
        batch["status"] = status.upper()


def _counts(batch: Batch, quirks: frozenset[str]) -> None:
    counts = batch.get("request_counts")
    if "null_counts" in quirks:
        batch["request_counts"] = None
    elif "null_count_members" in quirks and isinstance(counts, dict):
        batch["request_counts"] = {name: None if value == 0 else value for name, value in counts.items()}


def _errors(batch: Batch, quirks: frozenset[str]) -> None:
    errors = batch.get("errors")
    if not isinstance(errors, dict) or not isinstance(errors.get("data"), list):
        return
    if "errors_list" in quirks:
        batch["errors"] = errors["data"]
    elif "errors_string" in quirks:
        messages = [str(entry.get("message")) for entry in errors["data"] if isinstance(entry, dict)]
        batch["errors"] = "; ".join(messages)


def _endpoint(batch: Batch, quirks: frozenset[str]) -> None:
    if "no_endpoint" in quirks:
        batch.pop("endpoint", None)
    elif "null_endpoint" in quirks:
        batch["endpoint"] = None


def _file_ids(batch: Batch, quirks: frozenset[str]) -> None:
    if "empty_file_ids" in quirks:
        for name in _FILE_IDS:
            if name in batch and batch[name] is None:
                batch[name] = ""


_STEPS: Final[tuple[Callable[[Batch, frozenset[str]], None], ...]] = (
    _timestamps,
    _status,
    _counts,
    _errors,
    _endpoint,
    _file_ids,
)
