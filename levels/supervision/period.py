"""The period a supervision figure covers: whole China dates, both ends included."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from levels.common.clock import CHINA
from levels.common.dates import kept_day
from levels.common.errors import DomainError
from levels.supervision.errors import SupervisionErrorCode

MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date  # first day, included
    end: dt.date  # last day, included

    @property
    def since(self) -> dt.datetime:
        """The first instant of the period (midnight in China)."""
        return dt.datetime.combine(self.start, dt.time(), tzinfo=CHINA)

    @property
    def until(self) -> dt.datetime:
        """The first instant after the period."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=CHINA)


def period_of(start: dt.date | None, end: dt.date | None, *, today: dt.date) -> Period:
    """``start``..``end``; by default the calendar month of ``end`` (else of today) up
    to ``end`` (else today). INVALID_PERIOD when start is after end or the period is
    longer than 366 days."""
    kept_day(start, ("from",))
    kept_day(end, ("to",))
    last = end or today
    first = start or last.replace(day=1)
    if first > last:
        raise DomainError(SupervisionErrorCode.INVALID_PERIOD, field=["from"])
    if (last - first).days + 1 > MAX_DAYS:
        raise DomainError(SupervisionErrorCode.INVALID_PERIOD, field=["to"])
    return Period(first, last)


def month_period(month: str) -> Period:
    """The whole calendar month ``YYYY-MM`` (INVALID_MONTH otherwise)."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = dt.date(year, number, 1)
    except ValueError:
        raise DomainError(SupervisionErrorCode.INVALID_MONTH, field=["month"]) from None
    if len(month) != 7:
        raise DomainError(SupervisionErrorCode.INVALID_MONTH, field=["month"])
    kept_day(first, ("month",))
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1))
