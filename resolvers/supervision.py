"""Resolver of the supervision figures: check the policy table, then fan out — the
counts of every level store at or below the division (``levels/supervision``), one
batched look-up of items held by another store, and the combination. The monthly
report (``gateway/report.py``) calls ``collect`` too: one implementation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from auth.accounts import agents_per_village
from auth.policy import Action, Resource, Target, require
from levels.cases.service import china_date
from levels.common.codes import DivisionCode, parse_division
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError
from levels.common.models import Division
from levels.common.service import divisions_by_code
from levels.supervision.combine import Report, combine, resolve_visits
from levels.supervision.counts import StoreCounts, max_visits, store_counts
from levels.supervision.errors import SupervisionErrorCode
from levels.supervision.period import Period, period_of
from levels.supervision.staffing import CENTRE_LEVELS, department_window_staff
from resolvers.fanout import NodeUnavailable, call_node, fan_out
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from resolvers.sessions import RequestSessions
from schema.info import Info
from schema.supervision import SupervisionReport


async def find_division(
    sessions: RequestSessions, code: DivisionCode, *, timeout: float
) -> Division:
    """The division row, from the store of its level (UNKNOWN_DIVISION when none)."""

    async def fetch(_node: Node, session: AsyncSession) -> Sequence[Division]:
        return await divisions_by_code([code.code], session=session)

    rows = await call_node(sessions, sessions.nodes.owner(code), fetch, timeout)
    if not rows:
        raise DomainError(SupervisionErrorCode.UNKNOWN_DIVISION, field=["divisionCode"])
    return rows[0]


async def collect(
    sessions: RequestSessions,
    division: Division,
    period: Period,
    *,
    today: dt.date,
    timeout: float,
) -> tuple[Report, list[NodeUnavailable]]:
    """The report of ``division`` and everything below it: six statements on each
    level store at or below its level (two more on a city or county store, for its
    departments' window staff), at most one more where items referred cases name are
    held, and one on the identity store (the agents of each village)."""
    prefix = DivisionCode(division.code, division.level).prefix
    levels = LEVELS[division.level.depth :]

    async def fetch(node: Node, session: AsyncSession) -> list[StoreCounts]:
        # the counts of each level the node holds (one in the embedded default)
        found = []
        for level in (lv for lv in node.levels if lv in levels):
            counts = await store_counts(level, prefix, period, today, session=session)
            if level in CENTRE_LEVELS:
                counts.departments = await department_window_staff(prefix, session=session)
            found.append(counts)
        return found

    counted = await fan_out(sessions, levels, fetch, timeout=timeout, under=division.code)
    failures = list(counted.unavailable)
    stores = [counts for part in counted.values.values() for counts in part]

    wanted: dict[Level, list[str]] = defaultdict(list)
    for store in stores:
        for p in store.pending:
            digit = p.implementation_code[18:19]
            if digit in {"1", "2", "3", "4"}:
                wanted[Level.from_digit(digit)].append(p.implementation_code)
    if wanted:

        async def look_up(node: Node, session: AsyncSession) -> dict[str, int]:
            codes = {c for lv in node.levels for c in wanted.get(lv, [])}
            return await max_visits(sorted(codes), session=session)

        found = await fan_out(sessions, list(wanted), look_up, timeout=timeout)
        down = {f.node_id for f in failures}
        failures += [f for f in found.unavailable if f.node_id not in down]
        visits = {code: n for part in found.values.values() for code, n in part.items()}
        resolve_visits(stores, visits)

    async with sessions.nodes.identity.sessions() as session:
        agents = await agents_per_village(prefix, session=session)

    report = combine(
        stores,
        division_code=division.code,
        division_name=division.name,
        period=period,
        unavailable=[lv for f in failures for lv in f.node.levels],
        today=today,
        agents=agents,
    )
    return report, failures


async def supervision(
    info: Info, division_code: str, start: dt.date | None, end: dt.date | None
) -> SupervisionReport:
    ctx = info.context
    code = parse_division(division_code, field="divisionCode")
    require(ctx.viewer, Action.READ_FIGURES, Target(Resource.SUPERVISION, division_code=code.code))
    today = china_date(ctx.clock.now())
    period = period_of(start, end, today=today)
    timeout = ctx.settings.node_timeout_seconds
    division = await find_division(ctx.sessions, code, timeout=timeout)
    report, failures = await collect(ctx.sessions, division, period, today=today, timeout=timeout)
    report_unavailable(info, failures)
    return SupervisionReport.of(report)
