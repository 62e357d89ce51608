"""Per-request DataLoader of the town centres late with their monthly report (月报表备案),
keyed by (division prefix, today, the working day it is due on): asked of each node
owning towns under the prefix — one call each (``lateMonthlyReports`` through its API,
else three statements by SQL) — where the centres and their filed reports are, the
answers merged; a node that does not answer leaves its centres out (``failed``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.codes import parse_division
from levels.common.enums import Level
from levels.node.supervision import late_centres, merge_overdue
from levels.supervision.filing import OverdueReports
from resolvers import remote_supervision
from resolvers.level_loader import LevelLoader
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node

Key = tuple[str, dt.date, int]


class OverdueReportsByDivisionLoader(LevelLoader[Key, OverdueReports]):
    remote = True
    many = True
    partial = True

    def levels_of(self, key: Key) -> Sequence[Level]:
        # a prefix of 9 digits or fewer covers towns; a village's covers none
        return (Level.TOWN,) if len(key[0]) <= 9 else ()

    def nodes_of(self, key: Key, level: Level) -> list[Node]:
        under = parse_division(key[0].ljust(12, "0")) if key[0] else None
        return self.sessions.nodes.holding(level, under)

    async def fetch(self, keys: list[Key], *, session: AsyncSession) -> Sequence[OverdueReports]:
        return [
            await late_centres(prefix, today, workday, session=session)
            for prefix, today, workday in keys
        ]

    async def fetch_remote(self, keys: list[Key], *, client: NodeClient) -> Sequence[Any]:
        return [
            await remote_supervision.late_reports(client, prefix, today, workday)
            for prefix, today, workday in keys
        ]

    def answers(self, level: Level, row: OverdueReports) -> Key:
        return (row.prefix, row.today, row.workday)

    async def batch_load_fn(self, keys: list[Key]) -> list[Any]:
        # each node's part of a key, merged into one answer (None: no node asked)
        found = await super().batch_load_fn(keys)
        return [v if isinstance(v, BaseException) else merge_overdue(v) for v in found]
