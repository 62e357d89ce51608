"""The days the hub keeps: every date (and instant) a client gives — a filter's bounds,
a period, a day to book — lies within ``FIRST_DAY`` … ``LAST_DAY``, else it is
INVALID_DATE_RANGE. One bound for the whole hub, so no date arithmetic or database
parameter ever overflows on a year 1 or a year 9999."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from levels.common.clock import CHINA
from levels.common.errors import DomainError, ErrorCode

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


def out_of_range(field: Sequence[str]) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_DATE_RANGE, field=list(field), detail=f"{FIRST_DAY} … {LAST_DAY}"
    )


def kept_day(value: dt.date | None, field: Sequence[str]) -> dt.date | None:
    """``value`` when the hub keeps that day (or None); INVALID_DATE_RANGE at ``field``."""
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise out_of_range(field)
    return value


def kept_instant(value: dt.datetime | None, field: Sequence[str]) -> dt.datetime | None:
    """An instant of a day the hub keeps (its China date), or None."""
    if value is None:
        return None
    try:
        day = value.astimezone(CHINA).date() if value.tzinfo else value.date()
    except OverflowError:
        raise out_of_range(field) from None
    kept_day(day, field)
    return value
