"""Conversions between the API's wire values and Python values, usable on their own.

The API sends times as integer unix seconds; users get timezone-aware UTC datetimes. These are the only places
that conversion happens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["duration", "from_unix", "progress", "to_unix"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_unix(seconds: int | float | None) -> datetime | None:
    """Return `seconds` since the epoch as an aware UTC datetime, or None for None.

    Uses timedelta arithmetic rather than `datetime.fromtimestamp`, so negative and far-future values behave the
    same on every platform.

    Raises:
        TypeError: `seconds` is not a number (a bool is not a number here).
        OverflowError: `seconds` is outside the years 1 to 9999.

    """
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"a unix timestamp must be a number of seconds, not {type(seconds).__name__}")
    return _EPOCH + timedelta(seconds=seconds)


def to_unix(moment: datetime | None) -> int | None:
    """Return an aware datetime as whole unix seconds (the API's precision), or None for None.

    Raises:
        ValueError: `moment` is naive: its time zone would be a guess.

    """
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no time zone; pass an aware one (e.g. with tzinfo=UTC)")
    return int((moment - _EPOCH) // timedelta(seconds=1))


def duration(start: datetime | None, end: datetime | None) -> timedelta | None:
    """Return `end - start`, or None when either is unknown."""
    if start is None or end is None:
        return None
    return end - start


def progress(completed: int, failed: int, total: int) -> float | None:
    """Return the finished share of requests (completed or failed) in [0, 1], or None when `total` is 0."""
    if total <= 0:
        return None
    return min(1.0, max(0.0, (completed + failed) / total))
