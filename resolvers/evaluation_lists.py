"""Resolvers of the 好差评 lists and roll-ups: the ratings rolled up per staff member,
window, department, org or matter (``ratingRollup``), and the rectifications and
complaints the viewer may see. Thin: parse, check the policy table, then ask each node
owning divisions under the scope once — through its API when it has an address
(``ratingTallies``, ``rectificationList``, ``complaintList``), else the same statement
by SQL (``levels/node/supervision.py``) — and merge: tallies summed, rows checked
against the policy table and ordered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind
from auth.policy import Action, Resource, Target, allows, jurisdiction_prefix
from levels.cases.service import start_of_day_after
from levels.common.codes import DivisionCode, level_of_division, parse_division
from levels.common.dates import kept_day
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError
from levels.evaluations import service
from levels.evaluations.enums import RollupDimension
from levels.node import supervision as node_supervision
from levels.node.supervision import ListConditions, RollupAsk
from resolvers import remote_supervision
from resolvers.fanout import FanOutResult, fan_out
from resolvers.nodeclient import NodeClient
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from schema.evaluations import (
    ComplaintFilter,
    ComplaintType,
    RatingRollupFilter,
    RatingTally,
    RectificationFilter,
    RectificationType,
)
from schema.info import Info

T = TypeVar("T")
LIST_LIMIT = 100


def _prefix(info: Info, action: Action, division: str | None) -> str | None:
    """Where to look (a division-code prefix), narrowed by the filter; None when
    nowhere. Applicants' rows are their own anywhere; every row found is still checked
    against the policy table."""
    viewer = info.context.viewer
    if viewer.kind in (AccountKind.PERSON, AccountKind.ENTERPRISE) and action is Action.READ:
        base: str | None = ""
    else:
        base = jurisdiction_prefix(viewer)
    if base is None:
        return None
    if division is not None:
        wanted = parse_division(division, field=("filter", "divisionCode")).prefix
        return wanted if wanted.startswith(base) else None
    return base


def _scope(prefix: str) -> DivisionCode | None:
    """The division whose range ``prefix`` is (None: every division)."""
    if not prefix:
        return None
    try:
        return parse_division(prefix.ljust(12, "0"))
    except DomainError:  # not a division's prefix: every node is asked
        return None


async def _ask_nodes(
    info: Info,
    prefix: str,
    fetch: Callable[[AsyncSession], Awaitable[T]],
    ask: Callable[[NodeClient], Awaitable[T]],
) -> FanOutResult[T]:
    """Each node owning divisions under ``prefix`` asked once (``ask`` through its
    API, else ``fetch`` by SQL); the nodes that did not answer reported."""
    ctx = info.context

    async def by_sql(_node: Node, session: AsyncSession) -> T:
        return await fetch(session)

    async def by_api(_node: Node, client: NodeClient) -> T:
        return await ask(client)

    result = await fan_out(
        ctx.sessions,
        LEVELS,
        by_sql,
        timeout=ctx.settings.node_timeout_seconds,
        under=_scope(prefix),
        remote=by_api,
    )
    report_unavailable(info, result.unavailable)
    return result


async def rating_rollup(
    info: Info, dimension: RollupDimension, filter: RatingRollupFilter | None
) -> list[RatingTally]:
    """Ratings per staff member, window, department, org or matter, counted at each
    node of the viewer's jurisdiction over its own divisions and summed here; upheld
    appeals are left out."""
    viewer = info.context.viewer
    f = filter or RatingRollupFilter()
    kept_day(f.rated_from, ("filter", "ratedFrom"))
    kept_day(f.rated_to, ("filter", "ratedTo"))
    probe = Target(Resource.EVALUATION, division_code=(viewer.jurisdiction or "").ljust(12, "0"))
    if not allows(viewer, Action.READ_FIGURES, probe):
        return []
    prefix = _prefix(info, Action.READ_FIGURES, f.division_code)
    if prefix is None:
        return []
    ask = RollupAsk(
        dimension,
        prefix,
        rated_from=start_of_day_after(f.rated_from - dt.timedelta(days=1))
        if f.rated_from
        else None,
        rated_before=start_of_day_after(f.rated_to) if f.rated_to else None,
    )
    result = await _ask_nodes(
        info,
        prefix,
        lambda session: node_supervision.rollup_rows(ask, session=session),
        lambda client: remote_supervision.rating_tallies(client, ask),
    )
    rows = [r for found in result.values.values() for r in found]
    return [RatingTally.of(t) for t in service.merge_tallies(rows)]


def level_at(node: Node, row: Any) -> Level:
    """The level a row was kept at: its node's, or — on a node holding several — the
    level of the division the row names."""
    if len(node.levels) == 1:
        return node.levels[0]
    return level_of_division(getattr(row, "division_code", "")) or node.levels[-1]


async def _listed(
    info: Info,
    prefix: str,
    stmt: Select[Any],
    ask: Callable[[NodeClient], Awaitable[Sequence[Any]]],
) -> list[tuple[Level, Any]]:
    result = await _ask_nodes(
        info, prefix, lambda session: node_supervision.listed(stmt, session=session), ask
    )
    return [
        (level_at(node, row), row)
        for node in info.context.nodes
        for row in result.values.get(node.id, [])
    ]


def _conditions(info: Info, status: Any, overdue: bool | None) -> ListConditions:
    viewer = info.context.viewer
    mine = viewer.kind in (AccountKind.PERSON, AccountKind.ENTERPRISE)
    return ListConditions(
        applicant=viewer.subject if mine else None,
        status=status.name if status is not None else None,
        overdue=overdue,
    )


async def rectifications(info: Info, filter: RectificationFilter | None) -> list[RectificationType]:
    """整改 the viewer may see, soonest due first; ``overdue`` finds those the
    worker's pass flagged (or completed late)."""
    f = filter or RectificationFilter()
    viewer = info.context.viewer
    prefix = _prefix(info, Action.READ, f.division_code)
    if prefix is None:
        return []
    c = _conditions(info, f.status, f.overdue)
    stmt = node_supervision.rectification_query(prefix, c, LIST_LIMIT)
    rows = await _listed(
        info,
        prefix,
        stmt,
        lambda client: remote_supervision.rectifications(client, prefix, c, LIST_LIMIT),
    )
    found = [RectificationType.from_row(level, row) for level, row in rows]
    visible = [r for r in found if allows(viewer, Action.READ, r.authz_target())]
    return sorted(visible, key=lambda r: (r.due_on, r.id))[:LIST_LIMIT]


async def complaints(info: Info, filter: ComplaintFilter | None) -> list[ComplaintType]:
    """投诉 the viewer may see (their own; supervisors', admins' and auditors'
    jurisdiction), newest first."""
    f = filter or ComplaintFilter()
    viewer = info.context.viewer
    prefix = _prefix(info, Action.READ, f.division_code)
    if prefix is None:
        return []
    c = _conditions(info, f.status, f.overdue)
    if f.case_number is not None:
        c = ListConditions(c.applicant, c.status, c.overdue, f.case_number.strip())
    stmt = node_supervision.complaint_query(prefix, c, LIST_LIMIT)
    rows = await _listed(
        info,
        prefix,
        stmt,
        lambda client: remote_supervision.complaints(client, prefix, c, LIST_LIMIT),
    )
    found = [ComplaintType.from_row(level, row) for level, row in rows]
    visible = [x for x in found if allows(viewer, Action.READ, x.authz_target())]
    return sorted(visible, key=lambda x: (x.filed_at, x.id), reverse=True)[:LIST_LIMIT]
