"""The node's mutations of a hall's queue, for the hub: issuing a ticket
(``issueTicket``) and calling the next one at a window (``callNextTicket``), written by
the rules of ``levels/windows`` in the node's own transaction
(``levels/node/windows.py``). Merged into the node's ``Mutation`` in
``schema/node/__init__.py``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.node import windows
from levels.windows.models import QueueTicket
from schema.node.mutation import ActorInput, StepRefusal
from schema.node.types import NodeInfo


@strawberry.type(description="What became of a queue ticket asked for or called")
class TicketResult:
    columns: JSON | None = strawberry.field(
        description="The ticket as it now stands, every column (none: refused, nothing written)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


def _result(info: NodeInfo, outcome: windows.TicketOutcome) -> TicketResult:
    error = outcome.error
    return TicketResult(
        columns=None
        if outcome.ticket is None
        else cast(JSON, encode_row(table(QueueTicket), outcome.ticket)),
        error=None
        if error is None
        else StepRefusal(
            code=error.code.value,
            field=error.field,
            message=error.localized(info.context.locale),
            detail=error.detail,
        ),
    )


_NOW = strawberry.argument(description="The hub's instant")


@strawberry.type(name="WindowMutation", description="The queue of a hall")
class WindowMutations:
    @strawberry.mutation(
        description="取号: a ticket of today at the org of `divisionCode`, for a matter "
        "(`basicCode`), one window (`windowId`) or a kind of window (`windowKind`), in this "
        "node's transaction with its audit event. Who may take one is the hub's check; "
        "`actor` is who does. DIVISION_NOT_OWNED for a division this node does not own"
    )
    async def issue_ticket(
        self,
        info: NodeInfo,
        division_code: Annotated[str, strawberry.argument(description="The org's division")],
        channel: Annotated[str, strawberry.argument(description="COUNTER, KIOSK or MOBILE")],
        actor: ActorInput,
        now: Annotated[dt.datetime, _NOW],
        holder_id: Annotated[
            str | None, strawberry.argument(description="Whose ticket (none: a walk-in)")
        ] = None,
        basic_code: str | None = None,
        window_id: str | None = None,
        window_kind: str | None = None,
        language: str | None = None,
    ) -> TicketResult:
        context = info.context
        ask = windows.TicketAsk(
            division_code=division_code,
            channel=channel,
            holder_id=holder_id,
            basic_code=basic_code,
            window_id=window_id,
            window_kind=window_kind,
            language=language,
        )
        outcome = await windows.issue_ticket(
            context.sessions, context.scope, ask, actor=actor.actor(), now=now
        )
        return _result(info, outcome)

    @strawberry.mutation(
        description="叫号: the next ticket window `windowId` may call, called by `actor` "
        "(who must be on duty there), with its audit event. Who may call is the hub's "
        "check. DIVISION_NOT_OWNED for a window of a division this node does not own"
    )
    async def call_next_ticket(
        self,
        info: NodeInfo,
        window_id: Annotated[str, strawberry.argument(description="The window's id")],
        actor: ActorInput,
        now: Annotated[dt.datetime, _NOW],
    ) -> TicketResult:
        context = info.context
        outcome = await windows.call_next(
            context.sessions, context.scope, window_id, actor=actor.actor(), now=now
        )
        return _result(info, outcome)

    @strawberry.mutation(
        description="A later step of a ticket this node holds (`ticket`: its public id): "
        "SERVE, FINISH (with `caseNumber`), NO_SHOW, RECALL, TRANSFER (to `toWindowId`) "
        "or CANCEL, by `actor`, with its audit event. Who may take it is the hub's check. "
        "DIVISION_NOT_OWNED for a ticket of a division this node does not own"
    )
    async def take_ticket_step(
        self,
        info: NodeInfo,
        ticket: Annotated[str, strawberry.argument(description="The ticket's public id")],
        step: Annotated[str, strawberry.argument(description="SERVE, FINISH, NO_SHOW, …")],
        actor: ActorInput,
        now: Annotated[dt.datetime, _NOW],
        case_number: str | None = None,
        to_window_id: str | None = None,
    ) -> TicketResult:
        context = info.context
        outcome = await windows.take_ticket_step(
            context.sessions, context.scope, ticket, step, actor=actor.actor(), now=now,
            case_number=case_number, to_window_id=to_window_id,
        )  # fmt: skip
        return _result(info, outcome)
