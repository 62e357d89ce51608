"""The catalogue's lists a node serves the hub, merged into the node's ``Query``
(``schema/node/__init__.py``): the matters of the catalogue (only the node holding the
city keeps it), paged by basic code, and the basic codes the node's published items
implement. Each one statement."""

from __future__ import annotations

from typing import Annotated

import strawberry

from levels.city.service import search_matters
from levels.common import service as common_service
from levels.common.enums import Level, MatterStatus, MatterType, OnlineLevel
from levels.common.errors import DomainError, ErrorCode
from levels.node.cursors import decode_cursor, encode_cursor
from schema.node.query import PageInfo, page_size
from schema.node.types import Matter, NodeInfo


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
        first: Annotated[int | None, strawberry.argument(description="Page size")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the page before")
        ] = None,
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
