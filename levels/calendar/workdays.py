"""The working-day calendar (工作日历) every time limit of a case is counted in.

Whether a day is a working day, in this order:

1. an override row (``calendar_days``) for that day wins;
2. a year imported whole with ``govhub calendar import`` (a ``calendar_years`` row)
   is the State Council's schedule for that year: the days it lists, and Monday to
   Friday otherwise;
3. a year the ``chinesecalendar`` package knows (its data follows the State Council's
   yearly notices, 国务院办公厅关于部分节假日安排的通知): the package's answer,
   holidays and make-up working days (调休上班) included;
4. any other year: Monday to Friday, and the day is *provisional* - a time limit
   running through it may move once that year's schedule is published and imported.

The counts are done on per-year tables (working or not, running totals) built once per
year and calendar: ``add_working_days`` and ``working_days_between`` cost a few table
look-ups, whatever the span.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import chinese_calendar
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.models import CalendarDay, CalendarYear
from levels.common.reads import ReadRow

Basis = Literal["imported", "chinesecalendar", "provisional"]

# column sizes of the tables (levels/calendar/models.py)
NAME_MAX = 64
SOURCE_MAX = 256
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class _YearTable:
    first: dt.date  # January 1st
    working: tuple[bool, ...]  # per day of the year
    # totals[i]: working days among the first i days of the year (len = days + 1)
    totals: tuple[int, ...]

    @classmethod
    def build(cls, year: int, working: Sequence[bool]) -> _YearTable:
        totals = tuple(itertools.accumulate((int(w) for w in working), initial=0))
        return cls(dt.date(year, 1, 1), tuple(working), totals)

    @property
    def total(self) -> int:
        return self.totals[-1]

    def index(self, day: dt.date) -> int:
        return (day - self.first).days

    def up_to(self, day: dt.date) -> int:
        """Working days from January 1st to ``day``, both included."""
        return self.totals[self.index(day) + 1]


def _days_of(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    count = (dt.date(year + 1, 1, 1) - first).days if year < dt.MAXYEAR else 365
    return [first + dt.timedelta(days=i) for i in range(count)]


@functools.cache
def package_knows(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` has the schedule of ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def package_years() -> tuple[int, int]:
    """The first and last year the installed ``chinesecalendar`` knows."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


@functools.lru_cache(maxsize=64)
def _base_table(year: int) -> _YearTable:
    """The year without overrides: the package's schedule, else Monday to Friday."""
    if package_knows(year):
        working = [bool(chinese_calendar.is_workday(d)) for d in _days_of(year)]
    else:
        working = [d.weekday() < 5 for d in _days_of(year)]
    return _YearTable.build(year, working)


def _package_name(value: str | None) -> str:
    """The Chinese name of a ``chinese_calendar.Holiday`` value ("National Day")."""
    if not value:
        return ""
    try:
        return str(chinese_calendar.Holiday(value).chinese)
    except ValueError:
        return value


@dataclass(frozen=True)
class SpecialDay:
    """A day whose status is not the plain weekday/weekend one, or that a schedule
    names: a holiday (is_working_day False) or a make-up working day (True)."""

    day: dt.date
    is_working_day: bool
    name: str


@dataclass(frozen=True)
class YearSchedule:
    year: int
    basis: Basis
    source: str  # the notice of an imported year; the package and version otherwise
    days: tuple[SpecialDay, ...]


class WorkCalendar:
    """Working days, from the override rows and imported years of a level store on
    top of the ``chinesecalendar`` package. Immutable once built; cheap to query."""

    def __init__(
        self,
        overrides: Mapping[dt.date, tuple[bool, str]] | None = None,
        imported_years: Iterable[int] = (),
        *,
        sources: Mapping[int, str] | None = None,
    ) -> None:
        self._overrides: dict[dt.date, tuple[bool, str]] = dict(overrides or {})
        self._imported = frozenset(imported_years)
        self._sources = dict(sources or {})
        self._override_years = frozenset(d.year for d in self._overrides)
        self._tables: dict[int, _YearTable] = {}

    @classmethod
    def from_rows(
        cls, days: Iterable[CalendarDay | ReadRow], years: Iterable[CalendarYear | ReadRow]
    ) -> WorkCalendar:
        year_rows = list(years)
        return cls(
            {d.day: (d.is_working_day, d.name or "") for d in days},
            [y.year for y in year_rows],
            sources={y.year: y.source for y in year_rows},
        )

    # --- one day ---------------------------------------------------------------------

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            if year not in self._imported and year not in self._override_years:
                table = _base_table(year)
            else:
                if year in self._imported:
                    working = [d.weekday() < 5 for d in _days_of(year)]
                else:
                    working = list(_base_table(year).working)
                first = dt.date(year, 1, 1)
                for day, (is_working, _name) in self._overrides.items():
                    if day.year == year:
                        working[(day - first).days] = is_working
                table = _YearTable.build(year, working)
            self._tables[year] = table
        return table

    def is_working_day(self, day: dt.date) -> bool:
        table = self._table(day.year)
        return table.working[table.index(day)]

    def basis(self, year: int) -> Basis:
        if year in self._imported:
            return "imported"
        if package_knows(year):
            return "chinesecalendar"
        return "provisional"

    def is_provisional(self, day: dt.date) -> bool:
        """True when neither an imported schedule nor ``chinesecalendar`` knows the
        year of ``day``: Monday to Friday was assumed."""
        return self.basis(day.year) == "provisional"

    # --- spans -----------------------------------------------------------------------

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself is not counted; n=0
        gives ``start``): "within 3 working days of receipt" ends on
        ``add_working_days(received_on, 3)``."""
        if n < 0:
            raise ValueError(f"add_working_days counts forward: n={n}")
        if n == 0:
            return start
        table = self._table(start.year)
        target = table.up_to(start) + n
        while target > table.total:
            target -= table.total
            table = self._table(table.first.year + 1)
        # the first day whose running total reaches the target
        return table.first + dt.timedelta(days=bisect_left(table.totals, target) - 1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: 0 when ``end`` is not after ``start``."""
        if end <= start:
            return 0
        first = self._table(start.year)
        last = self._table(end.year)
        if start.year == end.year:
            return last.up_to(end) - first.up_to(start)
        count = first.total - first.up_to(start) + last.up_to(end)
        for year in range(start.year + 1, end.year):
            count += self._table(year).total
        return count

    def provisional_between(self, start: dt.date, end: dt.date) -> bool:
        """Whether some day in (start, end] is provisional."""
        if end <= start:
            return False
        first = start + dt.timedelta(days=1)
        return any(self.basis(year) == "provisional" for year in range(first.year, end.year + 1))

    # --- what applies in a year ------------------------------------------------------

    def schedule(self, year: int) -> YearSchedule:
        """The holidays and make-up working days that apply in ``year``, and where
        they come from."""
        basis = self.basis(year)
        listed: dict[dt.date, SpecialDay] = {}
        if basis == "imported":
            source = self._sources.get(year, "")
        elif basis == "chinesecalendar":
            source = f"chinesecalendar {chinese_calendar.__version__}"
            for day, value in chinese_calendar.holidays.items():
                if day.year == year:
                    listed[day] = SpecialDay(day, False, _package_name(value))
            for day, value in chinese_calendar.workdays.items():
                if day.year == year:
                    listed[day] = SpecialDay(day, True, _package_name(value))
        else:
            source = "Monday to Friday"
        for day, (is_working, name) in self._overrides.items():
            if day.year == year:
                listed[day] = SpecialDay(day, is_working, name)
        return YearSchedule(year, basis, source, tuple(listed[d] for d in sorted(listed)))


# --- the level store -------------------------------------------------------------------


async def load_calendar(*, session: AsyncSession) -> WorkCalendar:
    """The calendar of one level store (its override rows and imported years)."""
    days = (await session.scalars(select(CalendarDay))).all()
    years = (await session.scalars(select(CalendarYear))).all()
    return WorkCalendar.from_rows(days, years)


def _check_days(year: int, days: Sequence[tuple[dt.date, bool, str]]) -> None:
    seen: set[dt.date] = set()
    for day, _working, name in days:
        if day.year != year:
            raise ValueError(f"{day.isoformat()} is not in {year}")
        if day in seen:
            raise ValueError(f"{day.isoformat()} is listed twice")
        if len(name) > NAME_MAX:
            raise ValueError(f"{day.isoformat()}: name longer than {NAME_MAX} characters")
        seen.add(day)


async def import_year(
    *,
    session: AsyncSession,
    year: int,
    days: list[tuple[dt.date, bool, str]],
    source: str,
    now: dt.datetime,
) -> int:
    """Make ``days`` (holidays and make-up working days) the whole schedule of
    ``year`` in this store: the year's override rows are replaced and the year is
    recorded as imported. Runs in the caller's transaction; returns the rows written."""
    _check_days(year, days)
    if len(source) > SOURCE_MAX:
        raise ValueError(f"source longer than {SOURCE_MAX} characters")
    if now.tzinfo is None:
        raise ValueError("naive datetime: the import time needs its offset")
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    await session.execute(
        delete(CalendarDay).where(
            or_(CalendarDay.year == year, CalendarDay.day.between(first, last))
        )
    )
    session.add_all(
        CalendarDay(day=day, year=year, is_working_day=working, name=name)
        for day, working, name in days
    )
    recorded = await session.get(CalendarYear, year)
    if recorded is None:
        session.add(CalendarYear(year=year, source=source, imported_at=now))
    else:
        recorded.source = source
        recorded.imported_at = now
    await session.flush()
    return len(days)


# --- the import file ---------------------------------------------------------------------

_FILE_KEYS = {"year", "source", "days"}
_DAY_KEYS = {"date", "workingDay", "name"}


def parse_calendar_file(text: str) -> tuple[int, str, list[tuple[dt.date, bool, str]]]:
    """Read an import file::

        {"year": 2027,
         "source": "国务院办公厅关于2027年部分节假日安排的通知",
         "days": [{"date": "2027-01-01", "workingDay": false, "name": "元旦"}, ...]}

    listing the year's holidays (``workingDay`` false, weekend days of a holiday
    stretch included) and make-up working days (``workingDay`` true, always a Saturday
    or Sunday). Raises ``ValueError`` saying what is wrong and where."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ValueError('expected a JSON object {"year": ..., "source": ..., "days": [...]}')
    missing = _FILE_KEYS - data.keys()
    if missing:
        raise ValueError(f"missing {', '.join(sorted(missing))}")
    unknown = data.keys() - _FILE_KEYS
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2999:
        raise ValueError(f"year: expected a year such as 2027, got {year!r}")
    source = data["source"]
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source: expected the notice the schedule comes from")
    source = source.strip()
    if len(source) > SOURCE_MAX:
        raise ValueError(f"source: longer than {SOURCE_MAX} characters")
    entries = data["days"]
    if not isinstance(entries, list) or not entries:
        raise ValueError("days: expected a non-empty list of days")
    days: list[tuple[dt.date, bool, str]] = []
    seen: dict[dt.date, int] = {}
    for i, entry in enumerate(entries):
        where = f"days[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f'{where}: expected {{"date": ..., "workingDay": ..., "name": ...}}')
        missing = {"date", "workingDay"} - entry.keys()
        if missing:
            raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
        unknown = entry.keys() - _DAY_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        raw = entry["date"]
        try:
            if not isinstance(raw, str) or len(raw) != 10:
                raise ValueError
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{where}.date: expected YYYY-MM-DD, got {raw!r}") from None
        if day.year != year:
            raise ValueError(f"{where}.date: {raw} is not in {year}")
        if day in seen:
            raise ValueError(f"{where}.date: {raw} is listed already (days[{seen[day]}])")
        seen[day] = i
        working = entry["workingDay"]
        if not isinstance(working, bool):
            raise ValueError(f"{where}.workingDay: expected true or false, got {working!r}")
        if working and day.weekday() < 5:
            raise ValueError(
                f"{where}: {raw} is a {WEEKDAYS[day.weekday()]}; a make-up working day "
                "(workingDay true) is a Saturday or Sunday"
            )
        name = entry.get("name", "")
        if not isinstance(name, str):
            raise ValueError(f"{where}.name: expected a string, got {name!r}")
        name = name.strip()
        if len(name) > NAME_MAX:
            raise ValueError(f"{where}.name: longer than {NAME_MAX} characters")
        days.append((day, working, name))
    return year, source, sorted(days)
