"""What the fake puts on the wire: replies, OpenAI-style error bodies, request ids and masked keys."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "JSON_TYPE",
    "OCTET_TYPE",
    "FileBody",
    "Reply",
    "binary_reply",
    "dumps",
    "error_body",
    "error_reply",
    "json_reply",
    "mask_key",
    "new_request_id",
]

JSON_TYPE: Final = "application/json"
OCTET_TYPE: Final = "application/octet-stream"
# The API's version header; clients ignore it, but a faithful fake sends what the real one does.
_STATIC_HEADERS: Final = {"openai-version": "2020-10-01"}
_MASK: Final = "***"
_ids: Final = random.Random()  # noqa: S311 - request ids only need to be unique, not unpredictable


_PIECE: Final = 64 * 1024  # a file body is produced in pieces of this size, never whole


@dataclass(frozen=True, slots=True)
class FileBody:
    """A stored file's bytes `start`..`stop`, produced in pieces (from memory or read from disk, never copied whole).

    With `cut_after`, the connection drops after that many bytes of this body: the delivery path sends them and
    then fails the way a dropped connection does (the transport raises, the server closes its socket).
    """

    source: bytes | Path
    start: int
    stop: int
    cut_after: int | None = None

    def __len__(self) -> int:
        """The body's declared length (its `Content-Length`), whether or not it is cut."""
        return self.stop - self.start

    @property
    def sent(self) -> int:
        """How many bytes are actually sent."""
        return len(self) if self.cut_after is None else min(len(self), self.cut_after)

    def pieces(self) -> Iterator[bytes]:
        """The bytes that are sent, in order, in pieces of at most 64 KiB."""
        end = self.start + self.sent
        if isinstance(self.source, bytes):
            view = memoryview(self.source)
            for at in range(self.start, end, _PIECE):
                yield bytes(view[at : min(at + _PIECE, end)])
            return
        with self.source.open("rb") as stream:
            stream.seek(self.start)
            left = end - self.start
            while left > 0:
                piece = stream.read(min(_PIECE, left))
                if not piece:
                    return  # the file shrank on disk: the body ends short, as a broken server's would
                left -= len(piece)
                yield piece


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer, independent of how it is delivered (in-process transport or real socket)."""

    status: int
    body: bytes | FileBody
    headers: dict[str, str] = field(default_factory=dict)


def new_request_id() -> str:
    """A fresh id in OpenAI's `req_` + 32 hex digits form, unique per response.

    From `random`, not `secrets`: an id is no secret, and `os.urandom` releases the GIL, so on the real server each
    response waited for the other handler threads to hand it back (a third of its time at 64 connections).
    """
    return f"req_{_ids.getrandbits(128):032x}"


def dumps(payload: object) -> bytes:
    """Compact JSON, as the API sends it."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def json_reply(status: int, payload: object, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON reply with a new `x-request-id`; `headers` are added last, so they may override."""
    base = {"content-type": JSON_TYPE, "x-request-id": new_request_id(), **_STATIC_HEADERS}
    return Reply(status, dumps(payload), {**base, **(headers or {})})


def binary_reply(content: bytes | FileBody, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    """A 200 (or 206) carrying a file's bytes, as `GET /files/{id}/content` answers."""
    base = {"content-type": OCTET_TYPE, "x-request-id": new_request_id(), **_STATIC_HEADERS}
    return Reply(status, content, {**base, **(headers or {})})


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope: `{"error": {"message", "type", "param", "code"}}`, all four keys always present."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_reply(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    *,
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """A JSON error reply in OpenAI's envelope."""
    return json_reply(status, error_body(message, type_, param, code), headers)


def mask_key(key: str) -> str:
    """Mask a key the way OpenAI's 401 message does (`sk-ab***xyz`), showing at most half of it.

    OpenAI shows a prefix and a suffix; a short key would be almost fully revealed by a fixed 5 + 3 characters, so
    each side is capped at a quarter of the key's length.
    """
    shown = len(key) // 4
    head, tail = min(5, shown), min(3, shown)
    return f"{key[:head]}{_MASK}{key[len(key) - tail :] if tail else ''}"
