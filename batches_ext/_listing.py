"""Paging and filtering for `list` and `find`, shared by the sync and async clients: every decision, no I/O.

`Pager` is the cursor state of one walk through `GET /batches` (what to ask for next, when to stop). `BatchFilter`
holds `find`'s criteria: which batches match, and when the `created_after` bound proves that no later page can hold
a match. That proof rests on the API listing newest first; a walk stops trusting it for good as soon as what it has
seen contradicts it (a batch newer than one before it), and then reads to the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final

from batches_ext import convert
from batches_ext._batch import Batch
from batches_ext._ids import check_id
from batches_ext._page import BatchPage
from batches_ext.errors import APIResponseValidationError

__all__ = ["MAX_PAGE_SIZE", "BatchFilter", "Pager", "check_page_size"]

MAX_PAGE_SIZE: Final = 100  # the API's documented range for `limit` is 1-100 (default 20)


def check_page_size(limit: object) -> int | None:
    """Return `limit` if it is None or an int in 1..MAX_PAGE_SIZE, else raise `ValueError` naming the problem."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValueError(  # noqa: TRY004 - the contract is ValueError
            f"limit must be an int from 1 to {MAX_PAGE_SIZE} or None, not {type(limit).__name__}"
        )
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be from 1 to {MAX_PAGE_SIZE} (the API's page size range), got {limit}")
    return limit


class Pager:
    """Where a walk through the pages is: the `after` cursor for the next request, or done.

    Args:
        limit: the page size to ask for (1-100); None leaves it to the server (20 on OpenAI).
        after: start after this batch id (a previous page's `last_id`); None starts at the newest.

    Raises:
        ValueError: `limit` or `after` is not usable (checked here, before anything is sent).

    """

    __slots__ = ("after", "done", "limit", "pages")

    def __init__(self, *, limit: int | None = None, after: str | None = None) -> None:
        self.limit = check_page_size(limit)
        self.after = None if after is None else check_id(after, "after")
        self.done = False
        self.pages = 0

    def observe(self, page: BatchPage) -> None:
        """Take in a page just received: move the cursor on, or finish when the server says there is no more.

        Raises:
            APIResponseValidationError: the server says there is more but points back at the cursor it was just
                asked for (the walk would never end).

        """
        self.pages += 1
        cursor = page.next_cursor
        if cursor is None:
            self.done = True
            return
        if cursor == self.after:
            self.done = True
            raise APIResponseValidationError(
                f"the server listed more batches after {cursor!r} but gave {cursor!r} again as the next cursor "
                f"(page {self.pages}): paging would never end"
            )
        self.after = cursor


def _instant(value: object, name: str) -> datetime | None:
    """A bound given as an aware datetime or unix seconds, as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware (a naive datetime could be any time zone)")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be an aware datetime or unix seconds, got {value!r}")
    return convert.from_unix(value)


def _texts(value: object, name: str) -> frozenset[str] | None:
    """One non-empty string or an iterable of them, as a set; None for None."""
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Iterable):
        raise ValueError(  # noqa: TRY004 - the contract is ValueError
            f"{name} must be a str or an iterable of str, got {type(value).__name__}"
        )
    items = list(values)
    if not items:
        raise ValueError(f"{name} must name at least one value (None for any)")
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"every {name} must be a non-empty str, got {item!r}")
    return frozenset(items)


def _endpoint_key(endpoint: str) -> str:
    # OpenAI writes `/v1/chat/completions`, Azure and others `/chat/completions`: the same endpoint.
    path = endpoint.strip()
    return path[3:] if path.startswith("/v1/") else path


class BatchFilter:
    """`find`'s criteria; every given one must hold (status: any of those given; metadata: every given key equals).

    Args:
        status: a status or several; compared whatever the case (`IN_PROGRESS` is `in_progress`).
        metadata: keys and the values they must have.
        created_after: only batches created strictly after this (an aware datetime or unix seconds).
        created_before: only batches created strictly before this.
        endpoint: the batch's endpoint (`/v1/chat/completions` and `/chat/completions` are the same).
        model: the batch's model, exactly.

    Raises:
        ValueError: a criterion of the wrong type or empty (checked here, before anything is sent).

    """

    __slots__ = (
        "_newest_seen_last",
        "_trusted",
        "created_after",
        "created_before",
        "endpoints",
        "metadata",
        "models",
        "statuses",
    )

    def __init__(
        self,
        *,
        status: str | Iterable[str] | None = None,
        metadata: Mapping[str, object] | None = None,
        created_after: datetime | float | None = None,
        created_before: datetime | float | None = None,
        endpoint: str | None = None,
        model: str | None = None,
    ) -> None:
        statuses = _texts(status, "status")
        self.statuses = None if statuses is None else frozenset(str(convert.to_status(s)).casefold() for s in statuses)
        if metadata is not None:
            if not isinstance(metadata, Mapping):
                raise ValueError(f"metadata must be a mapping of keys to values, got {type(metadata).__name__}")
            if not all(isinstance(key, str) for key in metadata):
                raise ValueError("metadata keys must be str")
        self.metadata = dict(metadata) if metadata else None
        self.created_after = _instant(created_after, "created_after")
        self.created_before = _instant(created_before, "created_before")
        if self.created_after and self.created_before and self.created_after >= self.created_before:
            raise ValueError(
                f"created_after ({self.created_after.isoformat()}) must be earlier than created_before "
                f"({self.created_before.isoformat()}): no batch could match"
            )
        endpoints = _texts(endpoint, "endpoint")
        self.endpoints = None if endpoints is None else frozenset(map(_endpoint_key, endpoints))
        self.models = _texts(model, "model")
        self._trusted = True  # no batch seen so far contradicts newest-first
        self._newest_seen_last: datetime | None = None  # the creation time of the last dated batch seen

    def matches(self, batch: Batch) -> bool:
        """Whether `batch` meets every criterion (a batch without a creation time meets no time bound)."""
        if self.statuses is not None and str(batch.status).casefold() not in self.statuses:
            return False
        if self.endpoints is not None:
            endpoint = batch.endpoint
            if endpoint is None or _endpoint_key(endpoint) not in self.endpoints:
                return False
        if self.models is not None and batch.model not in self.models:
            return False
        if self.metadata is not None:
            metadata = batch.metadata
            if any(key not in metadata or metadata[key] != value for key, value in self.metadata.items()):
                return False
        return self._in_time_range(batch)

    def _in_time_range(self, batch: Batch) -> bool:
        if self.created_after is None and self.created_before is None:
            return True
        created = batch.created_at
        return (
            created is not None
            and (self.created_after is None or created > self.created_after)
            and (self.created_before is None or created < self.created_before)
        )

    def exhausted(self, page: Iterable[Batch]) -> bool:
        """Take in a page just read (in order); True when no later page can hold a match.

        That is when every batch so far came newest first and the last dated one is no later than `created_after`.
        One batch newer than the one before it (in this page or across pages) ends the trust for the walk.
        """
        for batch in page:
            created = batch.created_at
            if created is None:
                continue
            if self._newest_seen_last is not None and created > self._newest_seen_last:
                self._trusted = False
            self._newest_seen_last = created
        return (
            self._trusted
            and self.created_after is not None
            and self._newest_seen_last is not None
            and self._newest_seen_last <= self.created_after
        )

    @property
    def trusts_order(self) -> bool:
        """False once a batch came out of newest-first order: the walk then reads every page."""
        return self._trusted
