"""The benchmark's results as a markdown table, with the issue's targets marked met or missed."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

CLIENT_LABELS: Final = {"batches_ext": "batches_ext", "openai": "openai SDK", "httpx": "floor: httpx + json"}


@dataclass(frozen=True)
class Row:
    """One measure: its label, unit, whether bigger is better, and how its target is judged."""

    key: str
    label: str
    fmt: str
    higher_is_better: bool = False
    target: str = "—"
    judge: Callable[[dict[str, float | None]], bool] | None = None


def _ratio(values: dict[str, float | None], name: str, other: str) -> float | None:
    mine, theirs = values.get(name), values.get(other)
    if mine is None or theirs is None or theirs == 0:
        return None
    return mine / theirs


def _at_most(factor: float, other: str) -> Callable[[dict[str, float | None]], bool]:
    return lambda v: (r := _ratio(v, "batches_ext", other)) is not None and r <= factor


def _at_least(factor: float, other: str) -> Callable[[dict[str, float | None]], bool]:
    return lambda v: (r := _ratio(v, "batches_ext", other)) is not None and r >= factor


def _cpu_judge(values: dict[str, float | None]) -> bool:
    return _at_most(0.5, "openai")(values) and _at_most(1.5, "httpx")(values)


def _results_judge(values: dict[str, float | None]) -> bool:
    mine = values.get("batches_ext")
    return mine is not None and mine <= 50


ROWS: Final = (
    Row(
        "import",
        "Import time (ms, fresh interpreter, this venv)",
        "{:.0f}",
        target="≤ 0.25x openai",
        judge=_at_most(0.25, "openai"),
    ),
    Row(
        "import_min",
        "Import time without httpx's CLI extras (ms, as users install it)",
        "{:.0f}",
        target="≤ 0.25x openai",
        judge=_at_most(0.25, "openai"),
    ),
    Row(
        "cpu", "Client CPU per sync `cancel` (µs)", "{:.0f}", target="≤ 0.5x openai and ≤ 1.5x floor", judge=_cpu_judge
    ),
    Row(
        "async",
        "Async throughput at concurrency {concurrency} (req/s)",
        "{:.0f}",
        True,
        "≥ 2x openai",
        _at_least(2.0, "openai"),
    ),
    Row("parse", "Parse one Batch from wire JSON (µs)", "{:.1f}"),
    Row("hold", "Memory holding {hold:,} Batches (MB)", "{:.0f}"),
    Row(
        "results",
        "Peak memory iterating a {results_mb:.0f} MB results file (MB)",
        "{:.1f}",
        target="≤ 50 MB",
        judge=_results_judge,
    ),
)


def median(samples: list[float]) -> float:
    """The median: every figure in the table is one."""
    return statistics.median(samples)


def verdicts(values: dict[str, dict[str, float | None]]) -> dict[str, str]:
    """For each row with a target: "met", "missed", or "n/a" when batches_ext has no number."""
    out = {}
    for row in ROWS:
        if row.judge is None:
            continue
        row_values = values.get(row.key, {})
        if row_values.get("batches_ext") is None:
            out[row.key] = "n/a"
        else:
            out[row.key] = "met" if row.judge(row_values) else "missed"
    return out


def table(
    values: dict[str, dict[str, float | None]],
    notes: dict[str, dict[str, str]] | None = None,
    hold: int = 100_000,
    results_bytes: int = 200_000_000,
    concurrency: int = 64,
) -> str:
    """The markdown table: one row per measure in `ROWS`, a column per client, ratios to the floor, the target.

    `values[row][client]` is the median (None when not measured); `notes[row][client]` replaces a missing value.
    The other arguments fill in the row labels.
    """
    notes = notes or {}
    judged = verdicts(values)
    head = [
        "Measure",
        *CLIENT_LABELS.values(),
        "batches_ext ÷ floor",
        "openai ÷ floor",
        "Target (batches_ext)",
        "Met?",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in ROWS:
        row_values = values.get(row.key, {})
        cells = [row.label.format(hold=hold, results_mb=results_bytes / 1e6, concurrency=concurrency)]
        for client in CLIENT_LABELS:
            value = row_values.get(client)
            note = notes.get(row.key, {}).get(client, "not measured")
            cells.append(row.fmt.format(value) if value is not None else note)
        for client in ("batches_ext", "openai"):
            ratio = _ratio(row_values, client, "httpx")
            cells.append(f"{ratio:.2f}x" if ratio is not None else "—")
        cells.append(row.target)
        verdict = judged.get(row.key, "—")
        cells.append("**missed**" if verdict == "missed" else verdict)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summarize(raw: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, float | None]], dict[str, dict[str, str]]]:
    """Medians per row and client from the workers' raw samples, and a note wherever there is no number."""
    sample_key = {
        "import": "ms",
        "import_min": "ms",
        "cpu": "cpu_us",
        "async": "rps",
        "parse": "us",
        "hold": "mb",
        "results": "mb",
    }
    values: dict[str, dict[str, float | None]] = {}
    notes: dict[str, dict[str, str]] = {}
    for row, per_client in raw.items():
        for client, result in per_client.items():
            samples = result.get(sample_key[row])
            if isinstance(samples, list):
                values.setdefault(row, {})[client] = median(samples)
            elif isinstance(samples, int | float):
                values.setdefault(row, {})[client] = float(samples)
            else:
                values.setdefault(row, {})[client] = None
                notes.setdefault(row, {})[client] = f"n/a ({result.get('reason', 'no result')})"
    return values, notes
