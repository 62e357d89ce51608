"""许可结果公开: ``publicDecisions``, the decided cases of a division and everything below
it, across the stores of its level and the levels under it, for anyone (000 "应当将许可
结果予以公开，公众有权查阅"). What is public is ``levels/cases/publicity.py``'s to say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action, require
from levels.cases import publicity
from levels.common.codes import parse_division, validate_basic_code
from levels.common.dates import kept_day
from levels.common.enums import LEVELS
from levels.common.errors import DomainError, ErrorCode
from resolvers.fanout import fan_out, node_ids
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from schema.info import Info
from schema.publicity import PublicDecision, public_decision_target
from schema.relay import Connection, connection


async def public_decisions(
    info: Info,
    division_code: str,
    matter: str | None,
    decided_from: dt.date | None,
    decided_to: dt.date | None,
    first: int | None,
    after: str | None,
) -> Connection[PublicDecision]:
    ctx = info.context
    settings = ctx.settings
    division = parse_division(division_code)
    require(ctx.viewer, Action.READ, public_decision_target(division.code))
    basic_code = validate_basic_code(matter.strip(), field="matter") if matter else None
    kept_day(decided_from, ("from",))
    kept_day(decided_to, ("to",))
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    # a division's cases are held by its level's store and the stores below it
    levels = [lv for lv in LEVELS if lv.depth >= division.level.depth]
    start = decode_cursor(after, allowed=node_ids(ctx.sessions, levels))
    if await ctx.loaders.division_by_code.load(division.code) is None:
        raise DomainError(ErrorCode.DIVISION_NOT_FOUND, field=["divisionCode"])
    stmt = publicity.decided_cases(
        division.prefix, basic_code=basic_code, decided_from=decided_from, decided_to=decided_to
    )

    # the node is a resolvers.registry.Node (its id keys the cursor position)
    async def fetch(node: Any, session: AsyncSession) -> Sequence[Any]:
        return await publicity.decisions_page(
            session, stmt, after=start.get(node.id), limit=size + 1
        )

    result = await fan_out(ctx.sessions, levels, fetch, timeout=settings.node_timeout_seconds)
    report_unavailable(info, result.unavailable)
    page = merge_page(dict(result.values), lambda r: r.number, first=size, start=start)
    return connection(page, PublicDecision.from_row)
