"""The queue of a hall written at the node that owns the org (DESIGN §2, "A node is a
service"): issuing a ticket (取号) and calling the next one (叫号), by the rules of
``levels/windows/queue.py`` in the node's own transaction, each with its audit event in
the node's chain, together or not at all.

Who may issue or call is the hub's check (the policy table, over the org and the
window it read through the node's API); the node is told who acts (``Actor``), checks
that it owns the division, and records who did. A rule's refusal (QUEUE_EMPTY,
NOT_ON_POST, OUTSIDE_HOURS …) comes back in the outcome, typed, with nothing written."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import load_calendar
from levels.cases.service import Actor
from levels.common.enums import WindowKind
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.common.publicids import by_key
from levels.node.scope import NodeScope
from levels.windows import queue
from levels.windows.enums import TicketChannel
from levels.windows.errors import WindowErrorCode
from levels.windows.models import QueueTicket

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a write of the hall left — a ticket, or the rows of a window's setup or an
    appointment by name — as it now stands (None: refused, nothing written), and the
    refusal."""

    value: T | None
    error: DomainError | None = None


TicketOutcome = Outcome[QueueTicket]


@dataclass(frozen=True)
class TicketAsk:
    """What a ticket is asked for, as it crosses the API: the org by its division code
    (one org per division), the channel, the holder, and a matter, a window or a kind."""

    division_code: str
    channel: str
    holder_id: str | None = None
    basic_code: str | None = None
    window_id: str | None = None
    window_kind: str | None = None
    language: str | None = None


def enum_value(kind: type[enum.Enum], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=[field], detail=value[:50]) from None


def checked(now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["now"], detail="no offset")


async def in_transaction(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]]
) -> Outcome[T]:
    """``work`` in one transaction of the node's store: committed, or rolled back with
    its domain refusal as the outcome."""
    async with sessions() as session:
        try:
            done = await work(session)
            await session.commit()
        except DomainError as e:
            await session.rollback()
            return Outcome(None, e)
        except BaseException:
            await session.rollback()
            raise
    return Outcome(done)


async def issue_ticket(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    ask: TicketAsk,
    *,
    actor: Actor,
    now: dt.datetime,
) -> TicketOutcome:
    """取号 at the org of ``ask.division_code``, which this node must own
    (DIVISION_NOT_OWNED, raised: the hub's map is stale)."""
    scope.require(ask.division_code, field="divisionCode")
    checked(now)
    channel = enum_value(TicketChannel, ask.channel, "channel")
    kind = None if ask.window_kind is None else enum_value(WindowKind, ask.window_kind, "kind")

    async def work(session: AsyncSession) -> QueueTicket:
        org = await session.scalar(
            select(ServiceOrg).where(ServiceOrg.division_code == ask.division_code)
        )
        if org is None:
            raise DomainError(ErrorCode.ORG_NOT_FOUND, field=["input", "orgCode"])
        request = queue.TicketRequest(
            org=org,
            channel=channel,
            holder_id=ask.holder_id,
            basic_code=ask.basic_code,
            window_id=ask.window_id,
            window_kind=kind,
            language=ask.language,
        )
        return await queue.issue_ticket(
            request, session=session, actor=actor, now=now,
            calendar=await load_calendar(session=session),
        )  # fmt: skip

    return await in_transaction(sessions, work)


async def call_next(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    window_id: str,
    *,
    actor: Actor,
    now: dt.datetime,
) -> TicketOutcome:
    """叫号 at window ``window_id`` (its id leads with its division, which this node
    must own)."""
    scope.require(window_id[:12], field="windowId")
    checked(now)

    async def work(session: AsyncSession) -> QueueTicket:
        return await queue.call_next(window_id, session=session, actor=actor, now=now)

    return await in_transaction(sessions, work)


# a ticket's later steps, by name, as the hub asks for them
TICKET_STEPS: dict[str, Callable[..., Awaitable[QueueTicket]]] = {
    "SERVE": queue.serve,
    "FINISH": queue.finish,
    "NO_SHOW": queue.no_show,
    "RECALL": queue.recall,
    "TRANSFER": queue.transfer,
    "CANCEL": queue.cancel,
}


async def take_ticket_step(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    key: str,
    step: str,
    *,
    actor: Actor,
    now: dt.datetime,
    case_number: str | None = None,
    to_window_id: str | None = None,
) -> TicketOutcome:
    """One later step of ticket ``key`` (its public id, which leads with its division,
    which this node must own): serve, finish (with ``case_number``), no-show, recall,
    transfer (to ``to_window_id``) or cancel."""
    scope.require(key[:12], field="ticket")
    checked(now)
    run = TICKET_STEPS.get(step)
    if run is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["step"], detail=step[:50])
    extra: dict[str, Any] = {}
    if step == "FINISH":
        extra["case_number"] = case_number
    if step == "TRANSFER":
        if to_window_id is None:
            raise DomainError(ErrorCode.BAD_USER_INPUT, field=["toWindowId"])
        extra["to_window_id"] = to_window_id

    async def work(session: AsyncSession) -> QueueTicket:
        row = await by_key(session, QueueTicket, key)
        if row is None:
            raise DomainError(WindowErrorCode.TICKET_NOT_FOUND, field=["input", "ticketId"])
        ticket: QueueTicket = await run(row.id, **extra, session=session, actor=actor, now=now)
        return ticket

    return await in_transaction(sessions, work)
