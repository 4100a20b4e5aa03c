"""The async client is generated from the sync one (scripts/devtools/unasync.py); the committed copy must be current."""

from __future__ import annotations

from devtools import unasync


def test_async_client_is_generated_from_the_sync_one() -> None:
    assert unasync.TARGET.read_text() == unasync.render(), "run: .venv/bin/python -m devtools.unasync"
