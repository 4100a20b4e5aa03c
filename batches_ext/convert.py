"""Conversions between the API's wire values and Python values, usable on their own.

Servers that speak OpenAI's Batch protocol disagree on how to write an instant (unix seconds, unix milliseconds,
ISO-8601 strings, with `0` or `""` for "not set") and on how to spell a status (`Validating`, `IN_PROGRESS`).
`to_datetime` and `to_status` are the one place each of those is interpreted; neither ever raises on a value a
server can send.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Final

from openai_batches_client.models.batch_status import BatchStatus

__all__ = ["duration", "from_unix", "progress", "to_datetime", "to_status", "to_unix"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# A number at least this large (in size) is milliseconds, not seconds: as seconds it would be past the year 2603
# (the watershed pydantic uses too). So milliseconds before 1970-08-20 read as seconds: no server sends those.
MS_WATERSHED: Final = 20_000_000_000
# The unix milliseconds a datetime can hold: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.
_MIN_MS: Final = -62_135_596_800_000
_MAX_MS: Final = 253_402_300_799_999
_STATUS_BY_VALUE: Final[dict[str, BatchStatus]] = {member.value: member for member in BatchStatus}


def to_datetime(value: object) -> datetime | None:
    """Return the instant a server wrote as `value`, as an aware UTC datetime; None when it is not set or unusable.

    Reads every form seen in the wild:

    - unix seconds, integer or fractional (`1711471533`, OpenAI);
    - unix milliseconds (`1711471533123`, Zhipu): any number of size 2e10 or more, which as seconds would be
      after the year 2603;
    - ISO-8601 strings with any number of fractional digits (beyond microseconds they are truncated) and any offset
      or `Z` (`2024-03-26T16:45:33.1234567+02:00`, Azure); a string without an offset is taken as UTC.

    None for "not set" (`None`, `0`, `""`, the epoch itself: never a real instant) and for what no datetime can
    hold or no reading fits: NaN, infinities, numbers outside the years 1 to 9999, booleans, unparsable strings,
    lists and objects. Never raises.
    """
    if type(value) is int or (isinstance(value, int | float) and not isinstance(value, bool)):
        return _from_number(value)
    if isinstance(value, str):
        return _from_iso(value) if value else None
    return None


def _from_number(number: float) -> datetime | None:
    if isinstance(number, float) and not math.isfinite(number):
        return None
    if -MS_WATERSHED < number < MS_WATERSHED:
        delta = timedelta(seconds=number)
    elif _MIN_MS <= number <= _MAX_MS:
        delta = timedelta(milliseconds=number)
    else:
        return None
    return _EPOCH + delta if delta else None


def _from_iso(text: str) -> datetime | None:
    # Imported here: python-dateutil costs ~30 ms of import time, and OpenAI itself never sends ISO strings.
    from dateutil.parser import isoparse  # type: ignore[import-untyped]  # noqa: PLC0415 - no stubs in the dev lock

    try:
        parsed = isoparse(text.strip())
        moment = parsed.replace(tzinfo=UTC) if parsed.utcoffset() is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO-8601, or an offset that moves it out of the years 1 to 9999
        return None
    return None if moment == _EPOCH else moment


def to_status(value: str) -> BatchStatus:
    """Return the `BatchStatus` a server means by `value`.

    A documented status matches whatever its case (`Validating`, `IN_PROGRESS`) and surrounding whitespace; any
    other string becomes a pseudo-member that keeps it verbatim and equals it (`"paused"`), never an error.
    """
    member = _STATUS_BY_VALUE.get(value)
    if member is not None:
        return member
    return _STATUS_BY_VALUE.get(value.strip().lower()) or BatchStatus(value)


def from_unix(seconds: int | float | None) -> datetime | None:
    """Return `seconds` since the epoch as an aware UTC datetime, or None for None: the strict form.

    For values from a server use `to_datetime`, which also reads milliseconds and ISO strings and never raises.

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
