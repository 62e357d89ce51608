"""Per-request DataLoader of the town centres late with their monthly report (月报表备案),
keyed by (division prefix, today, the working day it is due on): asked of the town
store only, where the centres and their filed reports are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import load_calendar
from levels.common.enums import Level
from levels.supervision.filing import OverdueReports, overdue_centres
from resolvers.level_loader import LevelLoader

Key = tuple[str, dt.date, int]


class OverdueReportsByDivisionLoader(LevelLoader[Key, OverdueReports]):
    def levels_of(self, key: Key) -> Sequence[Level]:
        # a prefix of 9 digits or fewer covers towns; a village's covers none
        return (Level.TOWN,) if len(key[0]) <= 9 else ()

    async def fetch(self, keys: list[Key], *, session: AsyncSession) -> Sequence[OverdueReports]:
        calendar = await load_calendar(session=session)
        return [
            await overdue_centres(prefix, today, calendar, session=session, workday=workday)
            for prefix, today, workday in keys
        ]

    def answers(self, level: Level, row: OverdueReports) -> Key:
        return (row.prefix, row.today, row.workday)
