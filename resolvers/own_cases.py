"""A resident's or enterprise's own cases ("my cases", ``cases`` with a viewer whose
scope is their own account) when some node asked is reached through its API: that node
is asked for the account's cases (``casesOf``, by applicant or submitter, number order,
its cursor), the others by SQL, and the pages merge with one cursor position per node —
the same answers and paging as the SQL path of ``resolvers.cases.cases``, which serves
every other case (and any filter the hub cannot test on a row)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.models import Case
from levels.common.codes import level_of_division
from levels.common.enums import LEVELS
from levels.common.reads import ReadRow, rows, table
from resolvers.case_lists import case_scope, own_lister, remote_filter, row_sql
from resolvers.fanout import fan_out, nodes_for
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from schema.case_inputs import CaseFilter
from schema.cases import CaseType
from schema.info import Info
from schema.relay import Connection, connection

_case = table(Case)


async def own_cases(
    info: Info, filter: CaseFilter | None, first: int | None, after: str | None
) -> Connection[CaseType] | None:
    """The viewer's own cases when a node with an API address is among those asked and
    the filter is one the hub tests on a row; None otherwise (the caller's SQL path)."""
    ctx = info.context
    f = filter or CaseFilter()
    scope = case_scope(ctx.viewer)
    if scope is None or scope.subject is None or not remote_filter(f):
        return None
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    levels = [f.level] if f.level else list(LEVELS)
    under = f.division_code if f.division_code is not None else ctx.viewer.jurisdiction
    if under is not None and level_of_division(under) is None:
        under = None
    asked = nodes_for(ctx.sessions, levels, under)
    if not any(node.client is not None for node in asked):
        return None
    start = decode_cursor(after, allowed=[node.id for node in asked])
    stmt = row_sql(f, scope.sql(select(_case)))
    listed = own_lister(f, scope, start, size, settings.max_page_size)

    async def fetch(node: Node, session: AsyncSession) -> Sequence[ReadRow | Case]:
        page = stmt.order_by(_case.c.number)
        position = start.get(node.id)
        if position is not None:
            page = page.where(_case.c.number > position)
        return await rows(session, page.limit(size + 1))

    result = await fan_out(
        ctx.sessions,
        levels,
        fetch,
        timeout=settings.node_timeout_seconds,
        under=under,
        remote=listed,
    )
    report_unavailable(info, result.unavailable)
    merged = merge_page(dict(result.values), lambda r: r.number, first=size, start=start)
    return connection(merged, CaseType.from_row)
