"""The working-day calendar: real holidays and make-up working days from the
``chinesecalendar`` package (2025, 2026), override rows, years nobody knows yet, the
import file and ``govhub calendar import|show``.

The 2027 schedules below are test data made up for these tests (the official one is
not published yet): only 1 January, a statutory holiday every year, is certain."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from gateway.cli import main
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.calendar.models import CalendarDay, CalendarYear
from levels.calendar.reads import read_calendar
from levels.calendar.workdays import (
    WorkCalendar,
    import_year,
    load_calendar,
    package_knows,
    parse_calendar_file,
)
from levels.cases.clocks import read_clock
from levels.common import migrate
from levels.common.clock import CHINA
from levels.models import metadata
from tests.conftest import BACKEND
from tests.support import pg

D = dt.date
NOW = dt.datetime(2026, 11, 20, 10, tzinfo=CHINA)
CAL = WorkCalendar()  # chinesecalendar's data alone


def days_from(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def off_days(calendar: WorkCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    return [d for d in days_from(start, end) if not calendar.is_working_day(d)]


def weekend_working_days(calendar: WorkCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    return [d for d in days_from(start, end) if d.weekday() >= 5 and calendar.is_working_day(d)]


# --- chinesecalendar's years -----------------------------------------------------------


def test_the_package_knows_2004_to_2026_only() -> None:
    assert package_knows(2004) and package_knows(2025) and package_knows(2026)
    assert not package_knows(2027) and not package_knows(2003)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 4))


def test_national_day_2025() -> None:
    # 10月1日至8日放假调休，共8天；9月28日（周日）、10月11日（周六）上班
    assert off_days(CAL, D(2025, 9, 26), D(2025, 10, 12)) == [
        D(2025, 9, 27),
        *days_from(D(2025, 10, 1), D(2025, 10, 8)),
        D(2025, 10, 12),
    ]
    assert weekend_working_days(CAL, D(2025, 9, 1), D(2025, 10, 31)) == [
        D(2025, 9, 28),
        D(2025, 10, 11),
    ]


def test_spring_festival_2025() -> None:
    # 1月28日至2月4日放假调休，共8天；1月26日（周日）、2月8日（周六）上班
    assert off_days(CAL, D(2025, 1, 24), D(2025, 2, 9)) == [
        D(2025, 1, 25),
        *days_from(D(2025, 1, 28), D(2025, 2, 4)),
        D(2025, 2, 9),
    ]
    assert weekend_working_days(CAL, D(2025, 1, 1), D(2025, 2, 28)) == [
        D(2025, 1, 26),
        D(2025, 2, 8),
    ]


def test_spring_festival_2026_as_the_package_has_it() -> None:
    # the package: 2月15日至23日 off, 2月14日（周六）、2月28日（周六）上班
    holidays = [
        d for d in days_from(D(2026, 2, 1), D(2026, 3, 1)) if d in chinese_calendar.holidays
    ]
    assert holidays == days_from(D(2026, 2, 15), D(2026, 2, 23))
    makeup = [d for d in chinese_calendar.workdays if d.year == 2026 and d.month in (1, 2, 3)]
    assert sorted(makeup) == [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28)]
    assert off_days(CAL, D(2026, 2, 9), D(2026, 3, 1)) == [
        *days_from(D(2026, 2, 15), D(2026, 2, 23)),
        D(2026, 3, 1),
    ]
    assert weekend_working_days(CAL, D(2026, 2, 1), D(2026, 3, 1)) == [
        D(2026, 2, 14),
        D(2026, 2, 28),
    ]


def test_mid_autumn_and_national_day_2026_as_the_package_has_it() -> None:
    # the package: 中秋 9月25日至27日, 国庆 10月1日至7日 off; 9月20日（周日）、10月10日（周六）上班
    holidays = [
        d for d in days_from(D(2026, 9, 1), D(2026, 10, 31)) if d in chinese_calendar.holidays
    ]
    assert holidays == [
        *days_from(D(2026, 9, 25), D(2026, 9, 27)),
        *days_from(D(2026, 10, 1), D(2026, 10, 7)),
    ]
    assert chinese_calendar.get_holiday_detail(D(2026, 10, 1)) == (True, "National Day")
    assert chinese_calendar.get_holiday_detail(D(2026, 9, 20)) == (False, "National Day")
    assert weekend_working_days(CAL, D(2026, 9, 1), D(2026, 10, 31)) == [
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    assert off_days(CAL, D(2026, 9, 24), D(2026, 10, 12)) == [
        *days_from(D(2026, 9, 25), D(2026, 9, 27)),
        *days_from(D(2026, 10, 1), D(2026, 10, 7)),
        D(2026, 10, 11),
    ]


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Friday: the Sunday make-up day counts, then Monday and Tuesday
        (D(2025, 9, 26), 3, D(2025, 9, 30)),
        # the last day before National Day: the next working day is after the holiday
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        # through the holiday and the Saturday make-up day
        (D(2025, 9, 30), 5, D(2025, 10, 14)),
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),
        (D(2025, 2, 7), 1, D(2025, 2, 8)),
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 9, 18), 1, D(2026, 9, 20)),
        (D(2026, 9, 24), 1, D(2026, 9, 28)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        # across the year: 1月1日至3日 off, 1月4日（周日）上班
        (D(2025, 12, 31), 1, D(2026, 1, 4)),
        # a plain week
        (D(2025, 3, 3), 5, D(2025, 3, 10)),
        (D(2025, 3, 3), 0, D(2025, 3, 3)),
        (D(2025, 10, 4), 0, D(2025, 10, 4)),  # n=0 is the start, working day or not
    ],
)
def test_add_working_days(start: dt.date, n: int, expected: dt.date) -> None:
    assert CAL.add_working_days(start, n) == expected
    assert CAL.working_days_between(start, expected) == n


def test_working_days_between() -> None:
    assert CAL.working_days_between(D(2025, 9, 30), D(2025, 10, 8)) == 0  # all holiday
    assert CAL.working_days_between(D(2025, 9, 26), D(2025, 10, 14)) == 8
    assert CAL.working_days_between(D(2025, 10, 14), D(2025, 9, 26)) == 0
    assert CAL.working_days_between(D(2025, 10, 14), D(2025, 10, 14)) == 0
    # a whole year and a bit, through two new years
    span = CAL.working_days_between(D(2024, 12, 31), D(2026, 1, 4))
    assert span == sum(CAL.is_working_day(d) for d in days_from(D(2025, 1, 1), D(2026, 1, 4)))
    with pytest.raises(ValueError):
        CAL.add_working_days(D(2025, 1, 1), -1)


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 12, 31)),
    n=st.integers(min_value=0, max_value=60),
)
def test_adding_then_counting_gives_n_back(start: dt.date, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, due) == n
    assert n == 0 or CAL.is_working_day(due)  # a time limit ends on a working day
    # and nothing earlier reaches n
    assert n == 0 or CAL.working_days_between(start, due - dt.timedelta(days=1)) == n - 1


# --- overrides and unknown years -------------------------------------------------------


def test_an_override_row_turns_a_weekday_into_a_holiday() -> None:
    closed = WorkCalendar({D(2025, 10, 13): (False, "临时闭馆")})
    assert not closed.is_working_day(D(2025, 10, 13))
    assert closed.is_working_day(D(2025, 10, 11))  # the rest of the year: the package
    assert closed.add_working_days(D(2025, 9, 30), 5) == D(2025, 10, 15)
    assert not closed.is_provisional(D(2025, 10, 13))


def test_an_override_row_wins_over_the_package() -> None:
    calendar = WorkCalendar({D(2025, 10, 8): (True, "")})
    assert calendar.is_working_day(D(2025, 10, 8))
    assert calendar.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 8)


def test_a_year_nobody_knows_is_monday_to_friday_and_provisional() -> None:
    assert CAL.is_provisional(D(2027, 1, 1)) and not CAL.is_provisional(D(2026, 12, 31))
    assert [CAL.is_working_day(d) for d in days_from(D(2027, 1, 1), D(2027, 1, 4))] == [
        True,  # a Friday: assumed working, though New Year's Day will surely be off
        False,
        False,
        True,
    ]
    assert CAL.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
    assert CAL.provisional_between(D(2026, 12, 30), D(2027, 1, 5))
    assert not CAL.provisional_between(D(2026, 12, 1), D(2026, 12, 31))
    assert not CAL.provisional_between(D(2027, 1, 5), D(2026, 12, 30))
    assert CAL.schedule(2027).basis == "provisional" and CAL.schedule(2027).days == ()


def test_an_imported_year_is_its_whole_schedule() -> None:
    # made-up test data, not the official 2027 schedule
    imported = WorkCalendar({D(2027, 1, 1): (False, "元旦")}, {2027}, sources={2027: "test"})
    assert not imported.is_provisional(D(2027, 6, 1))
    assert not imported.is_working_day(D(2027, 1, 1))
    assert imported.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert imported.schedule(2027).basis == "imported"
    assert imported.schedule(2027).source == "test"
    # a year the package knows, imported again: the import is the schedule, whole
    replaced = WorkCalendar({D(2025, 10, 2): (False, "国庆节")}, {2025})
    assert replaced.is_working_day(D(2025, 10, 1)) and not replaced.is_working_day(D(2025, 10, 2))
    assert not replaced.is_working_day(D(2025, 9, 28))  # not listed: a plain Sunday


def test_the_schedule_of_a_package_year() -> None:
    schedule = CAL.schedule(2025)
    assert schedule.basis == "chinesecalendar"
    by_day = {d.day: d for d in schedule.days}
    assert (by_day[D(2025, 10, 1)].is_working_day, by_day[D(2025, 10, 1)].name) == (False, "国庆节")
    assert (by_day[D(2025, 10, 6)].is_working_day, by_day[D(2025, 10, 6)].name) == (False, "中秋")
    assert (by_day[D(2025, 9, 28)].is_working_day, by_day[D(2025, 9, 28)].name) == (True, "国庆节")
    assert D(2025, 10, 12) not in by_day  # a plain Sunday


# --- the import file ---------------------------------------------------------------------

SCHEDULE_2027: dict[str, Any] = {  # made-up test data, not the official schedule
    "year": 2027,
    "source": "测试用日程（非官方）",
    "days": [
        {"date": "2027-01-01", "workingDay": False, "name": "元旦"},
        {"date": "2027-02-06", "workingDay": True, "name": "春节"},
        {"date": "2027-02-08", "workingDay": False, "name": "春节"},
        {"date": "2027-02-09", "workingDay": False},
    ],
}


def test_parse_calendar_file() -> None:
    year, source, days = parse_calendar_file(json.dumps(SCHEDULE_2027, ensure_ascii=False))
    assert (year, source) == (2027, "测试用日程（非官方）")
    assert days == [
        (D(2027, 1, 1), False, "元旦"),
        (D(2027, 2, 6), True, "春节"),
        (D(2027, 2, 8), False, "春节"),
        (D(2027, 2, 9), False, ""),
    ]


def with_changes(**changes: Any) -> str:
    data = {**SCHEDULE_2027, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False)


def with_day(entry: Any) -> str:
    return with_changes(days=[*SCHEDULE_2027["days"], entry])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", "expected a JSON object"),
        (with_changes(source=None), "missing source"),
        (with_changes(colour="red"), "unknown key(s) colour"),
        (with_changes(year="2027"), "year: expected a year"),
        (with_changes(source="  "), "source: expected the notice"),
        (with_changes(days=[]), "days: expected a non-empty list"),
        (with_day("2027-03-01"), "days[4]: expected"),
        (with_day({"date": "2027-03-01"}), "days[4]: missing workingDay"),
        (with_day({"date": "2027-03-01", "workingDay": False, "kind": "x"}), "unknown key(s) kind"),
        (with_day({"date": "2027-3-1", "workingDay": False}), "days[4].date: expected YYYY-MM-DD"),
        (with_day({"date": "2027-02-30", "workingDay": False}), "days[4].date: expected YYYY"),
        (with_day({"date": "2028-01-01", "workingDay": False}), "2028-01-01 is not in 2027"),
        (with_day({"date": "2027-01-01", "workingDay": False}), "listed already (days[0])"),
        (with_day({"date": "2027-03-01", "workingDay": "no"}), "days[4].workingDay: expected"),
        (with_day({"date": "2027-03-01", "workingDay": True}), "2027-03-01 is a Mon"),
        (with_day({"date": "2027-03-01", "workingDay": False, "name": 1}), "days[4].name"),
        (with_day({"date": "2027-03-01", "workingDay": False, "name": "x" * 65}), "longer than 64"),
    ],
)
def test_parse_calendar_file_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_calendar_file(text)
    assert message in str(raised.value)


# --- the tables: import_year and load_calendar ---------------------------------------------


@pytest.fixture(scope="module")
async def store_sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A level store of its own: in-memory SQLite with the models' tables, or a fresh
    PostgreSQL database migrated by Alembic on the PostgreSQL pass."""
    name = f"{pg.PREFIX}_calendar_{uuid.uuid4().hex[:8]}"
    if BACKEND == "postgres":
        await pg.create_database(name)
        engine = create_async_engine(pg.async_url(name))
        await migrate.upgrade(engine, "levels")
    else:
        engine = create_async_engine("sqlite+aiosqlite://")
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
        if BACKEND == "postgres":
            await pg.drop_database(name)


@pytest.fixture
async def sessions(
    store_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    async with store_sessions.begin() as session:
        await session.execute(delete(CalendarDay))
        await session.execute(delete(CalendarYear))
    return store_sessions


TEST_2027 = [
    (D(2027, 1, 1), False, "元旦"),
    (D(2027, 2, 6), True, "春节"),
    (D(2027, 2, 8), False, ""),
]


async def test_a_lists_calendar_read_in_one_statement_is_the_written_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The read path's calendar (one UNION ALL, levels/calendar/reads.py) holds the same
    override days, imported years and sources as load_calendar."""
    async with sessions.begin() as session:
        await import_year(session=session, year=2027, days=TEST_2027, source="测试用日程", now=NOW)
    async with sessions() as session:
        written = await load_calendar(session=session)
        read = await read_calendar(session=session)
    assert read.schedule(2027) == written.schedule(2027)
    assert [read.basis(y) for y in (2026, 2027, 2031)] == [
        written.basis(y) for y in (2026, 2027, 2031)
    ]
    assert read.schedule(2027).source == "测试用日程"
    assert not read.is_provisional(D(2027, 1, 4)) and not read.is_working_day(D(2027, 1, 1))


async def test_import_year_makes_2027_known(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        before = await load_calendar(session=session)
    assert before.is_provisional(D(2027, 1, 4))
    # a 5-day case accepted on Monday 28 December 2026: Mon–Fri assumed for 2027
    reading = read_clock(
        calendar=before, accepted_on=D(2026, 12, 28), limit_days=5, suspensions=[], today=NOW.date()
    )
    assert (reading.due_on, reading.provisional) == (D(2027, 1, 4), True)

    async with sessions.begin() as session:
        written = await import_year(
            session=session, year=2027, days=TEST_2027, source="测试用日程", now=NOW
        )
    assert written == 3
    async with sessions() as session:
        after = await load_calendar(session=session)
        recorded = await session.get(CalendarYear, 2027)
    assert recorded is not None and recorded.source == "测试用日程"
    assert recorded.imported_at == NOW
    assert not after.is_provisional(D(2027, 1, 4))
    assert not after.is_working_day(D(2027, 1, 1)) and after.is_working_day(D(2027, 2, 6))
    reading = read_clock(
        calendar=after, accepted_on=D(2026, 12, 28), limit_days=5, suspensions=[], today=NOW.date()
    )
    assert (reading.due_on, reading.provisional) == (D(2027, 1, 5), False)


async def test_importing_a_year_again_replaces_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await import_year(session=session, year=2027, days=TEST_2027, source="first", now=NOW)
        # another year's rows are left alone
        await import_year(
            session=session, year=2028, days=[(D(2028, 1, 3), False, "")], source="x", now=NOW
        )
    later = NOW + dt.timedelta(days=1)
    async with sessions.begin() as session:
        written = await import_year(
            session=session,
            year=2027,
            days=[(D(2027, 1, 1), False, "元旦")],
            source="second",
            now=later,
        )
    assert written == 1
    async with sessions() as session:
        rows = (await session.scalars(select(CalendarDay).order_by(CalendarDay.day))).all()
        years = (await session.scalars(select(CalendarYear).order_by(CalendarYear.year))).all()
    assert [(r.day, r.year, r.is_working_day, r.name) for r in rows] == [
        (D(2027, 1, 1), 2027, False, "元旦"),
        (D(2028, 1, 3), 2028, False, ""),
    ]
    assert [(y.year, y.source, y.imported_at) for y in years] == [
        (2027, "second", later),
        (2028, "x", NOW),
    ]


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ([(D(2026, 12, 31), False, "")], "2026-12-31 is not in 2027"),
        ([(D(2027, 1, 1), False, ""), (D(2027, 1, 1), False, "")], "2027-01-01 is listed twice"),
        ([(D(2027, 1, 1), False, "x" * 65)], "longer than 64"),
    ],
)
async def test_import_year_refuses_bad_days(
    sessions: async_sessionmaker[AsyncSession], days: list[tuple[dt.date, bool, str]], message: str
) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError) as raised:
            await import_year(session=session, year=2027, days=days, source="x", now=NOW)
        assert message in str(raised.value)
        assert await session.scalar(select(func.count()).select_from(CalendarDay)) == 0


# --- govhub calendar import|show ----------------------------------------------------------

STORES = ("city", "county", "town", "village", "identity")


def govhub(var: Path, *args: str) -> Result:
    """``govhub <args>`` on the SQLite stores under ``var``, whatever the backend."""
    env: dict[str, str | None] = {
        "GOVHUB_MODE": "dev",
        "GOVHUB_VAR_DIR": str(var),
        "GOVHUB_SECRET_KEY": "calendar-test-secret",
        "GOVHUB_CLOCK_OVERRIDE": NOW.isoformat(),
        "GOVHUB_REDIS_URL": None,
        "REDIS_URL": None,
        **{f"GOVHUB_{store.upper()}_DB_URL": None for store in STORES},
    }
    return CliRunner().invoke(main, list(args), env=env)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def per_store(var: Path, fn: Callable[[AsyncSession], Any]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        nodes = NodeRegistry.from_settings(
            Settings(var_dir=var, redis_url=None, **{f"{s}_db_url": None for s in STORES})
        )
        try:
            found = {}
            for node in nodes:
                async with node.sessions() as session:
                    found[node.name] = await fn(session)
            return found
        finally:
            await nodes.dispose()

    return asyncio.run(run())


def test_calendar_import_and_show(tmp_path: Path) -> None:
    var = tmp_path / "var"
    ok(govhub(var, "init"))
    file = tmp_path / "2027.json"
    file.write_text(json.dumps(SCHEDULE_2027, ensure_ascii=False), encoding="utf-8")

    shown = ok(govhub(var, "calendar", "show", "2027"))
    assert "2027: provisional: Mon–Fri" in shown

    output = ok(govhub(var, "calendar", "import", str(file)))
    assert "calendar 2027 imported into city, county, town, village" in output
    assert "3 days off, 1 make-up working days" in output

    async def read(session: AsyncSession) -> tuple[str, int, bool]:
        calendar = await load_calendar(session=session)
        return (
            calendar.schedule(2027).basis,
            calendar.add_working_days(D(2026, 12, 31), 1).day,
            calendar.is_working_day(D(2027, 2, 6)),
        )

    assert per_store(var, read) == {
        name: ("imported", 4, True) for name in ("city", "county", "town", "village")
    }

    shown = ok(govhub(var, "calendar", "show", "2027"))
    assert "2027: imported: 测试用日程（非官方）" in shown
    assert "2027-01-01  Fri  holiday      元旦" in shown
    assert "2027-02-06  Sat  working day  春节" in shown
    assert "3 days off, 1 make-up working days" in shown

    shown = ok(govhub(var, "calendar", "show", "2025"))
    assert "2025: chinesecalendar" in shown
    assert "2025-10-01  Wed  holiday      国庆节" in shown
    assert "2025-09-28  Sun  working day  国庆节" in shown

    # a malformed file: a clear message, nothing written
    file.write_text(with_day({"date": "2027-03-01", "workingDay": True}), encoding="utf-8")
    refused = govhub(var, "calendar", "import", str(file))
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "2027-03-01 is a Mon" in refused.output

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(CalendarDay)) or 0)

    assert set(per_store(var, count).values()) == {4}


def test_calendar_commands_want_migrated_stores(tmp_path: Path) -> None:
    result = govhub(tmp_path / "var", "calendar", "show", "2025")
    assert result.exit_code == 1 and "run 'govhub init' first" in result.output
