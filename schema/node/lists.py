"""More of the lists a node serves the hub, merged into the node's ``Query``
(``schema/node/__init__.py``): its divisions of some levels (children of a division or
every one under it), paged by code; its delegations; the catalogue's published
versions (the node holding the city keeps them); and its working-day calendar. Each is
the read the hub makes of a store (the same statements), so the answers are the
SQL path's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from levels.calendar.reads import read_calendar_rows
from levels.city import publication
from levels.city.models import CataloguePublication
from levels.common import service as common_service
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.reads import ReadRow
from levels.county import service as county_service
from levels.licences.models import LicenceType
from levels.node.cursors import decode_cursor, encode_cursor
from levels.node.reads import DelegationRow
from schema.node.query import AfterCursor, PageInfo, PageSize, page_size
from schema.node.types import Delegation, Division, NodeInfo, Record, records


def city_only(info: NodeInfo, field: str, detail: str) -> None:
    """DIVISION_NOT_OWNED unless this node holds the city, which keeps ``detail``."""
    if not info.context.scope.holds(Level.CITY):
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=[field], detail=detail)


@strawberry.type(description="A page of divisions, by code")
class DivisionPage:
    items: list[Division] = strawberry.field(description="The divisions of this page")
    page_info: PageInfo = strawberry.field(description="Where the page ends")


@strawberry.type(name="ListsQuery", description="More of a node's lists")
class ListQueries:
    @strawberry.field(
        description="This node's divisions of these levels, by code: the direct "
        "children of `parentCode`, or every one under `within` (a key range), or all; "
        "one statement per level held; DIVISION_NOT_OWNED for a division no part of "
        "which is this node's"
    )
    async def divisions(
        self,
        info: NodeInfo,
        levels: Annotated[list[Level], strawberry.argument(description="Their levels")],
        parent_code: Annotated[
            str | None, strawberry.argument(description="Only the children of this division")
        ] = None,
        within: Annotated[
            str | None, strawberry.argument(description="Only those under this division")
        ] = None,
        first: PageSize = None,
        after: AfterCursor = None,
    ) -> DivisionPage:
        scope = info.context.scope
        parent = scope.require_range(parent_code, field="parentCode") if parent_code else None
        under = scope.require_range(within, field="within") if within else None
        size = page_size(info, first)
        start = decode_cursor(after, "division", 1)[0] if after else None
        found: list = []
        async with info.context.reading() as session:
            for level in (lv for lv in LEVELS if lv in levels and scope.holds(lv)):
                found += await common_service.list_divisions(
                    session=session,
                    level=level,
                    parent_code=parent.code if parent else None,
                    within_prefix=under.prefix if under else None,
                    after=start,
                    limit=size + 1,
                )
        found = sorted(found, key=lambda r: r.code)[: size + 1]
        page = found[:size]
        end = encode_cursor("division", page[-1].code) if page else None
        return DivisionPage(
            items=[Division.from_row(r) for r in page],
            page_info=PageInfo(has_next_page=len(found) > size, end_cursor=end),
        )

    @strawberry.field(
        description="This node's delegations by id: of the counties under `countyPrefix` "
        "when given, to `toTown` when given, in force at `activeAt` when given"
    )
    async def delegations(
        self,
        info: NodeInfo,
        county_prefix: Annotated[
            str | None, strawberry.argument(description="A division-code prefix")
        ] = None,
        to_town: Annotated[str | None, strawberry.argument(description="A town's code")] = None,
        active_at: Annotated[
            dt.datetime | None, strawberry.argument(description="In force at this instant")
        ] = None,
    ) -> list[Delegation]:
        async with info.context.reading() as session:
            found = await county_service.list_delegations(
                session=session, county_prefix=county_prefix, to_town=to_town, active_at=active_at
            )
        return [Delegation.from_row(DelegationRow(cast(ReadRow, v.row), v.towns)) for v in found]

    @strawberry.field(
        description="清单公布: the catalogue's published versions, newest first (or the one "
        "asked for), every column; only the node holding the city keeps them: "
        "DIVISION_NOT_OWNED elsewhere"
    )
    async def catalogue_versions(
        self,
        info: NodeInfo,
        version: Annotated[int | None, strawberry.argument(description="Only this one")] = None,
    ) -> list[Record]:
        city_only(info, "catalogueVersions", "catalogue")
        async with info.context.reading() as session:
            found = await publication.publications(session=session, version=version)
        return records(CataloguePublication, found)

    @strawberry.field(
        description="The licence library's types (电子证照类型), every column; only the node "
        "holding the city keeps the library: DIVISION_NOT_OWNED elsewhere"
    )
    async def licence_types(self, info: NodeInfo) -> list[Record]:
        city_only(info, "licenceTypes", "library")
        async with info.context.reading() as session:
            found = list(await session.scalars(select(LicenceType)))
        return records(LicenceType, found)

    @strawberry.field(
        description="This node's working-day calendar: `days` (the override days: day, "
        "isWorkingDay, name) and `years` (the imported years: year, source), in one "
        "statement"
    )
    async def work_calendar(self, info: NodeInfo) -> JSON:
        async with info.context.reading() as session:
            days, years = await read_calendar_rows(session=session)
        return cast(
            JSON,
            {
                "days": [
                    {"day": d.day.isoformat(), "isWorkingDay": d.is_working_day, "name": d.name}
                    for d in days
                ],
                "years": [{"year": y.year, "source": y.source} for y in years],
            },
        )
