"""Resolvers of the monthly report's filing (月报表备案): a town centre's director or
admin files last month's report — its figures from the same ``collect`` as the
``supervision`` query, the window staff assessment and complaints from the centre's
store — and the county reads what was filed. Thin: parse, check the policy table, read
the figures across the nodes, and have the node keeping the centre file it
(``fileMonthlyReport`` through its API when it has an address, else
``levels/node/monthly_reports.file_in`` by SQL in its store)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import Account
from auth.policy import Action, Resource, Target, require
from levels.cases.service import china_date
from levels.common.codes import parse_division
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.common.rowcodec import decode_row
from levels.node import monthly_reports as node_reports
from levels.node.monthly_reports import FilingAsk
from levels.node.steps import encode_actor
from levels.supervision import filing
from levels.supervision.errors import SupervisionErrorCode
from levels.supervision.models import MonthlyReport
from levels.supervision.period import month_period

# the module, not its names: resolvers.supervision reads schema.info, whose package
# imports this module's schema in turn (a name would not be there yet)
from resolvers import node_report_calls, remote_supervision, supervision
from resolvers.cases import actor_of
from resolvers.fanout import fan_out, guarded
from resolvers.nodeclient import NodeClient
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from resolvers.remote import _refusal
from resolvers.windows import find_org
from schema.info import Info
from schema.monthly_reports import MonthlyReportPayload, MonthlyReportType
from schema.payloads import user_errors


async def _filer_name(info: Info) -> str:
    async with info.context.identity.store.sessions() as session:
        name = await session.scalar(
            select(Account.display_name).where(Account.id == info.context.viewer.subject)
        )
    return name or info.context.viewer.subject


async def _filed(
    info: Info, node: Node, org: ServiceOrg, ask: FilingAsk, now: dt.datetime
) -> MonthlyReport:
    """The report filed in the store of the node owning the org's division: through
    the node's API when it has an address (``fileMonthlyReport``: the node reads its
    calendar and what the report holds of its own rows), else by SQL — the same
    ``file_in`` either way. A node that does not answer is ``NodeUnavailable``
    naming it (nothing written by the hub)."""
    ctx = info.context
    workday = ctx.settings.monthly_report_workday
    client = node.client
    if client is None:
        async with node.sessions.begin() as session:
            return await node_reports.file_in(
                session, ask.draft(org), actor=actor_of(info), now=now, workday=workday
            )
    actor = encode_actor(actor_of(info))
    answer = await guarded(
        ctx.nodes.breakers,
        node,
        lambda: node_report_calls.file_monthly_report(
            client, ask, workday=workday, actor=actor, now=now
        ),
        client.timeout,
    )
    refused = _refusal(answer)
    columns = answer.get("columns")
    if refused is not None or not isinstance(columns, dict):
        raise refused or DomainError(ErrorCode.ORG_NOT_FOUND, field=["input", "orgCode"])
    found: MonthlyReport = decode_row(MonthlyReport, columns)
    return found


async def file_monthly_report(info: Info, input: Any) -> MonthlyReportPayload:
    ctx = info.context
    try:
        level, org = await find_org(info, input.org_code, ["input", "orgCode"])
        if level is not Level.TOWN:
            raise DomainError(SupervisionErrorCode.NOT_A_TOWN_CENTRE, field=["input", "orgCode"])
        target = Target(Resource.MONTHLY_REPORT, division_code=org.division_code, org_code=org.code)
        require(ctx.viewer, Action.FILE_REPORT, target)
        try:
            period = month_period(input.month.strip())
        except DomainError as e:
            raise DomainError(e.code, field=["input", "month"]) from None
        now = ctx.clock.now()
        today = china_date(now)
        if period.end >= today:
            raise DomainError(SupervisionErrorCode.MONTH_NOT_OVER, field=["input", "month"])
        timeout = ctx.settings.node_timeout_seconds
        division = await supervision.find_division(
            ctx.sessions, parse_division(org.division_code), timeout=timeout
        )
        report, failures = await supervision.collect(
            ctx.sessions, division, period, today=today, timeout=timeout
        )
        report_unavailable(info, failures)
        ask = FilingAsk(
            org_code=org.code,
            division_code=org.division_code,
            month=filing.month_of(period.start),
            figures=filing.figures_of(report.totals),
            filed_by=ctx.viewer.subject,
            filed_by_name=await _filer_name(info),
        )
        row = await _filed(info, ctx.nodes.owner(org.division_code), org, ask, now)
    except DomainError as e:
        return MonthlyReportPayload(errors=user_errors(e, ctx.locale))
    return MonthlyReportPayload(report=MonthlyReportType.from_row(row))


async def monthly_reports(
    info: Info, division_code: str, month: str | None
) -> list[MonthlyReportType]:
    """The reports filed by the town centres of a division (of one month), newest month
    first; for the county's supervisors and auditors, and the centre's own. One call to
    each node owning towns under the division (``filedMonthlyReports`` through its
    API, else one statement by SQL)."""
    ctx = info.context
    code = parse_division(division_code, field="divisionCode")
    require(ctx.viewer, Action.READ, Target(Resource.MONTHLY_REPORT, division_code=code.code))
    wanted = month_period(month.strip()) if month else None
    key = filing.month_of(wanted.start) if wanted else None

    async def fetch(_node: Node, session: AsyncSession) -> Sequence[MonthlyReport]:
        return await filing.filed_reports(code.prefix, key, session=session)

    async def ask(_node: Node, client: NodeClient) -> Sequence[MonthlyReport]:
        return await remote_supervision.filed_reports(client, code.prefix, key)

    if code.level.depth > Level.TOWN.depth:
        return []
    result = await fan_out(
        ctx.sessions,
        [Level.TOWN],
        fetch,
        timeout=ctx.settings.node_timeout_seconds,
        under=code,
        remote=ask,
    )
    report_unavailable(info, result.unavailable)
    rows = [r for found in result.values.values() for r in found]
    rows.sort(key=lambda r: r.division_code)
    rows.sort(key=lambda r: r.month, reverse=True)
    return [MonthlyReportType.from_row(r) for r in rows]
