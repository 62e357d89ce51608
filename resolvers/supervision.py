"""Resolver of the supervision figures: check the policy table, then fan out — the
counts of each node owning divisions at or below the division, computed at the node
over its own store (``levels/node/supervision.py``; through the node's API when it has
an address) and summed here, one batched look-up of items held by another node, and
the combination. The monthly report (``gateway/report.py``) calls ``collect`` too: one
implementation."""

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
from levels.node.supervision import item_visits, node_counts
from levels.supervision.combine import Report, combine, resolve_visits
from levels.supervision.counts import StoreCounts
from levels.supervision.errors import SupervisionErrorCode
from levels.supervision.period import Period, period_of
from resolvers import remote, remote_supervision
from resolvers.fanout import NodeUnavailable, call_api, call_node, fan_out
from resolvers.nodeclient import NodeClient
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from resolvers.sessions import RequestSessions
from schema.info import Info
from schema.supervision import SupervisionReport


async def find_division(
    sessions: RequestSessions, code: DivisionCode, *, timeout: float
) -> Division:
    """The division row, from the node owning it — through its API when it has an
    address (UNKNOWN_DIVISION when none)."""
    node = sessions.nodes.owner(code)

    async def fetch(_node: Node, session: AsyncSession) -> Sequence[Division]:
        return await divisions_by_code([code.code], session=session)

    if node.client is not None:
        rows: Sequence[Division] = await call_api(
            sessions, node, lambda c: remote.divisions_by_code(c, [code.code]), timeout
        )
    else:
        rows = await call_node(sessions, node, fetch, timeout)
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
    """The report of ``division`` and everything below it: one call to each node
    owning divisions under it (``supervisionCounts`` through its API, else its six
    statements — two more on a city or county store, for its departments' window
    staff — by SQL), the levels it holds counted there and summed here; at most one
    more call where items referred cases name are held by another node; and one
    statement on the identity store (the agents of each village)."""
    code = DivisionCode(division.code, division.level)
    prefix = code.prefix
    levels = LEVELS[division.level.depth :]

    def held(node: Node) -> list[Level]:
        return [lv for lv in node.levels if lv in levels]

    async def fetch(node: Node, session: AsyncSession) -> list[StoreCounts]:
        return await node_counts(held(node), prefix, period, today, session=session)

    async def ask(node: Node, client: NodeClient) -> list[StoreCounts]:
        return await remote_supervision.supervision_counts(
            client, prefix, held(node), period, today
        )

    counted = await fan_out(sessions, levels, fetch, timeout=timeout, under=code, remote=ask)
    failures = list(counted.unavailable)
    stores = [counts for part in counted.values.values() for counts in part]

    # items held by another node: asked of the nodes of the area the item's org's
    # credit code names (its first 18 characters), each once with its codes
    registry = sessions.nodes
    wanted: dict[str, set[str]] = defaultdict(set)
    for store in stores:
        for p in store.pending:
            digit = p.implementation_code[18:19]
            if digit in {"1", "2", "3", "4"}:
                level = Level.from_digit(digit)
                org = p.implementation_code[:18]
                for node in registry.org_nodes(org, level) or registry.holding(level):
                    wanted[node.id].add(p.implementation_code)
    if wanted:

        def codes_at(node: Node) -> list[str]:
            return sorted(wanted[node.id])

        async def look_up(node: Node, session: AsyncSession) -> dict[str, int]:
            return await item_visits(codes_at(node), session=session)

        async def look_up_remote(node: Node, client: NodeClient) -> dict[str, int]:
            return await remote_supervision.max_visits(client, codes_at(node))

        holders = [n for n in registry if n.id in wanted]
        found = await fan_out(sessions, holders, look_up, timeout=timeout, remote=look_up_remote)
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
    # the report's ``division`` field: the row just read, not asked of the node again
    ctx.loaders.division_by_code.prime(code.code, division)
    report, failures = await collect(ctx.sessions, division, period, today=today, timeout=timeout)
    report_unavailable(info, failures)
    return SupervisionReport.of(report)
