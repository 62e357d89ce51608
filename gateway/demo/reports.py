"""The demo's filed monthly report (月报表备案, 002 第二十条): 修文镇's centre filed its
October 2026 report on Thursday 5 November, the day before it was due (the 5th working
day of November); the other town centres of 榆次区 did not, and the county's
``supervision`` lists them."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from auth.models import Account
from gateway.demo.accounts import demo_actor
from gateway.nodes import NodeRegistry
from gateway.report import month_figures
from levels.calendar.workdays import load_calendar
from levels.common.clock import CHINA
from levels.supervision import filing

XIUWEN = "140702101000"
MONTH = "2026-10"
FILED_AT = dt.datetime(2026, 11, 5, 16, 30, tzinfo=CHINA)


async def load_demo_reports(nodes: NodeRegistry) -> dict[str, int]:
    async with nodes.identity.sessions() as session:
        director = await session.scalar(
            select(Account).where(Account.username == "xiuwen.director")
        )
    assert director is not None, "load the demo accounts first"
    # the demo is loaded into the nodes' stores (before their processes serve, in a
    # federation): the figures are read from those stores by SQL, not through the API
    by_sql = nodes.replacing(*(dataclasses.replace(n, client=None) for n in nodes))
    org, report, _down = await month_figures(
        by_sql, XIUWEN, MONTH, today=FILED_AT.date(), timeout=30.0
    )
    async with nodes.owner(XIUWEN).sessions.begin() as session:
        await filing.file_report(
            filing.Filing(
                org=org,
                period=report.period,
                figures=filing.figures_of(report.totals),
                filed_by=director.id,
                filed_by_name=director.display_name,
            ),
            session=session,
            actor=demo_actor(director, "WEB"),
            now=FILED_AT,
            calendar=await load_calendar(session=session),
        )
    return {"monthly_reports": 1}
