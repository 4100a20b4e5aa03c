"""The filter options of `batches-ext list` and `cancel --all`, and their value types: standard library only.

`cli.build_parser` imports this module, so `batches-ext --help` stays free of the client's imports.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta
from typing import Final

__all__ = ["FILTER_OPTIONS", "add_filter_options", "add_list_options", "has_filters", "metadata_pair", "when"]

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
FILTER_OPTIONS: Final = ("status", "metadata", "created_after", "created_before")


def when(text: str, *, now: datetime | None = None) -> datetime:
    """An argparse type: an ISO date/time (no offset: local time) or an age like `90m`, `2h`, `3d` (before now).

    Raises:
        argparse.ArgumentTypeError: neither.

    """
    moment = now if now is not None else datetime.now().astimezone()
    value = text.strip()
    match = _AGE.fullmatch(value)
    if match is not None:
        amount, unit = float(match.group(1)), match.group(2).lower()
        try:
            return moment - timedelta(seconds=amount * _UNIT_S[unit])
        except OverflowError:
            raise argparse.ArgumentTypeError(f"age too large: {text!r}") from None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (an ISO date/time like 2024-05-01 or 2024-05-01T10:00Z, or an age like 90m, 2h, 3d)"
        ) from None
    if parsed.utcoffset() is not None:
        return parsed
    try:
        return parsed.astimezone()  # naive: the local time zone
    except (OverflowError, OSError):  # a date the platform's local-time conversion cannot handle (year 1, 9999)
        raise argparse.ArgumentTypeError(f"time out of range: {text!r} (give its UTC offset, e.g. Z)") from None


def metadata_pair(text: str) -> tuple[str, str]:
    """An argparse type: `KEY=VALUE` (the value may contain `=`; it may be empty)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """The filters of `list` and `cancel --all` (each given one must hold; --status: any of those given)."""
    group = parser.add_argument_group("filters")
    group.add_argument(
        "--status", metavar="S", action="append", help="only batches with this status (repeat for several)"
    )
    group.add_argument(
        "--metadata", metavar="K=V", action="append", type=metadata_pair, help="only batches whose metadata K is V"
    )
    group.add_argument(
        "--created-after", metavar="WHEN", type=when, help="only batches created after WHEN (2024-05-01T10:00, 2h, 3d)"
    )
    group.add_argument("--created-before", metavar="WHEN", type=when, help="only batches created before WHEN")


def has_filters(args: argparse.Namespace) -> bool:
    """Whether any filter option was given."""
    return any(getattr(args, name, None) is not None for name in FILTER_OPTIONS)


def add_list_options(parser: argparse.ArgumentParser) -> None:
    """`list`'s own options: the filters and `--limit`."""
    add_filter_options(parser)
    parser.add_argument("--limit", metavar="N", type=_positive, help="show at most N batches")
