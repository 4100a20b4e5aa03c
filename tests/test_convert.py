"""Unix seconds <-> aware UTC datetimes, in one place, with the boundary cases as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batches_ext import BatchStatus, convert


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


# --- to_datetime: every way a server writes an instant ------------------------------------------------------------

MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def at(*args: int, micro: int = 0) -> datetime:
    return datetime(*args, microsecond=micro, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # unix seconds (OpenAI), integer and fractional
        (1711471533, at(2024, 3, 26, 16, 45, 33)),
        (1711471533.25, at(2024, 3, 26, 16, 45, 33, micro=250000)),
        (1, at(1970, 1, 1, 0, 0, 1)),
        (-1, at(1969, 12, 31, 23, 59, 59)),
        (2**31, at(2038, 1, 19, 3, 14, 8)),
        (convert.MS_WATERSHED - 1, at(2603, 10, 11, 11, 33, 19)),  # the largest number read as seconds
        # unix milliseconds (Zhipu): too large to be seconds
        (convert.MS_WATERSHED, at(1970, 8, 20, 11, 33, 20)),
        (1711471533123, at(2024, 3, 26, 16, 45, 33, micro=123000)),
        (1711471533123.5, at(2024, 3, 26, 16, 45, 33, micro=123500)),
        (-1711471533123, at(1915, 10, 8, 7, 14, 26, micro=877000)),
        (MAX_MS, at(9999, 12, 31, 23, 59, 59, micro=999000)),
        # ISO-8601 (Azure): any fractional digits, any offset or Z; no offset means UTC
        ("2024-03-26T16:45:33Z", at(2024, 3, 26, 16, 45, 33)),
        ("2024-03-26T16:45:33.1234567+00:00", at(2024, 3, 26, 16, 45, 33, micro=123456)),
        ("2024-03-26T18:45:33.5+02:00", at(2024, 3, 26, 16, 45, 33, micro=500000)),
        ("2024-03-26T11:15:33-0530", at(2024, 3, 26, 16, 45, 33)),
        ("2024-03-26 16:45:33", at(2024, 3, 26, 16, 45, 33)),
        ("  2024-03-26T16:45:33z ", at(2024, 3, 26, 16, 45, 33)),
        ("2024-03-26", at(2024, 3, 26)),
        ("9999-12-31T23:59:59.999999Z", at(9999, 12, 31, 23, 59, 59, micro=999999)),
        # "not set"
        (None, None),
        (0, None),
        (0.0, None),
        ("", None),
        ("   ", None),
        ("1970-01-01T00:00:00Z", None),  # the epoch is never a real instant, however it is written
        # nothing a datetime can hold, or nothing that reads as an instant
        (MAX_MS + 1, None),
        (-62_135_596_800_001, None),
        (10**18, None),
        (1e18, None),
        (-(10**30), None),
        (float("nan"), None),
        (float("inf"), None),
        (float("-inf"), None),
        (True, None),
        (False, None),
        ("0001-01-01T00:00:00+01:00", None),  # before the year 1 in UTC
        ("9999-12-31T23:59:59-01:00", None),  # after the year 9999 in UTC
        ("yesterday", None),
        ("1711471533", None),  # digits in a string are not a unix time (they could be a basic ISO date)
        ("2024-13-01T00:00:00Z", None),
        ([1711471533], None),
        ({"seconds": 1711471533}, None),
    ],
)
def test_to_datetime_table(value: object, expected: datetime | None) -> None:
    result = convert.to_datetime(value)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
iso_like = st.from_regex(
    r"[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}"  # a date, maybe out of range
    r"([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{0,12})?)?)?"  # a time, any fractional digits
    r"(Z|[+-][0-9]{2}:?[0-9]{0,2})?",  # an offset, maybe malformed
    fullmatch=True,
)
SECONDS_RANGE = st.integers(-convert.MS_WATERSHED + 1, convert.MS_WATERSHED - 1).filter(bool)
MS_RANGE = st.integers(convert.MS_WATERSHED, MAX_MS) | st.integers(-62_135_596_800_000, -convert.MS_WATERSHED)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@settings(max_examples=500, deadline=None, database=None)
@given(value=json_values | iso_like | st.integers(-(10**20), 10**20))
def test_to_datetime_never_raises_on_any_json_value(value: object) -> None:
    result = convert.to_datetime(value)
    assert result is None or (result.tzinfo is UTC and result != EPOCH)


@settings(max_examples=300, deadline=None, database=None)
@given(seconds=SECONDS_RANGE)
def test_to_datetime_round_trips_seconds(seconds: int) -> None:
    result = convert.to_datetime(seconds)
    assert result == EPOCH + timedelta(seconds=seconds)
    assert convert.to_unix(result) == seconds


@settings(max_examples=300, deadline=None, database=None)
@given(ms=MS_RANGE)
def test_to_datetime_round_trips_milliseconds(ms: int) -> None:
    result = convert.to_datetime(ms)
    assert result == EPOCH + timedelta(milliseconds=ms)
    assert result is not None
    assert (result - EPOCH) // timedelta(milliseconds=1) == ms


# ISO-8601 offsets are whole minutes (zoneinfo's historical offsets with seconds cannot be written in it).
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@settings(max_examples=300, deadline=None, database=None)
@given(
    moment=st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets),
    separator=st.sampled_from("T "),
    extra_digits=st.sampled_from(["", "0", "9999"]),
)
def test_to_datetime_round_trips_iso_strings(moment: datetime, separator: str, extra_digits: str) -> None:
    written = moment.isoformat(sep=separator, timespec="microseconds")  # 2024-03-26T16:45:33.123456+02:00
    written = written[:26] + extra_digits + written[26:]  # 7 to 10 fractional digits: truncated to microseconds
    expected = moment.astimezone(UTC)
    assert convert.to_datetime(written) == (None if expected == EPOCH else expected)


# --- to_status: documented statuses whatever their case, anything else verbatim -----------------------------------


@pytest.mark.parametrize(
    ("wire", "member"),
    [
        ("validating", BatchStatus.VALIDATING),
        ("Validating", BatchStatus.VALIDATING),
        ("IN_PROGRESS", BatchStatus.IN_PROGRESS),
        ("In_Progress", BatchStatus.IN_PROGRESS),
        (" Cancelled ", BatchStatus.CANCELLED),
        ("COMPLETED", BatchStatus.COMPLETED),
    ],
)
def test_to_status_documented_values_any_case(wire: str, member: BatchStatus) -> None:
    assert convert.to_status(wire) is member


@pytest.mark.parametrize(
    "wire", ["pending", "queued", "created", "finalize", "in_queue", "complete", "calling", "", "Paused "]
)
def test_to_status_unknown_values_kept_verbatim(wire: str) -> None:
    status = convert.to_status(wire)
    assert isinstance(status, BatchStatus)
    assert status == wire
    assert str(status) == wire
    assert status not in set(BatchStatus)
