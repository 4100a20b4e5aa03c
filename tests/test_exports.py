"""The public surface: `__all__` lists exactly what the package exposes (ruff's RUF022 keeps it sorted)."""

from __future__ import annotations

import inspect

import batches_ext
from batches_ext import errors

SUBMODULES_MEANT_PUBLIC = {"convert", "errors"}


def exposed(module: object) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_") and not inspect.ismodule(getattr(module, name))}


def test_all_matches_what_the_package_exposes() -> None:
    assert len(set(batches_ext.__all__)) == len(batches_ext.__all__)
    assert set(batches_ext.__all__) == exposed(batches_ext) | SUBMODULES_MEANT_PUBLIC | {"__version__"}
    for name in batches_ext.__all__:
        assert hasattr(batches_ext, name)


def test_errors_all() -> None:
    defined_here = {n for n in exposed(errors) if getattr(getattr(errors, n), "__module__", "") == errors.__name__}
    assert set(errors.__all__) == defined_here


def test_batch_status_is_the_generated_enum() -> None:
    from openai_batches_client.models.batch_status import BatchStatus

    assert batches_ext.BatchStatus is BatchStatus
    assert {s.value for s in BatchStatus} == {
        "validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled",
    }  # fmt: skip
