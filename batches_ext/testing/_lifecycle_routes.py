"""The fake's answers for uploading files and creating batches: request bodies checked as OpenAI checks them.

`POST /files` (multipart/form-data: `file`, `purpose`), `GET` and `DELETE /files/{id}`, `POST /batches` (JSON).
Each function reads a request and answers from the store; the state and its rules stay in `_store.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from batches_ext.testing._requests import BATCH_ENDPOINTS
from batches_ext.testing._wire import Reply, error_reply, json_reply

if TYPE_CHECKING:
    from batches_ext.testing._store import BatchStore

__all__ = ["create_batch_reply", "delete_file_reply", "file_reply", "parse_multipart", "upload_reply"]

# createFile's documented limits: "Individual files can be up to 512 MB"; "The Batch API only supports .jsonl files up
# to 200 MB in size". Read as MiB, as the client does (batches_ext/_lifecycle.py).
FILE_MAX_BYTES: Final = 512 * 1024 * 1024
BATCH_FILE_MAX_BYTES: Final = 200 * 1024 * 1024
# CreateFileRequest.purpose.
PURPOSES: Final = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
COMPLETION_WINDOWS: Final = ("24h",)  # "Currently only `24h` is supported"
_METADATA_LIMITS: Final = (16, 64, 512)  # keys, key characters, value characters (the Metadata schema)
_DISPOSITION: Final = re.compile(rb'\b(name|filename)="([^"]*)"', re.IGNORECASE)
_BOUNDARY: Final = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


def parse_multipart(content_type: str | None, body: bytes) -> dict[str, tuple[str | None, bytes]] | None:
    """The fields of a multipart/form-data body, by name: (filename or None, content); None if it is not one."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        return None
    match = _BOUNDARY.search(content_type)
    if match is None:
        return None
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, tuple[str | None, bytes]] = {}
    parts = body.split(delimiter)
    if len(parts) < 3 or not parts[-1].startswith(b"--"):
        return None
    for part in parts[1:-1]:
        head, separator, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            return None
        names = {key.lower().decode(): value.decode("utf-8", "replace") for key, value in _DISPOSITION.findall(head)}
        if "name" in names:
            fields[names["name"]] = (names.get("filename"), content.removesuffix(b"\r\n"))
    return fields


def upload_reply(store: BatchStore, headers: Mapping[str, str], body: bytes) -> Reply:  # noqa: PLR0911 - checks in order
    """`POST /files`."""
    fields = parse_multipart(headers.get("content-type"), body)
    if fields is None:
        return error_reply(400, "Invalid request: expected a multipart/form-data body with a boundary.")
    if "file" not in fields:
        return error_reply(400, "Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
    if "purpose" not in fields:
        return error_reply(400, "Missing required parameter: 'purpose'.", param="purpose",
                           code="missing_required_parameter")  # fmt: skip
    filename, content = fields["file"]
    purpose = fields["purpose"][1].decode("utf-8", "replace")
    if purpose not in PURPOSES:
        return error_reply(400, f"'{purpose}' is not one of {list(PURPOSES)} - 'purpose'", param="purpose")
    filename = filename or "upload"
    limit = BATCH_FILE_MAX_BYTES if purpose == "batch" else FILE_MAX_BYTES
    if len(content) > limit:
        return error_reply(400, f"File is too large: {len(content)} bytes; at most {limit} for purpose '{purpose}'.",
                           param="file")  # fmt: skip
    if not content:
        return error_reply(400, "File is empty.", param="file")
    if purpose == "batch" and not filename.endswith(".jsonl"):
        return error_reply(400, "Invalid file format for Batch API. Must be .jsonl", param="file")
    return json_reply(200, store.upload(content, filename=filename, purpose=purpose))


def file_reply(store: BatchStore, file_id: str) -> Reply:
    """`GET /files/{id}`."""
    info = store.file_object(file_id)
    return json_reply(200, info) if info is not None else _no_file(file_id)


def delete_file_reply(store: BatchStore, file_id: str) -> Reply:
    """`DELETE /files/{id}`."""
    if not store.delete_file(file_id):
        return _no_file(file_id)
    return json_reply(200, {"id": file_id, "object": "file", "deleted": True})


def create_batch_reply(store: BatchStore, body: bytes) -> Reply:  # noqa: PLR0911 - one check after another
    """`POST /batches`: the request is checked here; the input file is validated by the batch (it may fail)."""
    try:
        request = json.loads(body) if body else None
    except ValueError:
        return error_reply(400, "We could not parse the JSON body of your request.")
    if not isinstance(request, dict):
        return error_reply(400, "The body of your request must be a JSON object.")
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(request.get(name), str):
            return error_reply(400, f"Missing required parameter: '{name}'.", param=name,
                               code="missing_required_parameter")  # fmt: skip
    input_file_id, endpoint, window = (
        str(request["input_file_id"]),
        str(request["endpoint"]),
        str(request["completion_window"]),
    )
    if endpoint not in BATCH_ENDPOINTS:
        return error_reply(400, f"Invalid value: '{endpoint}'. Supported values are: {list(BATCH_ENDPOINTS)}.",
                           param="endpoint", code="invalid_value")  # fmt: skip
    if window not in COMPLETION_WINDOWS:
        return error_reply(400, f"Invalid value: '{window}'. Supported values are: '24h'.", param="completion_window",
                           code="invalid_value")  # fmt: skip
    metadata = request.get("metadata")
    problem = _metadata_problem(metadata)
    if problem is not None:
        return error_reply(400, problem, param="metadata")
    try:
        batch = store.create_batch(input_file_id, endpoint=endpoint, completion_window=window, metadata=metadata)
    except KeyError:
        return error_reply(404, f"No such File object: {input_file_id}", param="input_file_id")
    except ValueError:
        return error_reply(400, f"Invalid 'input_file_id': {input_file_id} was not uploaded with purpose 'batch'.",
                           param="input_file_id")  # fmt: skip
    return json_reply(200, batch)


def _metadata_problem(metadata: Any) -> str | None:
    if metadata is None:
        return None
    keys, key_chars, value_chars = _METADATA_LIMITS
    if not isinstance(metadata, dict):
        return "Invalid type for 'metadata': expected an object."
    if len(metadata) > keys:
        return f"Invalid 'metadata': too many properties. Expected at most {keys}, got {len(metadata)}."
    for key, value in metadata.items():
        if len(key) > key_chars:
            return f"Invalid 'metadata': key '{key[:20]}...' is longer than {key_chars} characters."
        if not isinstance(value, str) or len(value) > value_chars:
            return f"Invalid 'metadata.{key}': expected a string of at most {value_chars} characters."
    return None


def _no_file(file_id: str) -> Reply:
    return error_reply(404, f"No such File object: {file_id}", param="id")
