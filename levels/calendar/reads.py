"""A level store's working-day calendar read in one round trip, for the read paths
(a case's clock on a list): the override days and the imported years are two tables,
read as one ``UNION ALL`` of Core rows instead of two statements one after the other.
Writes keep ``workdays.load_calendar`` (ORM rows in their own transaction)."""

from __future__ import annotations

from sqlalchemy import Boolean, Date, Integer, String, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.models import CalendarDay, CalendarYear
from levels.calendar.workdays import WorkCalendar
from levels.common.reads import ReadRow, rows, table

_day = table(CalendarDay)
_year = table(CalendarYear)
# kind 0: an override day; kind 1: an imported year (its source)
_CALENDAR = union_all(
    select(
        literal(0, Integer).label("kind"),
        _day.c.day,
        _day.c.year,
        _day.c.is_working_day,
        _day.c.name,
        null().cast(String).label("source"),
    ),
    select(
        literal(1, Integer),
        null().cast(Date),
        _year.c.year,
        null().cast(Boolean),
        null().cast(String),
        _year.c.source,
    ),
)


async def read_calendar_rows(*, session: AsyncSession) -> tuple[list[ReadRow], list[ReadRow]]:
    """The override days and the imported years, in one statement."""
    found = await rows(session, _CALENDAR)
    return [r for r in found if r.kind == 0], [r for r in found if r.kind == 1]


async def read_calendar(*, session: AsyncSession) -> WorkCalendar:
    """What ``load_calendar`` answers, in one statement."""
    return WorkCalendar.from_rows(*await read_calendar_rows(session=session))
