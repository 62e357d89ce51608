"""The supervision figures and reports a node serves the hub (电子监察), merged into the
node's ``Query`` (``schema/node/__init__.py``): the report's counts over the node's own
divisions under a division, the ``max_visits`` of its items, the rating roll-up's
tallies, its rectifications and complaints, its filed monthly reports and the town
centres late with theirs. Each is the read the hub makes of a store
(``levels/node/supervision.py``): the same statements, so the answers are the SQL
path's; a count is one call per node, summed at the hub."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy import Select
from strawberry.scalars import JSON

from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.evaluations.enums import RollupDimension
from levels.evaluations.models import Complaint, Rectification
from levels.node import supervision as node_supervision
from levels.node.supervision import ListConditions, RollupAsk
from levels.supervision.filing import filed_reports
from levels.supervision.models import MonthlyReport
from levels.supervision.period import Period
from schema.node.types import NodeInfo, Record, records

_Under = Annotated[
    str,
    strawberry.argument(
        description="A division-code prefix (a division's); empty: every row held here"
    ),
]
_Limit = Annotated[int, strawberry.argument(description="At most this many")]
_ListFilter = Annotated[JSON | None, strawberry.argument(description="The list's conditions")]
MAX_LIMIT = 500


def _under(info: NodeInfo, prefix: str) -> str:
    """``prefix`` when this node serves part of its range, or owns one of its
    ancestors (whose rows about divisions under it are kept here) — else
    DIVISION_NOT_OWNED; the empty prefix is every row this node holds."""
    if prefix:
        if not prefix.isdigit() or len(prefix) > 12:
            raise DomainError(ErrorCode.BAD_USER_INPUT, field=["under"], detail=prefix)
        info.context.scope.require_range(prefix.ljust(12, "0"), field="under", upward=True)
    return prefix


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["limit"], detail=str(limit))
    return limit


@strawberry.type(name="SupervisionQuery", description="Supervision figures and reports")
class SupervisionQueries:
    @strawberry.field(
        description="The supervision report's raw counts of this node's orgs under "
        "`under` for the period (`start`..`end`, China dates, both included), for the "
        "levels asked that it holds: a list of {level, orgs, byOrg, pending, "
        "departments}, one per level; the statements run once, whatever the levels"
    )
    async def supervision_counts(
        self,
        info: NodeInfo,
        under: _Under,
        levels: Annotated[list[Level], strawberry.argument(description="The levels counted")],
        start: Annotated[dt.date, strawberry.argument(description="The first day")],
        end: Annotated[dt.date, strawberry.argument(description="The last day")],
        today: Annotated[dt.date, strawberry.argument(description="The day judged on")],
    ) -> JSON:
        prefix = _under(info, under)
        scope = info.context.scope
        held = [lv for lv in LEVELS if lv in levels and scope.holds(lv)]
        async with info.context.reading() as session:
            found = await node_supervision.node_counts(
                held, prefix, Period(start, end), today, session=session
            )
        return cast(JSON, node_supervision.encode_counts(found))

    @strawberry.field(description="`maxVisits` of the items of these codes kept here: code → n")
    async def max_visits(
        self,
        info: NodeInfo,
        codes: Annotated[list[str], strawberry.argument(description="Implementation codes")],
    ) -> JSON:
        async with info.context.reading() as session:
            found = await node_supervision.item_visits(codes, session=session)
        return cast(JSON, found)

    @strawberry.field(
        description="好差评 roll-up: this node's ratings under `under` per key of the "
        "dimension and rating, upheld appeals left out: a list of [key, rating, count]"
    )
    async def rating_tallies(
        self,
        info: NodeInfo,
        dimension: Annotated[str, strawberry.argument(description="STAFF, WINDOW, …")],
        under: _Under,
        rated_from: Annotated[
            dt.datetime | None, strawberry.argument(description="Rated at or after")
        ] = None,
        rated_before: Annotated[
            dt.datetime | None, strawberry.argument(description="Rated before")
        ] = None,
    ) -> JSON:
        try:
            kind = RollupDimension[dimension]
        except KeyError:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, field=["dimension"], detail=dimension
            ) from None
        ask = RollupAsk(kind, _under(info, under), rated_from, rated_before)
        async with info.context.reading() as session:
            found = await node_supervision.rollup_rows(ask, session=session)
        return cast(JSON, found)

    @strawberry.field(
        description="整改 kept here under `under` meeting `filter` (applicant, status, "
        "overdue), soonest due first, at most `limit`, every column"
    )
    async def rectification_list(
        self,
        info: NodeInfo,
        under: _Under,
        limit: _Limit,
        filter: _ListFilter = None,
    ) -> list[Record]:
        return await _listed(
            info, Rectification, node_supervision.rectification_query, under, limit, filter
        )

    @strawberry.field(
        description="投诉 kept here under `under` meeting `filter` (complainant as "
        "applicant, status, overdue, caseNumber), newest first, at most `limit`, every column"
    )
    async def complaint_list(
        self,
        info: NodeInfo,
        under: _Under,
        limit: _Limit,
        filter: _ListFilter = None,
    ) -> list[Record]:
        return await _listed(
            info, Complaint, node_supervision.complaint_query, under, limit, filter
        )

    @strawberry.field(
        description="月报表备案: the monthly reports filed here under `under` (of `month`, "
        "YYYY-MM, when given), newest month first, every column"
    )
    async def filed_monthly_reports(
        self,
        info: NodeInfo,
        under: _Under,
        month: Annotated[str | None, strawberry.argument(description="YYYY-MM")] = None,
    ) -> list[Record]:
        prefix = _under(info, under)
        async with info.context.reading() as session:
            found = await filed_reports(prefix, month, session=session)
        return records(MonthlyReport, found)

    @strawberry.field(
        description="The town centres kept here under `under` that have not filed the "
        "latest month due by `today` (on this node's calendar, due on the `workday`th "
        "working day): {prefix, today, workday, month, dueOn, centres}"
    )
    async def late_monthly_reports(
        self,
        info: NodeInfo,
        under: _Under,
        today: Annotated[dt.date, strawberry.argument(description="The day judged on")],
        workday: Annotated[int, strawberry.argument(description="Due on this working day")],
    ) -> JSON:
        prefix = _under(info, under)
        async with info.context.reading() as session:
            found = await node_supervision.late_centres(prefix, today, workday, session=session)
        return cast(JSON, node_supervision.encode_overdue(found))


async def _listed(
    info: NodeInfo,
    model: type[Any],
    query: Callable[[str, ListConditions, int], Select[Any]],
    under: str,
    limit: int,
    filter: JSON | None,
) -> list[Record]:
    """The rows of ``model`` that ``query`` selects under ``under`` meeting ``filter``."""
    stmt = query(_under(info, under), _conditions(filter), _limit(limit))
    async with info.context.reading() as session:
        found = await node_supervision.listed(stmt, session=session)
    return records(model, found)


def _conditions(data: JSON | None) -> ListConditions:
    if data is not None and not isinstance(data, dict):
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["filter"], detail="an object")
    return ListConditions.decode(cast(dict, data) if data is not None else None)
