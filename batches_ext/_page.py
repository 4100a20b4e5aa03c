"""`BatchPage`: one page of `GET /batches`, with its batches as `Batch` objects and the cursor for the next page.

Servers write the envelope differently: OpenAI sends `{"object": "list", "data", "first_id", "last_id",
"has_more"}`, Azure the same without `object`, Groq a `paging.next_cursor`. The page reads all of them and keeps the
JSON as received (`to_dict()` is lossless).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from batches_ext._batch import Batch
from batches_ext._model import WireObject, text

if TYPE_CHECKING:
    from openai_batches_client.models.list_batches_response import ListBatchesResponse

__all__ = ["BatchPage"]


class BatchPage(WireObject["ListBatchesResponse"]):
    """A page of batches, newest first. Iterating it (and `len`) goes over `data`."""

    __slots__ = ("_batches",)

    def __init__(self, data: dict[str, Any], *, request_id: str | None = None) -> None:
        """Wrap a JSON list envelope as it came from the server; use `from_dict` for a body not known to be one.

        The batches share the page's JSON: neither changes it, and `to_dict()` of either is a copy.
        """
        super().__init__(data, request_id=request_id)
        items = data.get("data")
        self._batches = [
            Batch(item, request_id=request_id)
            for item in (items if isinstance(items, list) else ())
            if isinstance(item, dict) and Batch._not_recognised(item) is None
        ]

    @staticmethod
    def _generated_model() -> type[ListBatchesResponse]:
        from openai_batches_client.models.list_batches_response import ListBatchesResponse  # noqa: PLC0415

        return ListBatchesResponse

    @classmethod
    def _not_recognised(cls, data: Mapping[str, Any]) -> str | None:
        if isinstance(data.get("data"), list):
            return None
        return "field 'data' must be a list" if "data" in data else "required field 'data' is missing"

    @property
    def data(self) -> list[Batch]:
        """The page's batches (a new list).

        An entry that is not recognisably a batch (no id or status) is left out here and kept in `to_dict()`.
        """
        return list(self._batches)

    @property
    def object(self) -> str | None:
        """`list`; None when the server omits it (Azure does)."""
        return text(self._data.get("object"))

    @property
    def first_id(self) -> str | None:
        """The id of the page's first batch, as the server says; None when it does not."""
        return text(self._data.get("first_id"))

    @property
    def last_id(self) -> str | None:
        """The id of the page's last batch, as the server says; None when it does not."""
        return text(self._data.get("last_id"))

    @property
    def has_more(self) -> bool:
        """True when the server says there are more pages (`has_more`, or a `paging.next_cursor` without it)."""
        has_more = self._data.get("has_more")
        if isinstance(has_more, bool):
            return has_more
        return self._paging_cursor() is not None

    @property
    def next_cursor(self) -> str | None:
        """The `after` to ask for the next page with; None when this is the last page.

        The server's `paging.next_cursor` when it sends one, else `last_id`, else the last batch's id.
        """
        if not self.has_more:
            return None
        return self._paging_cursor() or self.last_id or (self._batches[-1].id if self._batches else None)

    def _paging_cursor(self) -> str | None:
        paging = self._data.get("paging")
        return text(paging.get("next_cursor")) if isinstance(paging, Mapping) else None

    def __iter__(self) -> Iterator[Batch]:
        return iter(self._batches)

    def __len__(self) -> int:
        return len(self._batches)

    def __repr__(self) -> str:
        return f"BatchPage({len(self._batches)} batches, has_more={self.has_more!r})"
