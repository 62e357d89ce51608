"""The catalogue's lists a node serves the hub, merged into the node's ``Query``
(``schema/node/__init__.py``): the matters of the catalogue (only the node holding the
city keeps it), paged by basic code, or named by a keyword; the basic codes the node's
published items implement; and its implementation items under the conditions of the
hub's list, paged. Each one statement (a page)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.city.service import basic_codes_matching, search_matters
from levels.common import service as common_service
from levels.common.enums import Level, MatterStatus, MatterType, OnlineLevel
from levels.common.errors import DomainError, ErrorCode
from levels.node.cursors import decode_cursor, encode_cursor
from levels.node.item_filter import ItemConditions
from schema.node.query import AfterCursor, ImplementationPage, PageInfo, PageSize, page_size
from schema.node.types import Matter, MatterImplementation, NodeInfo


@strawberry.type(description="A page of the catalogue's matters, by basic code")
class MatterPage:
    items: list[Matter] = strawberry.field(description="The matters of this page")
    page_info: PageInfo = strawberry.field(description="Where the page ends")


@strawberry.type(name="CatalogueQuery", description="The catalogue's lists")
class CatalogueQueries:
    @strawberry.field(
        description="The catalogue's matters by basic code, as the hub's `matters` "
        "filters them (one statement a page); only the node holding the city keeps "
        "the catalogue: DIVISION_NOT_OWNED elsewhere"
    )
    async def matters(
        self,
        info: NodeInfo,
        keyword: Annotated[str | None, strawberry.argument(description="In the name")] = None,
        type: Annotated[MatterType | None, strawberry.argument(description="Its type")] = None,
        status: Annotated[
            MatterStatus | None, strawberry.argument(description="Where it stands")
        ] = None,
        basic_codes: Annotated[
            list[str] | None, strawberry.argument(description="Only these matters")
        ] = None,
        first: PageSize = None,
        after: AfterCursor = None,
    ) -> MatterPage:
        if not info.context.scope.holds(Level.CITY):
            raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["matters"], detail="catalogue")
        size = page_size(info, first)
        start = decode_cursor(after, "matter", 1)[0] if after else None
        async with info.context.reading() as session:
            found = await search_matters(
                session=session,
                keyword=keyword,
                type=type,
                status=status,
                basic_codes=basic_codes,
                after=start,
                limit=size + 1,
            )
        page = found[:size]
        end = encode_cursor("matter", page[-1].basic_code) if page else None
        return MatterPage(
            items=[Matter.from_row(r) for r in page],
            page_info=PageInfo(has_next_page=len(found) > size, end_cursor=end),
        )

    @strawberry.field(
        description="The basic codes of the published items this node keeps (of the "
        "orgs at or under `under`, when given), with at most `maxVisits` visits and "
        "this online level when given; DIVISION_NOT_OWNED for a division no part of "
        "which is this node's"
    )
    async def implemented_matters(
        self,
        info: NodeInfo,
        under: Annotated[
            str | None, strawberry.argument(description="A 12-digit division code")
        ] = None,
        online_level: Annotated[
            OnlineLevel | None, strawberry.argument(description="How far online")
        ] = None,
        max_visits: Annotated[int | None, strawberry.argument(description="Visits")] = None,
    ) -> list[str]:
        prefix = None
        if under is not None:
            prefix = info.context.scope.require_range(under, field="under").prefix
        stmt = common_service.implementation_query(
            within_prefix=prefix,
            online_level=online_level,
            max_visits=max_visits,
            status=MatterStatus.PUBLISHED,
        )
        async with info.context.reading() as session:
            return sorted(await common_service.basic_codes_implemented(stmt, session=session))

    @strawberry.field(
        description="The basic codes of the catalogue's matters whose name holds the "
        "keyword (one statement); the node holding the city only: DIVISION_NOT_OWNED "
        "elsewhere"
    )
    async def matters_named(
        self,
        info: NodeInfo,
        keyword: Annotated[str, strawberry.argument(description="Part of the name")],
    ) -> list[str]:
        if not info.context.scope.holds(Level.CITY):
            raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["keyword"], detail="catalogue")
        async with info.context.reading() as session:
            return sorted(await basic_codes_matching(keyword, session=session))

    @strawberry.field(
        description="The implementation items this node keeps that meet the hub's "
        "conditions (as levels.node.item_filter encodes them), by division code then "
        "basic code, one statement a page"
    )
    async def items_where(
        self,
        info: NodeInfo,
        filter: Annotated[JSON, strawberry.argument(description="The list's conditions")],
        first: PageSize = None,
        after: AfterCursor = None,
    ) -> ImplementationPage:
        conditions = ItemConditions.decode(filter)
        size = page_size(info, first)
        start = None
        if after:
            division, basic_code = decode_cursor(after, "item", 2)
            start = (division, basic_code)
        async with info.context.reading() as session:
            found = await common_service.list_implementations(
                conditions.query(), session=session, after=start, limit=size + 1
            )
        page = found[:size]
        end = encode_cursor("item", page[-1].division_code, page[-1].basic_code) if page else None
        return ImplementationPage(
            items=[MatterImplementation.from_row(r) for r in page],
            page_info=PageInfo(has_next_page=len(found) > size, end_cursor=end),
        )
