"""Wire payloads taken from the API docs the project is built from (shared/seeds), for tests to share."""

from __future__ import annotations

import copy
from typing import Any

# The eight statuses the seeds document, in their order.
DOCUMENTED_STATUSES = (
    "validating",
    "failed",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
)

# seeds/002 (OpenAI's batch object example): a completed batch, with the nulls the API really sends.
# (The seed's text has a trailing comma after the last metadata entry; it is dropped here.)
SEED_COMPLETED: dict[str, Any] = {
    "id": "batch_abc123",
    "object": "batch",
    "endpoint": "/v1/completions",
    "model": "gpt-5-2025-08-07",
    "errors": None,
    "input_file_id": "file-abc123",
    "completion_window": "24h",
    "status": "completed",
    "output_file_id": "file-cvaTdG",
    "error_file_id": "file-HOWS94",
    "created_at": 1711471533,
    "in_progress_at": 1711471538,
    "expires_at": 1711557933,
    "finalizing_at": 1711493133,
    "completed_at": 1711493163,
    "failed_at": None,
    "expired_at": None,
    "cancelling_at": None,
    "cancelled_at": None,
    "request_counts": {"total": 100, "completed": 95, "failed": 5},
    "usage": {
        "input_tokens": 1500,
        "input_tokens_details": {"cached_tokens": 1024},
        "output_tokens": 500,
        "output_tokens_details": {"reasoning_tokens": 300},
        "total_tokens": 2000,
    },
    "metadata": {"customer_id": "user_123456789", "batch_description": "Nightly eval job"},
}

# Upstream's cancelBatch example: the batch as the cancel call returns it.
CANCELLING: dict[str, Any] = {
    "id": "batch_abc123",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "errors": None,
    "input_file_id": "file-abc123",
    "completion_window": "24h",
    "status": "cancelling",
    "output_file_id": None,
    "error_file_id": None,
    "created_at": 1711471533,
    "in_progress_at": 1711471538,
    "expires_at": 1711557933,
    "finalizing_at": None,
    "completed_at": None,
    "failed_at": None,
    "expired_at": None,
    "cancelling_at": 1711475133,
    "cancelled_at": None,
    "request_counts": {"total": 100, "completed": 23, "failed": 1},
    "metadata": {"customer_id": "user_123456789", "batch_description": "Nightly eval job"},
}

# seeds/000 (the generated-docs example): every field present and non-null.
ALL_FIELDS: dict[str, Any] = {
    "id": "id",
    "completion_window": "completion_window",
    "created_at": 0,
    "endpoint": "endpoint",
    "input_file_id": "input_file_id",
    "object": "batch",
    "status": "validating",
    "cancelled_at": 0,
    "cancelling_at": 0,
    "completed_at": 0,
    "error_file_id": "error_file_id",
    "errors": {"data": [{"code": "code", "line": 0, "message": "message", "param": "param"}], "object": "object"},
    "expired_at": 0,
    "expires_at": 0,
    "failed_at": 0,
    "finalizing_at": 0,
    "in_progress_at": 0,
    "metadata": {"foo": "string"},
    "model": "model",
    "output_file_id": "output_file_id",
    "request_counts": {"completed": 0, "failed": 0, "total": 0},
    "usage": {
        "input_tokens": 0,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 0,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 0,
    },
}

# Only the required fields.
MINIMAL: dict[str, Any] = {
    "id": "batch_min",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "input_file_id": "file-1",
    "completion_window": "24h",
    "status": "in_progress",
    "created_at": 1711471533,
}


def batch(base: dict[str, Any] = CANCELLING, **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with `changes` applied."""
    data = copy.deepcopy(base)
    data.update(changes)
    return data
