"""Opening hours of a window (办公时间): spans per kind of day, counted on the node's
working-day calendar (``levels/calendar``, chinesecalendar and its overrides).

* A make-up working day (调休上班) is a WORKDAY; an official holiday is a HOLIDAY even
  when it falls on a weekend; any other Saturday or Sunday is a WEEKEND.
* A window with no hours of its own keeps the hall's standard hours: working days
  8:30–12:00 and 14:30–17:30, closed at weekends and on holidays.
* A window open at weekends (周末轮班) or at lunch time (延时/错时) has spans for those;
  a holiday is closed unless the window lists HOLIDAY spans; a 24-hour self-service
  area lists 0–1440 on every kind of day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from levels.calendar.workdays import WorkCalendar
from levels.common.clock import CHINA
from levels.common.errors import DomainError
from levels.windows.enums import DayKind
from levels.windows.errors import WindowErrorCode as E

DAY_MINUTES = 1440
MAX_SPANS = 12


@dataclass(frozen=True)
class Span:
    day_kind: DayKind
    opens: int  # minutes after midnight
    closes: int
    extended: bool = False

    def covers(self, minute: int) -> bool:
        return self.opens <= minute < self.closes


STANDARD_HOURS: tuple[Span, ...] = (
    Span(DayKind.WORKDAY, 8 * 60 + 30, 12 * 60),
    Span(DayKind.WORKDAY, 14 * 60 + 30, 17 * 60 + 30),
)
ALL_DAY: tuple[Span, ...] = tuple(Span(k, 0, DAY_MINUTES) for k in DayKind)


def day_kind(calendar: WorkCalendar, day: dt.date) -> DayKind:
    if calendar.is_working_day(day):
        return DayKind.WORKDAY
    holidays = {d.day for d in calendar.schedule(day.year).days if not d.is_working_day}
    if day in holidays or day.weekday() < 5:
        return DayKind.HOLIDAY
    return DayKind.WEEKEND


def minute_of(instant: dt.datetime) -> int:
    local = instant.astimezone(CHINA)
    return local.hour * 60 + local.minute


def clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str, field: Sequence[str]) -> int:
    """ "08:30" → 510; "24:00" is the end of the day."""
    try:
        hours, minutes = text.strip().split(":")
        value = int(hours) * 60 + int(minutes)
        if not (0 <= int(minutes) < 60 and 0 <= value <= DAY_MINUTES):
            raise ValueError(text)
    except ValueError:
        raise DomainError(E.INVALID_HOURS, field=field, detail=str(text)[:16]) from None
    return value


def validate(spans: Sequence[Span]) -> list[Span]:
    """Spans in order; each opens before it closes and none overlaps another of its
    kind of day."""
    if len(spans) > MAX_SPANS:
        raise DomainError(E.INVALID_HOURS, field=["input", "hours"], detail=f"≤ {MAX_SPANS}")
    ordered = sorted(spans, key=lambda s: (s.day_kind.value, s.opens))
    for i, span in enumerate(ordered):
        where = ["input", "hours", str(i)]
        if not 0 <= span.opens < span.closes <= DAY_MINUTES:
            raise DomainError(E.INVALID_HOURS, field=where)
        before = ordered[i - 1] if i else None
        if before and before.day_kind is span.day_kind and before.closes > span.opens:
            raise DomainError(E.INVALID_HOURS, field=where, detail="overlap")
    return ordered


def effective(spans: Iterable[Span]) -> tuple[Span, ...]:
    own = tuple(spans)
    return own or STANDARD_HOURS


def is_open(spans: Iterable[Span], kind: DayKind, minute: int) -> bool:
    return any(s.day_kind is kind and s.covers(minute) for s in effective(spans))


def open_now(spans: Iterable[Span], calendar: WorkCalendar, now: dt.datetime) -> bool:
    local = now.astimezone(CHINA)
    return is_open(spans, day_kind(calendar, local.date()), minute_of(local))
