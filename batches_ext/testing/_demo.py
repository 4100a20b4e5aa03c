"""The batches a demo server starts with: one of each situation a cancel meets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batches_ext.testing._app import FakeBatchAPI

__all__ = ["seed_demo"]

_DEMO_METADATA = {"source": "batches-ext demo"}


def seed_demo(api: FakeBatchAPI) -> list[dict[str, Any]]:
    """Add the demo batches to `api` and return their wire JSON.

    One running batch that progresses while polled (cancel it to get partial results), one still validating, one
    already completed (cancelling it is a 400) and one already cancelled with partial results to download.
    """
    return [
        api.add_batch(
            "batch_demo_running", status="in_progress", total=100, completed=40, failed=2, progress_per_poll=3,
            metadata={**_DEMO_METADATA, "try": "cancel me"},
        ),
        api.add_batch("batch_demo_validating", status="validating", total=50, metadata=_DEMO_METADATA),
        api.add_batch("batch_demo_completed", status="completed", total=20, completed=19, failed=1,
                      metadata=_DEMO_METADATA),
        api.add_batch("batch_demo_cancelled", status="cancelled", total=100, completed=23, failed=1,
                      metadata=_DEMO_METADATA),
    ]  # fmt: skip
