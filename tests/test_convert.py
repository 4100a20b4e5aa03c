"""Unix seconds <-> aware UTC datetimes, in one place, with the boundary cases as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from batches_ext import convert


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (None, None),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1711471533, datetime(2024, 3, 26, 16, 45, 33, tzinfo=UTC)),
        (-1, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (2**31, datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC)),  # past the 32-bit rollover
        (253402300799, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (1.5, datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)),
    ],
)
def test_from_unix(seconds: float | None, expected: datetime | None) -> None:
    result = convert.from_unix(seconds)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


@pytest.mark.parametrize("bad", ["1711471533", True, [1]])
def test_from_unix_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError, match="unix timestamp must be a number"):
        convert.from_unix(bad)  # type: ignore[arg-type]


def test_from_unix_out_of_range() -> None:
    with pytest.raises(OverflowError):
        convert.from_unix(10**12)


def test_to_unix_round_trip_and_offsets() -> None:
    assert convert.to_unix(None) is None
    assert convert.to_unix(datetime(2024, 3, 26, 16, 45, 33, tzinfo=UTC)) == 1711471533
    plus_two = timezone(timedelta(hours=2))
    assert convert.to_unix(datetime(2024, 3, 26, 18, 45, 33, tzinfo=plus_two)) == 1711471533
    assert convert.to_unix(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)) == -1  # floors
    for seconds in (0, -1, 1711471533, 2**31):
        assert convert.to_unix(convert.from_unix(seconds)) == seconds


def test_to_unix_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        convert.to_unix(datetime(2024, 1, 1))


def test_duration_and_progress() -> None:
    a, b = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 0, 10, tzinfo=UTC)
    assert convert.duration(a, b) == timedelta(minutes=10)
    assert convert.duration(None, b) is None
    assert convert.progress(23, 1, 100) == 0.24
    assert convert.progress(0, 0, 0) is None
    assert convert.progress(150, 0, 100) == 1.0  # clamped: counts can race ahead of the total
