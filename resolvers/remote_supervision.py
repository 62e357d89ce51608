"""The hub's supervision reads through a node's API (``schema/node/supervision_lists.py``):
the report's counts, items' ``max_visits``, the rating roll-up's tallies, the
rectification and complaint lists, the filed monthly reports and the late centres —
one call each, its answer made into what the SQL path reads
(``levels/node/supervision.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from levels.common.enums import Level
from levels.common.rowcodec import decode_row
from levels.evaluations.models import Complaint, Rectification
from levels.node import supervision as node_supervision
from levels.node.supervision import ListConditions, RollupAsk
from levels.supervision.counts import StoreCounts
from levels.supervision.filing import OverdueReports
from levels.supervision.models import MonthlyReport
from levels.supervision.period import Period
from resolvers.nodeclient import NodeClient, named_answer


async def _query(client: NodeClient, document: str, name: str, kind: type, **variables: Any) -> Any:
    return named_answer(client, await client.query(document, variables), name, kind)


_COUNTS = """
query SupervisionCounts(
  $under: String!, $levels: [Level!]!, $start: Date!, $end: Date!, $today: Date!
) {
  supervisionCounts(under: $under, levels: $levels, start: $start, end: $end, today: $today)
}
"""


async def supervision_counts(
    client: NodeClient, prefix: str, levels: Sequence[Level], period: Period, today: dt.date
) -> list[StoreCounts]:
    """The node's counts of ``levels`` under ``prefix`` for ``period``: one call."""
    found = await _query(
        client,
        _COUNTS,
        "supervisionCounts",
        list,
        under=prefix,
        levels=[lv.name for lv in levels],
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        today=today.isoformat(),
    )
    return node_supervision.decode_counts(found)


_VISITS = "query MaxVisits($codes: [String!]!) { maxVisits(codes: $codes) }"


async def max_visits(client: NodeClient, codes: Sequence[str]) -> dict[str, int]:
    found = await _query(client, _VISITS, "maxVisits", dict, codes=sorted(set(codes)))
    return {code: int(n) for code, n in found.items()}


_TALLIES = """
query RatingTallies(
  $dimension: String!, $under: String!, $ratedFrom: DateTime, $ratedBefore: DateTime
) {
  ratingTallies(dimension: $dimension, under: $under, ratedFrom: $ratedFrom,
    ratedBefore: $ratedBefore)
}
"""


async def rating_tallies(client: NodeClient, ask: RollupAsk) -> list[list[Any]]:
    """The node's roll-up rows (key, rating name, count): one call."""
    return await _query(
        client,
        _TALLIES,
        "ratingTallies",
        list,
        dimension=ask.dimension.name,
        under=ask.prefix,
        ratedFrom=None if ask.rated_from is None else ask.rated_from.isoformat(),
        ratedBefore=None if ask.rated_before is None else ask.rated_before.isoformat(),
    )


_RECTIFICATIONS = """
query Rectifications($under: String!, $limit: Int!, $filter: JSON) {
  rectificationList(under: $under, limit: $limit, filter: $filter) { columns }
}
"""

_COMPLAINTS = """
query Complaints($under: String!, $limit: Int!, $filter: JSON) {
  complaintList(under: $under, limit: $limit, filter: $filter) { columns }
}
"""


async def rectifications(
    client: NodeClient, prefix: str, conditions: ListConditions, limit: int
) -> list[Rectification]:
    found = await _query(
        client,
        _RECTIFICATIONS,
        "rectificationList",
        list,
        under=prefix,
        limit=limit,
        filter=conditions.encode(),
    )
    return [decode_row(Rectification, item["columns"]) for item in found]


async def complaints(
    client: NodeClient, prefix: str, conditions: ListConditions, limit: int
) -> list[Complaint]:
    found = await _query(
        client,
        _COMPLAINTS,
        "complaintList",
        list,
        under=prefix,
        limit=limit,
        filter=conditions.encode(),
    )
    return [decode_row(Complaint, item["columns"]) for item in found]


_FILED = """
query FiledMonthlyReports($under: String!, $month: String) {
  filedMonthlyReports(under: $under, month: $month) { columns }
}
"""


async def filed_reports(client: NodeClient, prefix: str, month: str | None) -> list[MonthlyReport]:
    found = await _query(client, _FILED, "filedMonthlyReports", list, under=prefix, month=month)
    return [decode_row(MonthlyReport, item["columns"]) for item in found]


_LATE = """
query LateMonthlyReports($under: String!, $today: Date!, $workday: Int!) {
  lateMonthlyReports(under: $under, today: $today, workday: $workday)
}
"""


async def late_reports(
    client: NodeClient, prefix: str, today: dt.date, workday: int
) -> OverdueReports:
    found = await _query(
        client,
        _LATE,
        "lateMonthlyReports",
        dict,
        under=prefix,
        today=today.isoformat(),
        workday=workday,
    )
    return node_supervision.decode_overdue(found)
