"""Resolvers of the catalogue queries: divisions, matters, implementation lists,
delegations. Thin: parse and validate input, pick the nodes, call the level services,
page the result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import draft_prefix
from levels.city import service as city_service
from levels.common import service as common_service
from levels.common.codes import (
    DivisionCode,
    Field,
    parse_division,
    validate_basic_code,
    validate_uscc,
)
from levels.common.enums import LEVELS, Level, MatterStatus
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Division as DivisionRow
from levels.common.reads import ReadRow
from levels.county import service as county_service
from levels.node.item_filter import ItemConditions
from resolvers import remote, remote_lists
from resolvers.fanout import fan_out, node_ids
from resolvers.nodeclient import NodeClient
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from schema.divisions import Division
from schema.filters import ImplementationFilter, MatterFilter
from schema.info import Info
from schema.matters import Delegation, Matter, MatterImplementation, implementation_key
from schema.ready_items import ready_items
from schema.relay import Connection, connection


def _size(info: Info, first: int | None) -> int:
    s = info.context.settings
    return page_size(first, default=s.default_page_size, maximum=s.max_page_size)


async def division(info: Info, code: str) -> Division | None:
    parsed = parse_division(code, field="code")
    row = await info.context.loaders.division_by_code.load(parsed.code)
    return Division.from_row(row) if row else None


async def divisions(
    info: Info,
    parent_code: str | None,
    level: Level | None,
    first: int | None,
    after: str | None,
) -> Connection[Division]:
    size = _size(info, first)
    parent = parse_division(parent_code, field="parentCode") if parent_code is not None else None
    if parent is not None:
        if level is not None and level.depth <= parent.level.depth:
            raise DomainError(ErrorCode.LEVEL_MISMATCH, field=["level"], detail=level.value)
        below = level or parent.level.below
        levels = [below] if below else []
    else:
        levels = [level] if level is not None else list(LEVELS)
    under = parent.code if parent is not None else None
    start = decode_cursor(after, allowed=node_ids(info.context.sessions, levels, under))
    direct = parent is not None and level is None

    async def fetch(node: Node, session: AsyncSession) -> Sequence[DivisionRow]:
        found: list[DivisionRow] = []
        for held in (lv for lv in node.levels if lv in levels):
            found += await common_service.list_divisions(
                session=session,
                level=held,
                parent_code=parent.code if parent and direct else None,
                within_prefix=parent.prefix if parent and not direct else None,
                after=start.get(node.id),
                limit=size + 1,
            )
        return sorted(found, key=lambda r: r.code)[: size + 1]

    max_page = info.context.settings.max_page_size

    async def fetch_api(node: Node, client: NodeClient) -> Sequence[DivisionRow]:
        # the node's pages in turn until it has ``size + 1`` (its page size is bounded)
        found: list[DivisionRow] = []
        position = start.get(node.id)
        while True:
            page = await remote_lists.divisions(
                client,
                [lv for lv in node.levels if lv in levels],
                parent_code=parent.code if parent and direct else None,
                within=parent.code if parent and not direct else None,
                after=position,
                first=min(size + 1 - len(found), max_page),
            )
            found += page.rows
            if len(found) > size or not page.has_next or not page.rows:
                return found
            position = page.rows[-1].code

    result = await fan_out(
        info.context.sessions,
        levels,
        fetch,
        timeout=info.context.settings.node_timeout_seconds,
        under=under,
        remote=fetch_api,
    )
    report_unavailable(info, result.unavailable)
    page = merge_page(dict(result.values), lambda r: r.code, first=size, start=start)
    return connection(page, Division.from_row)


def _within(code: str | None, field: Field) -> DivisionCode | None:
    return parse_division(code, field=field) if code is not None else None


def _levels_within(scope: DivisionCode | None, level: Level | None) -> list[Level]:
    """The nodes that can hold items of divisions within ``scope`` (at ``level``)."""
    candidates = [lv for lv in LEVELS if scope is None or lv.depth >= scope.level.depth]
    return [lv for lv in candidates if level is None or lv is level]


async def matters(
    info: Info, filter: MatterFilter | None, first: int | None, after: str | None
) -> Connection[Matter]:
    f = filter or MatterFilter()
    size = _size(info, first)
    start = decode_cursor(after, allowed=node_ids(info.context.sessions, [Level.CITY]))
    sessions = info.context.sessions
    timeout = info.context.settings.node_timeout_seconds
    basic_codes: set[str] | None = None
    if f.needs_implementations:
        scope = _within(f.division_code, ("filter", "divisionCode"))
        # only items in force: a draft or abolished item implements nothing yet
        stmt = common_service.implementation_query(
            within_prefix=scope.prefix if scope else None,
            online_level=f.online_level,
            max_visits=f.max_visits,
            status=MatterStatus.PUBLISHED,
        )

        async def implemented(node: Node, session: AsyncSession) -> set[str]:
            return await common_service.basic_codes_implemented(stmt, session=session)

        async def implemented_api(node: Node, client: NodeClient) -> set[str]:
            return await remote.implemented_matters(
                client,
                under=scope.code if scope else None,
                online_level=f.online_level,
                max_visits=f.max_visits,
            )

        found = await fan_out(
            sessions,
            _levels_within(scope, f.level),
            implemented,
            timeout=timeout,
            under=scope.code if scope else None,
            remote=implemented_api,
        )
        report_unavailable(info, found.unavailable)
        basic_codes = set().union(*found.values.values())

    async def fetch(node: Node, session: AsyncSession) -> Sequence[ReadRow]:
        return await city_service.search_matters(
            session=session,
            keyword=f.keyword,
            type=f.type,
            status=f.status,
            basic_codes=basic_codes,
            after=start.get(node.id),
            limit=size + 1,
        )

    async def fetch_api(node: Node, client: NodeClient) -> Sequence[Any]:
        # the node's pages in turn until it has ``size + 1`` (its page size is bounded)
        found: list[Any] = []
        position = start.get(node.id)
        while True:
            page = await remote.matters(
                client,
                keyword=f.keyword,
                type=f.type,
                status=f.status,
                basic_codes=basic_codes,
                after=position,
                first=min(size + 1 - len(found), max_page),
            )
            found += page.rows
            if len(found) > size or not page.has_next or not page.rows:
                return found
            position = page.rows[-1].basic_code

    max_page = info.context.settings.max_page_size
    result = await fan_out(sessions, [Level.CITY], fetch, timeout=timeout, remote=fetch_api)
    report_unavailable(info, result.unavailable)
    page = merge_page(dict(result.values), lambda r: r.basic_code, first=size, start=start)
    loader = info.context.loaders.matter_by_code
    for row in page.items:
        loader.prime(row.basic_code, row)
    return connection(page, Matter.from_row)


async def matter_implementations(
    info: Info, filter: ImplementationFilter | None, first: int | None, after: str | None
) -> Connection[MatterImplementation]:
    f = filter or ImplementationFilter()
    size = _size(info, first)
    scope = _within(f.division_code, ("filter", "divisionCode"))
    levels = _levels_within(scope, f.level)
    start = decode_cursor(after, allowed=node_ids(info.context.sessions, levels))
    sessions = info.context.sessions
    timeout = info.context.settings.node_timeout_seconds
    basic_codes: list[str] | None = None
    if f.basic_code is not None:
        code = validate_basic_code(f.basic_code, field=("filter", "basicCode"))
        if await info.context.loaders.matter_by_code.load(code) is None:
            raise DomainError(
                ErrorCode.MATTER_NOT_FOUND, field=["filter", "basicCode"], detail=code
            )
        basic_codes = [code]
    if f.org_code is not None:
        validate_uscc(f.org_code, field=("filter", "orgCode"))
    if f.keyword:

        async def matching(node: Node, session: AsyncSession) -> set[str]:
            return await city_service.basic_codes_matching(f.keyword or "", session=session)

        async def matching_api(node: Node, client: NodeClient) -> set[str]:
            return await remote.matters_named(client, f.keyword or "")

        found = await fan_out(
            sessions, [Level.CITY], matching, timeout=timeout, remote=matching_api
        )
        report_unavailable(info, found.unavailable)
        keyword_codes = next(iter(found.values.values()), set())
        basic_codes = sorted(keyword_codes & set(basic_codes) if basic_codes else keyword_codes)
    conditions = ItemConditions(
        basic_codes=None if basic_codes is None else tuple(basic_codes),
        within_prefix=scope.prefix if scope else None,
        org_code=f.org_code,
        handling_kind=f.handling_kind,
        online_level=f.online_level,
        max_visits=f.max_visits,
        delegated_only=bool(f.delegated_only),
        status=f.status,
        drafts_within=draft_prefix(info.context.viewer),
    )
    stmt = conditions.query()

    async def fetch(node: Node, session: AsyncSession) -> Sequence[ReadRow]:
        return await common_service.list_implementations(
            stmt, session=session, after=start.get(node.id), limit=size + 1
        )

    max_page = info.context.settings.max_page_size

    async def fetch_api(node: Node, client: NodeClient) -> Sequence[Any]:
        # the node's pages in turn until it has ``size + 1`` (its page size is bounded)
        found: list[Any] = []
        position = start.get(node.id)
        while True:
            page = await remote.items_where(
                client, conditions, after=position, first=min(size + 1 - len(found), max_page)
            )
            found += page.rows
            if len(found) > size or not page.has_next or not page.rows:
                return found
            position = implementation_key(page.rows[-1])

    result = await fan_out(sessions, levels, fetch, timeout=timeout, remote=fetch_api)
    report_unavailable(info, result.unavailable)
    page = merge_page(dict(result.values), implementation_key, first=size, start=start)
    loader = info.context.loaders.implementation_by_code
    for row in page.items:
        loader.prime(row.code, row)
    items = connection(page, MatterImplementation.from_row)
    # the relations the operation selects on the items, loaded for the page at once
    await ready_items(info, [e.node for e in items.edges])
    return items


async def delegations(
    info: Info,
    to_division_code: str | None,
    from_division_code: str | None,
    active_only: bool | None,
) -> list[Delegation]:
    to = _within(to_division_code, "toDivisionCode")
    source = _within(from_division_code, "fromDivisionCode")
    # delegations live in the county node; each end narrows which counties to read
    county_prefix: str | None = None
    for scope in (d for d in (to, source) if d is not None):
        prefix = scope.prefix if scope.level is Level.CITY else scope.code[:6]
        if county_prefix is None or prefix.startswith(county_prefix):
            county_prefix = prefix
        elif not county_prefix.startswith(prefix):
            return []  # the two ends lie in different counties
    to_town = to.code if to is not None and to.level is Level.TOWN else None
    if to is not None and to.level is Level.VILLAGE:
        to_town = to.parent.code if to.parent else None
    now = info.context.clock.now()

    async def fetch(node: Node, session: AsyncSession) -> list[county_service.DelegationView]:
        return await county_service.list_delegations(
            session=session,
            county_prefix=county_prefix,
            to_town=to_town,
            active_at=now if active_only else None,
        )

    async def fetch_api(node: Node, client: NodeClient) -> list[county_service.DelegationView]:
        return await remote_lists.delegations(
            client,
            county_prefix=county_prefix,
            to_town=to_town,
            active_at=now if active_only else None,
        )

    result = await fan_out(
        info.context.sessions,
        [Level.COUNTY],
        fetch,
        timeout=info.context.settings.node_timeout_seconds,
        # only the nodes holding the counties the ends narrow it to
        under=None if county_prefix is None else county_prefix.ljust(12, "0"),
        remote=fetch_api,
    )
    report_unavailable(info, result.unavailable)
    return [Delegation.from_view(v) for v in (v for found in result.values.values() for v in found)]
