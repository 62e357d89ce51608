"""Case updates, live (``caseUpdated``): ``follow_case`` streams one case to a
subscriber — as it is now, then again each time it changes, every time read afresh from
the node that holds it (through its API for a node with an address) and with the
subscriber's own rights; a staff subscriber's every read audited where the case is held,
as ``case(number:)`` audits it. The changes are published by
``resolvers/case_updates.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from auth.enums import AccountKind
from auth.errors import AuthErrorCode
from auth.policy import Action, allows
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case
from levels.cases.numbers import CaseNumber, parse_case_number
from levels.common.errors import DomainError
from resolvers.case_updates import case_channel
from resolvers.cases import actor_of, holder_in
from resolvers.context import still_signed_in
from resolvers.read_audit import audit_read
from schema.cases import CaseType, case_target
from schema.info import Info


async def follow_case(info: Info, number: str) -> AsyncIterator[CaseType]:
    """Case ``number`` as the viewer may see it now, then after each change.

    A case the viewer may not read is CASE_NOT_FOUND, like one that does not exist.
    Before each read the connection's token is checked again: once it has expired or
    its session was signed out, the stream ends with UNAUTHENTICATED."""
    ctx = info.context
    if not ctx.viewer.authenticated:
        raise DomainError(AuthErrorCode.UNAUTHENTICATED)
    parsed = parse_case_number(number)
    # subscribed before the first read: a change committed after it is never missed
    async with ctx.broker.subscribe(case_channel(parsed.value)) as changes:
        while True:
            await still_signed_in(ctx)
            yield CaseType.from_row(await _read_case(info, parsed))
            # the client has this event: its reads are done
            await ctx.forget_reads()
            await anext(changes)
            # one read answers every change that arrived meanwhile
            changes.skip_pending()


async def _read_case(info: Info, number: CaseNumber) -> Case:
    """The case as ``case(number:)`` reads it: from the node that holds it now (through
    its API for a node with an address), a staff member's read recorded there before
    the case is answered (``resolvers/read_audit.py``: by the node itself for a node
    with an address)."""
    ctx = info.context
    viewer = ctx.viewer
    # wherever it is now: referred up, it is read from the level that holds it
    node, row = await holder_in(ctx.nodes, number.value)
    # a case the viewer may not read does not exist for them
    if row is None or not allows(viewer, Action.READ, case_target(row)):
        raise DomainError(CaseErrorCode.CASE_NOT_FOUND, field=["number"])
    if viewer.kind is AccountKind.STAFF:
        # every read of a case by staff is audited, as with Query.case
        await audit_read(ctx.nodes, node, row, actor_of(info), ctx.clock.now())
    return row
