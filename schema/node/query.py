"""The root fields of a node's API: what the node is, its ordered lists (by key range,
with cursors), and its inbox. Resolvers stay thin: check the scope, call a read or the
inbox of ``levels/node``, shape the answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from levels.cases.models import Case as CaseTable
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.reads import ReadRow, table
from levels.common.rowcodec import encode_present, encode_row
from levels.node import reads, records
from levels.node.boards import encode_board
from levels.node.case_filter import CaseConditions
from levels.node.cursors import case_cursor, decode_cursor, encode_cursor
from levels.node.inbox import Outcome
from levels.node.records import CaseRecordKind, OrgRecordKind
from levels.windows.board import boards
from schema.node.types import (
    Case,
    CaseRecord,
    Division,
    MatterImplementation,
    NodeInfo,
    Record,
)

_CASES = table(CaseTable)

strawberry.enum(Outcome, name="DeliveryOutcome", description="What became of a delivered message")


@strawberry.type(description="Where a page ends, and whether more follow")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page (none: the page is empty)"
    )


@strawberry.type(description="A page of cases, in case-number order")
class CasePage:
    page_info: PageInfo = strawberry.field(description="Where the page ends")
    found: strawberry.Private[Sequence[ReadRow]]

    @strawberry.field(description="The cases of this page")
    def items(self) -> list[Case]:
        return [Case.from_row(r) for r in self.found]

    @strawberry.field(
        description="The cases of this page as rows: each case's columns that are not "
        "null, by column name (dates ISO 8601, enums by name; a column left out is "
        "null) — what `items { columns }` answers, in one field and fewer bytes"
    )
    def rows(self) -> JSON:
        return cast(JSON, [encode_present(_CASES, r) for r in self.found])


@strawberry.type(
    description="A page of implementation items, by division code then implementation code"
)
class ImplementationPage:
    items: list[MatterImplementation] = strawberry.field(description="The items of this page")
    page_info: PageInfo = strawberry.field(description="Where the page ends")


@strawberry.type(description="The hall board of an org on a day")
class HallBoard:
    org_code: str = strawberry.field(description="The org's credit code")
    day: dt.date = strawberry.field(description="The day")
    columns: JSON = strawberry.field(
        description="`windows`, `setups` and `tickets` (the day's), every column of each "
        "row, and `spans` (each window's opening hours: day kind, opens, closes, extended)"
    )


@strawberry.type(description="This node, as the node map describes it")
class NodeAbout:
    id: str = strawberry.field(description="The node's id in the node map")
    prefixes: list[str] = strawberry.field(description="The division-code prefixes it owns")
    levels: list[Level] = strawberry.field(description="The levels it holds")


@strawberry.type(description="What a delivered envelope became, and the node's receipt")
class DeliveryResult:
    message_id: str | None = strawberry.field(description="The message's id (none: unreadable)")
    outcome: Outcome = strawberry.field(
        description="APPLIED now, DUPLICATE (applied before), WAIT (send again later) "
        "or REFUSED (for good)"
    )
    reason: str | None = strawberry.field(description="Why it waits or was refused")
    receipt: str | None = strawberry.field(
        description="The receipt this node signed (JWS, ES256) for the sender to keep"
    )


PageSize = Annotated[int | None, strawberry.argument(description="Page size")]
AfterCursor = Annotated[
    str | None, strawberry.argument(description="The `endCursor` of the page before")
]
CaseFilterArg = Annotated[
    JSON | None,
    strawberry.argument(
        description="Only the cases meeting these conditions (the hub's, as "
        "levels.node.case_filter encodes them: days handed in and accepted, "
        "clocks by colour on the hub's today, overdue flags, the applicant)"
    ),
]


def page_size(info: NodeInfo, first: int | None) -> int:
    size = info.context.default_page_size if first is None else first
    if size < 1:
        raise DomainError(ErrorCode.INVALID_PAGE_SIZE, field=["first"])
    if size > info.context.max_page_size:
        raise DomainError(ErrorCode.PAGE_SIZE_TOO_LARGE, field=["first"])
    return size


def _case_page(found: Sequence[ReadRow], size: int) -> CasePage:
    """A page of ``size`` cases of ``found`` (read with one more, to say whether more
    follow)."""
    page = found[:size]
    end = case_cursor(page[-1].number) if page else None
    return CasePage(found=page, page_info=PageInfo(has_next_page=len(found) > size, end_cursor=end))


@strawberry.type(
    name="Query", description="What a node serves: its entities (by key) and ordered lists"
)
class NodeQuery:
    @strawberry.field(description="This node: its id, prefixes and levels")
    def about(self, info: NodeInfo) -> NodeAbout:
        node = info.context.scope.node
        return NodeAbout(
            id=node.id,
            prefixes=list(node.prefixes),
            levels=[lv for lv in LEVELS if node.holds(lv)],
        )

    @strawberry.field(
        description="The cases this node holds that were received at or under a division, "
        "in case-number order (a key range on the number); DIVISION_NOT_OWNED for a "
        "division neither in nor above which this node owns a division"
    )
    async def cases(
        self,
        info: NodeInfo,
        under: Annotated[str, strawberry.argument(description="A 12-digit division code")],
        first: PageSize = None,
        after: AfterCursor = None,
        filter: CaseFilterArg = None,
    ) -> CasePage:
        # cases received under a division are held there or referred up its chain
        division = info.context.scope.require_range(under, field="under", upward=True)
        size = page_size(info, first)
        start = decode_cursor(after, "case", 1)[0] if after else None
        conditions = None if filter is None else CaseConditions.decode(filter)
        async with info.context.reading() as session:
            found = await reads.cases_under(
                division.prefix,
                after=start,
                limit=size + 1,
                conditions=conditions,
                session=session,
            )
        return _case_page(found, size)

    @strawberry.field(
        description="An account's cases this node holds — those it applied for and those "
        "it handed in for another (a resident's or enterprise's own cases) — in "
        "case-number order; with `under`, those received at or under that division "
        "(DIVISION_NOT_OWNED as for `cases`)"
    )
    async def cases_of(
        self,
        info: NodeInfo,
        subject: Annotated[
            str, strawberry.argument(description="The account: applicant or submitter")
        ],
        under: Annotated[
            str | None, strawberry.argument(description="A 12-digit division code")
        ] = None,
        first: PageSize = None,
        after: AfterCursor = None,
        filter: CaseFilterArg = None,
    ) -> CasePage:
        prefix = None
        if under is not None:
            scope = info.context.scope
            prefix = scope.require_range(under, field="under", upward=True).prefix
        size = page_size(info, first)
        start = decode_cursor(after, "case", 1)[0] if after else None
        conditions = None if filter is None else CaseConditions.decode(filter)
        async with info.context.reading() as session:
            found = await reads.cases_of(
                subject,
                prefix=prefix,
                after=start,
                limit=size + 1,
                conditions=conditions,
                session=session,
            )
        return _case_page(found, size)

    @strawberry.field(
        description="The records of one kind kept beside these cases' rows in this node "
        "(one statement for the batch), every column; DIVISION_NOT_OWNED for a case "
        "received where this node owns neither the division nor one above it"
    )
    async def case_records(
        self,
        info: NodeInfo,
        of: Annotated[CaseRecordKind, strawberry.argument(description="Which records")],
        numbers: Annotated[list[str], strawberry.argument(description="Case numbers")],
    ) -> list[CaseRecord]:
        scope = info.context.scope
        for i, number in enumerate(numbers):
            # a case is held on its way up from the division that received it
            if not scope.on_the_way(number[:12], field=("numbers", str(i))):
                raise DomainError(
                    ErrorCode.DIVISION_NOT_OWNED, field=["numbers", str(i)], detail=number[:12]
                )
        if not numbers:
            return []
        async with info.context.reading() as session:
            found = await records.case_records(of, numbers, session=session)
        kind = records.KINDS[of]
        return [
            CaseRecord(case_number=kind.case_of(r), columns=cast(JSON, encode_row(kind.table, r)))
            for r in found
        ]

    @strawberry.field(
        description="The orgs of divisions, departments by id, or the departments of orgs "
        "this node holds (one statement for the batch), every column; DIVISION_NOT_OWNED "
        "for a division or department of a division this node does not own"
    )
    async def org_records(
        self,
        info: NodeInfo,
        of: Annotated[OrgRecordKind, strawberry.argument(description="Which rows")],
        keys: Annotated[list[str], strawberry.argument(description="Their keys")],
    ) -> list[Record]:
        kind = records.ORG_KINDS[of]
        scope = info.context.scope
        for i, key in enumerate(keys):
            field = ("keys", str(i))
            if kind.upward and not scope.on_the_way(key[:12], field=field):
                raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=list(field), detail=key[:12])
            if kind.division and not kind.upward:
                scope.require(key[:12], field=field)
        if not keys:
            return []
        async with info.context.reading() as session:
            found = await records.org_records(of, keys, session=session)
        return [Record(columns=cast(JSON, encode_row(kind.table, r))) for r in found]

    @strawberry.field(
        description="The hall boards of these orgs (credit codes) on `day`: their windows, "
        "the windows' setup and hours and the day's tickets, in four statements for the "
        "batch; an org of which this node keeps no window is not answered"
    )
    async def hall_boards(
        self,
        info: NodeInfo,
        org_codes: Annotated[list[str], strawberry.argument(description="Credit codes")],
        day: Annotated[dt.date, strawberry.argument(description="The day (China)")],
    ) -> list[HallBoard]:
        if not org_codes:
            return []
        async with info.context.reading() as session:
            found = await boards(org_codes, day, session=session)
        return [
            HallBoard(org_code=b.org_code, day=b.day, columns=cast(JSON, encode_board(b)))
            for b in found
            if b.windows
        ]

    @strawberry.field(
        description="The divisions this node holds directly below these divisions, in "
        "code order (a key range on the code under each, one statement for the "
        "batch); DIVISION_NOT_OWNED for a division no part of which is this node's"
    )
    async def children(
        self,
        info: NodeInfo,
        parents: Annotated[list[str], strawberry.argument(description="12-digit division codes")],
    ) -> list[Division]:
        scope = info.context.scope
        ranges = [
            scope.require_range(code, field=("parents", str(i))) for i, code in enumerate(parents)
        ]
        if not ranges:
            return []
        async with info.context.reading() as session:
            found = await reads.children_of([(d.code, d.prefix) for d in ranges], session=session)
        return [Division.from_row(r) for r in found]

    @strawberry.field(
        description="The published implementation items of the orgs at or under these "
        "divisions (key ranges on the division code), by division then code; "
        "DIVISION_NOT_OWNED for a division no part of which is this node's"
    )
    async def implementations(
        self,
        info: NodeInfo,
        division_codes: Annotated[
            list[str], strawberry.argument(description="12-digit division codes")
        ],
        first: PageSize = None,
        after: AfterCursor = None,
    ) -> ImplementationPage:
        scope = info.context.scope
        prefixes = [
            scope.require_range(code, field=("divisionCodes", str(i))).prefix
            for i, code in enumerate(division_codes)
        ]
        size = page_size(info, first)
        start = None
        if after:
            division, code = decode_cursor(after, "impl", 2)
            start = (division, code)
        if not prefixes:
            return ImplementationPage(
                items=[], page_info=PageInfo(has_next_page=False, end_cursor=None)
            )
        async with info.context.reading() as session:
            found = await reads.implementations_under(
                prefixes, after=start, limit=size + 1, session=session
            )
        page = found[:size]
        end = encode_cursor("impl", page[-1].division_code, page[-1].code) if page else None
        return ImplementationPage(
            items=[MatterImplementation.from_row(r) for r in page],
            page_info=PageInfo(has_next_page=len(found) > size, end_cursor=end),
        )


@strawberry.type(name="Mutation", description="What a node is asked to do")
class NodeMutation:
    @strawberry.mutation(
        description="The node's inbox: apply a signed message envelope (JWS) in this "
        "node's own transaction, once — a second delivery of it changes nothing"
    )
    async def deliver(
        self,
        info: NodeInfo,
        envelope: Annotated[
            str, strawberry.argument(description="The envelope as the sender signed it")
        ],
    ) -> DeliveryResult:
        context = info.context
        received = await context.inbox.deliver(envelope, context.clock.now())
        return DeliveryResult(
            message_id=received.message_id,
            outcome=received.outcome,
            reason=received.reason,
            receipt=received.receipt,
        )
