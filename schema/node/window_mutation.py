"""The node's mutations of a hall, for the hub: issuing a ticket (``issueTicket``),
calling the next one at a window (``callNextTicket``) and a ticket's later steps
(``takeTicketStep``) (``levels/node/windows.py``); a window's setup
(``changeWindow``) and an appointment's steps (``takeAppointmentStep``)
(``levels/node/hall.py``) — each by the rules of ``levels/windows`` in the node's own
transaction, answered by one function (``_result``). Merged into the node's
``Mutation`` in ``schema/node/__init__.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.node import hall, windows
from schema.node.mutation import ActorInput, HubNow, StepRefusal
from schema.node.types import NodeInfo


@strawberry.type(description="What became of a queue ticket asked for or called")
class TicketResult:
    columns: JSON | None = strawberry.field(
        description="The ticket as it now stands, every column (none: refused, nothing written)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


@strawberry.type(description="What became of a window's change or an appointment's step")
class HallResult:
    columns: JSON | None = strawberry.field(
        description="The rows as they now stand by name, every column of each: `window` "
        "(and `slots` opened) for a window's change; `appointment`, `slot` (and `ticket` "
        "checked in) for an appointment's step (none: refused, nothing written)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


Result = TypeVar("Result", TicketResult, HallResult)


def _encoded(value: Any) -> Any:
    """A row as its columns; a list or a mapping of rows, each so."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_encoded(v) for v in value]
    if isinstance(value, dict):
        return {k: _encoded(v) for k, v in value.items()}
    return encode_row(table(type(value)), value)


def _result(kind: type[Result], info: NodeInfo, outcome: windows.Outcome[Any]) -> Result:
    """Every hall mutation's answer: what it left, or why it was refused."""
    error = outcome.error
    return kind(
        columns=cast(JSON, _encoded(outcome.value)),
        error=None
        if error is None
        else StepRefusal(
            code=error.code.value,
            field=error.field,
            message=error.localized(info.context.locale),
            detail=error.detail,
        ),
    )


Flow = Callable[..., Awaitable[windows.Outcome[Any]]]


async def _run(
    kind: type[Result], info: NodeInfo, flow: Flow, *args: Any, actor: ActorInput, **kw: Any
) -> Result:
    """Run a hall flow of ``levels/node`` in the node's sessions and scope as ``actor``
    and answer what it left (``_result``): every hall mutation's body."""
    context = info.context
    outcome = await flow(context.sessions, context.scope, *args, actor=actor.actor(), **kw)
    return _result(kind, info, outcome)


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
        now: HubNow,
        holder_id: Annotated[
            str | None, strawberry.argument(description="Whose ticket (none: a walk-in)")
        ] = None,
        basic_code: str | None = None,
        window_id: str | None = None,
        window_kind: str | None = None,
        language: str | None = None,
    ) -> TicketResult:
        ask = windows.TicketAsk(
            division_code=division_code,
            channel=channel,
            holder_id=holder_id,
            basic_code=basic_code,
            window_id=window_id,
            window_kind=window_kind,
            language=language,
        )
        return await _run(TicketResult, info, windows.issue_ticket, ask, actor=actor, now=now)

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
        now: HubNow,
    ) -> TicketResult:
        return await _run(TicketResult, info, windows.call_next, window_id, actor=actor, now=now)

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
        now: HubNow,
        case_number: str | None = None,
        to_window_id: str | None = None,
    ) -> TicketResult:
        return await _run(
            TicketResult, info, windows.take_ticket_step, ticket, step, actor=actor, now=now,
            case_number=case_number, to_window_id=to_window_id,
        )  # fmt: skip

    @strawberry.mutation(
        description="A change of window `windowId` by `actor`, with its audit event: "
        "SET_POSTS (`input`: `a`, `b`, each `{id, name}` of the staff the hub found, or "
        "null), OPEN_POST, LEAVE_POST, SET_HOURS (`hours`: `{dayKind, opens, closes, "
        "extended}`, minutes), SET_SERVICES (`basicCodes`, `kioskFunctions`, "
        "`queuePrefix`), SET_LANGUAGES (`languages`), SET_STAFF_LANGUAGES (`staff`, "
        "`languages`), OPEN_SLOTS (`date`, `slots`: `{starts, ends, capacity}`). Who "
        "may is the hub's check. DIVISION_NOT_OWNED for a window of a division this node "
        "does not own"
    )
    async def change_window(
        self,
        info: NodeInfo,
        window_id: Annotated[str, strawberry.argument(description="The window's id")],
        change: Annotated[str, strawberry.argument(description="SET_POSTS, OPEN_POST, …")],
        actor: ActorInput,
        now: HubNow,
        input: JSON | None = None,
    ) -> HallResult:
        given = cast(dict[str, Any] | None, input)
        return await _run(
            HallResult, info, hall.change_window, window_id, change, given, actor=actor, now=now
        )

    @strawberry.mutation(
        description="BOOK a seat of slot `key` (for `basicCode`), or CANCEL or CHECK_IN "
        "(by `channel`) appointment `key` (public ids), by `actor`, with its audit event. "
        "Who may is the hub's check. DIVISION_NOT_OWNED for a key of a division this "
        "node does not own"
    )
    async def take_appointment_step(
        self,
        info: NodeInfo,
        key: Annotated[str, strawberry.argument(description="The slot's or appointment's id")],
        step: Annotated[str, strawberry.argument(description="BOOK, CANCEL or CHECK_IN")],
        actor: ActorInput,
        now: HubNow,
        basic_code: str | None = None,
        channel: str | None = None,
    ) -> HallResult:
        return await _run(
            HallResult, info, hall.take_appointment_step, key, step, actor=actor, now=now,
            basic_code=basic_code, channel=channel,
        )  # fmt: skip
