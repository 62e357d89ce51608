"""A page of cases makes, for all its cases at once, the clock the operation selects on
them, and keeps it on each case as a ready value (``schema/execution.py``): no resolver
call, no awaitable and no loader future per case.

The calendars are read as the field's resolver reads them: the same loader (one per
node and request, its cache answering what the request has already loaded), for the
cases whose clock runs only. A case whose node's calendar did not come keeps its clock
unset: its resolver runs and reports it as it always did."""

from __future__ import annotations

from collections.abc import Sequence

from levels.cases.service import china_date
from schema.cases import CaseType, case_clock, clock_runs
from schema.info import Info
from schema.selection import item_fields


async def ready_cases(info: Info, cases: Sequence[CaseType]) -> None:
    """Set the clock of a page's cases when the operation selects it."""
    if not cases or "clock" not in item_fields(info):
        return
    today = china_date(info.context.clock.now())
    running = [case for case in cases if clock_runs(case.row, today)]
    loader = info.context.loaders.calendar_by_level
    keys = [(case.row.level, case.row.division_code) for case in running]
    calendars = dict(zip(keys, await loader.load_page_cached(keys), strict=True)) if keys else {}
    for case in cases:
        if not clock_runs(case.row, today):
            case.ready_clock = case_clock(case.row, today, None)
            continue
        calendar = calendars[(case.row.level, case.row.division_code)]
        if not isinstance(calendar, BaseException) and calendar is not None:
            case.ready_clock = case_clock(case.row, today, calendar)
