"""Validation of the ids that travel in request paths, before anything is sent."""

from __future__ import annotations

__all__ = ["MAX_ID_LENGTH", "check_id"]

# Segments that URL normalisation resolves: `/batches/../cancel` would reach `/cancel`.
_DOT_SEGMENTS = frozenset({".", ".."})
# Far above any real id (OpenAI's are about 30 characters), and below what httpx allows a URL (65,536 characters)
# even percent-encoded, at up to 12 characters per character.
MAX_ID_LENGTH = 4096


def check_id(value: object, name: str = "batch_id") -> str:
    """Return `value` if it is usable as one path segment, else raise `ValueError` naming the problem.

    Any other id is safe: the generated client percent-encodes it (`quote(..., safe="")`), so `/`, `?`, `#` and
    `%` cannot change the request's path.

    Raises:
        ValueError: `value` is not a str, is empty, longer than `MAX_ID_LENGTH`, is a dot segment, or holds
            whitespace or non-printable (control, format, unassigned) characters.

    """
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str, not {type(value).__name__}")  # noqa: TRY004 - the contract is ValueError
    if not value:
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{name} is {len(value):,} characters long; an id has at most {MAX_ID_LENGTH:,}")
    if value in _DOT_SEGMENTS:
        raise ValueError(f"{name} must not be {value!r}: it is a relative path segment")
    if not value.isprintable() or " " in value:  # one C-speed test for the common, valid case
        bad = next(char for char in value if char.isspace() or not char.isprintable())
        kind = "whitespace" if bad.isspace() else "non-printable characters"
        raise ValueError(f"{name} must not contain {kind} (found {bad!r} at index {value.index(bad)})")
    return value
