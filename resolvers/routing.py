"""Routing: division → node, and the service routes a village station asks for."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from levels.common import reads
from levels.common.codes import parse_division
from levels.common.enums import MatterStatus
from levels.common.errors import DomainError, ErrorCode
from levels.common.reads import ReadRow
from levels.common.routes import compute_routes
from levels.node.records import OrgRecordKind
from resolvers import remote
from resolvers.fanout import fan_out
from resolvers.nodeclient import NodeClient
from resolvers.pagination import decode_cursor, page_size, slice_page
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from schema.info import Info
from schema.matters import ServiceRoute
from schema.ready_items import ready_items
from schema.relay import Connection, connection


async def service_routes(
    info: Info, division_code: str, keyword: str | None, first: int | None, after: str | None
) -> Connection[ServiceRoute]:
    ctx = info.context
    size = page_size(
        first, default=ctx.settings.default_page_size, maximum=ctx.settings.max_page_size
    )
    division = parse_division(division_code)
    start = decode_cursor(after, allowed=[division.level])
    # each division of the chain at its owner: one call per node, with the codes it owns
    owned: dict[str, list[str]] = {}
    owners = []
    for d in division.chain:
        owner = ctx.nodes.owner(d)
        owned.setdefault(owner.id, []).append(d.code)
        owners.append(owner)

    async def implementations(node: Node, session: AsyncSession) -> Sequence[ReadRow]:
        return await reads.implementations_by_division(owned[node.id], session=session)

    async def implementations_api(node: Node, client: NodeClient) -> Sequence[ReadRow]:
        kind = OrgRecordKind.IMPLEMENTATIONS_OF_DIVISION
        return await remote.org_records(client, kind, owned[node.id])

    # the division's existence and the chain's lists are independent: ask at once
    exists, found = await asyncio.gather(
        ctx.loaders.division_by_code.load(division.code),
        fan_out(
            ctx.sessions,
            owners,
            implementations,
            timeout=ctx.settings.node_timeout_seconds,
            remote=implementations_api,
        ),
    )
    if exists is None:
        raise DomainError(
            ErrorCode.DIVISION_NOT_FOUND, field=["divisionCode"], detail=division.code
        )
    report_unavailable(info, found.unavailable)
    rows = [row for level_rows in found.values.values() for row in level_rows]
    for row in rows:
        ctx.loaders.implementation_by_code.prime(row.code, row)
    # the town items' delegations (county node) and the catalogue entries (city node)
    delegation_ids = sorted({r.delegation_id for r in rows if r.delegation_id})
    basic_codes = sorted({r.basic_code for r in rows})
    # and the chain's service orgs (each level node), which every route's decider and
    # path name: loaded once here, so the per-route fields need no future of their own
    chain_codes = [d.code for d in division.chain]
    views, matter_rows, *org_rows = await asyncio.gather(
        ctx.loaders.delegation_by_id.load_many(delegation_ids),
        ctx.loaders.matter_by_code.load_many(basic_codes),
        *(ctx.loaders.service_org_by_division.load(code) for code in chain_codes),
        return_exceptions=True,
    )
    for loaded in (views, matter_rows):
        if isinstance(loaded, BaseException):
            raise loaded
    orgs = dict(zip(chain_codes, org_rows, strict=True))
    delegations = [v for v in views if v is not None]
    routes = compute_routes(division, rows, delegations, now=ctx.clock.now())
    catalogue = {m.basic_code: m for m in matter_rows if m is not None}
    matters = [catalogue.get(r.basic_code) for r in routes]
    listed = [
        r
        for r, m in zip(routes, matters, strict=True)
        if m is not None
        and m.status is MatterStatus.PUBLISHED
        and (not keyword or keyword in m.name)
    ]
    page = slice_page(
        listed, lambda r: r.basic_code, lambda _r: division.level, first=size, start=start
    )
    shaped = connection(page, ServiceRoute.shaper(catalogue, orgs))
    # what the operation selects on the routes' items, loaded for the page at once
    await ready_items(info, [e.node.implementation for e in shaped.edges], "implementation")
    return shaped
