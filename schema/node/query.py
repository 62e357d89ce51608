"""The root fields of a node's API: what the node is, its ordered lists (by key range,
with cursors), and its inbox. Resolvers stay thin: check the scope, call a read or the
inbox of ``levels/node``, shape the answer."""

from __future__ import annotations

from typing import Annotated

import strawberry

from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.node import reads
from levels.node.cursors import case_cursor, decode_cursor, encode_cursor
from levels.node.inbox import Outcome
from schema.node.types import Case, MatterImplementation, NodeInfo

strawberry.enum(Outcome, name="DeliveryOutcome", description="What became of a delivered message")


@strawberry.type(description="Where a page ends, and whether more follow")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page (none: the page is empty)"
    )


@strawberry.type(description="A page of cases, in case-number order")
class CasePage:
    items: list[Case] = strawberry.field(description="The cases of this page")
    page_info: PageInfo = strawberry.field(description="Where the page ends")


@strawberry.type(
    description="A page of implementation items, by division code then implementation code"
)
class ImplementationPage:
    items: list[MatterImplementation] = strawberry.field(description="The items of this page")
    page_info: PageInfo = strawberry.field(description="Where the page ends")


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


def _page_size(info: NodeInfo, first: int | None) -> int:
    size = info.context.default_page_size if first is None else first
    if size < 1:
        raise DomainError(ErrorCode.INVALID_PAGE_SIZE, field=["first"])
    if size > info.context.max_page_size:
        raise DomainError(ErrorCode.PAGE_SIZE_TOO_LARGE, field=["first"])
    return size


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
        first: Annotated[int | None, strawberry.argument(description="Page size")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the page before")
        ] = None,
    ) -> CasePage:
        # cases received under a division are held there or referred up its chain
        division = info.context.scope.require_range(under, field="under", upward=True)
        size = _page_size(info, first)
        start = decode_cursor(after, "case", 1)[0] if after else None
        async with info.context.reading() as session:
            found = await reads.cases_under(
                division.prefix, after=start, limit=size + 1, session=session
            )
        page = found[:size]
        end = case_cursor(page[-1].number) if page else None
        return CasePage(
            items=[Case.from_row(r) for r in page],
            page_info=PageInfo(has_next_page=len(found) > size, end_cursor=end),
        )

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
        first: Annotated[int | None, strawberry.argument(description="Page size")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the page before")
        ] = None,
    ) -> ImplementationPage:
        scope = info.context.scope
        prefixes = [
            scope.require_range(code, field=("divisionCodes", str(i))).prefix
            for i, code in enumerate(division_codes)
        ]
        size = _page_size(info, first)
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
