"""The ergonomic file objects: `FileObject` (upload, retrieve) and `FileDeleted` (delete), as received.

Like `Batch`, each keeps the JSON object it was built from (`to_dict()` is lossless), reads its fields tolerantly
(anything with an `id` parses) and builds the generated model only when `raw` is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from batches_ext import convert
from batches_ext._model import WireObject, number, text

if TYPE_CHECKING:
    from openai_batches_client.models.delete_file_response import DeleteFileResponse
    from openai_batches_client.models.open_ai_file import OpenAIFile

__all__ = ["FileDeleted", "FileObject"]


def _id_problem(data: Mapping[str, Any]) -> str | None:
    file_id = data.get("id")
    if isinstance(file_id, str) and file_id:
        return None
    return "field 'id' must be a non-empty string" if "id" in data else "required field 'id' is missing"


class FileObject(WireObject["OpenAIFile"]):
    """A file as the Files API describes it: a batch's input, output or error file.

    `created_at` and `expires_at` are aware UTC datetimes (or None). A field of the generated model without a
    typed accessor here is an attribute too, as received. Unknown fields are kept: see `extra` and `to_dict()`.
    """

    __slots__ = ()

    @staticmethod
    def _generated_model() -> type[OpenAIFile]:
        from openai_batches_client.models.open_ai_file import OpenAIFile  # noqa: PLC0415 - see Batch._generated_model

        return OpenAIFile

    @classmethod
    def _not_recognised(cls, data: Mapping[str, Any]) -> str | None:
        return _id_problem(data)

    @property
    def id(self) -> str:
        """The file's id, like `file-abc123`."""
        return text(self._data.get("id")) or ""

    @property
    def object(self) -> str | None:
        """`file`; None when the server omits it."""
        return text(self._data.get("object"))

    @property
    def bytes(self) -> int | None:
        """The file's size in bytes; None when the server does not say."""
        return number(self._data.get("bytes"))

    @property
    def filename(self) -> str | None:
        """The name the file was uploaded with; None when the server does not say."""
        return text(self._data.get("filename"))

    @property
    def purpose(self) -> str | None:
        """What the file is for, like `batch` (an input) or `batch_output`; None when the server does not say."""
        return text(self._data.get("purpose"))

    @property
    def created_at(self) -> datetime | None:
        """When the file was created."""
        return convert.to_datetime(self._data.get("created_at"))

    @property
    def expires_at(self) -> datetime | None:
        """When the file will be deleted; None when it does not expire."""
        return convert.to_datetime(self._data.get("expires_at"))

    @property
    def status(self) -> str | None:
        """Deprecated by OpenAI: `uploaded`, `processed` or `error`, as sent; None when absent."""
        return text(self._data.get("status"))

    @property
    def status_details(self) -> str | None:
        """Deprecated by OpenAI: why a file failed validation, as sent; None when absent."""
        return text(self._data.get("status_details"))

    def __repr__(self) -> str:
        return f"FileObject(id={self.id!r}, filename={self.filename!r}, bytes={self.bytes!r})"


class FileDeleted(WireObject["DeleteFileResponse"]):
    """The answer to deleting a file: its id and whether it is gone."""

    __slots__ = ()

    @staticmethod
    def _generated_model() -> type[DeleteFileResponse]:
        from openai_batches_client.models.delete_file_response import DeleteFileResponse  # noqa: PLC0415

        return DeleteFileResponse

    @classmethod
    def _not_recognised(cls, data: Mapping[str, Any]) -> str | None:
        return _id_problem(data)

    @property
    def id(self) -> str:
        """The id of the file the request deleted."""
        return text(self._data.get("id")) or ""

    @property
    def object(self) -> str | None:
        """`file`; None when the server omits it."""
        return text(self._data.get("object"))

    @property
    def deleted(self) -> bool:
        """True only when the server says `"deleted": true`."""
        return self._data.get("deleted") is True

    def __repr__(self) -> str:
        return f"FileDeleted(id={self.id!r}, deleted={self.deleted!r})"
