"""The hall's writes asked of a node the hub reaches through its API (DESIGN §2, "A node
is a service"): issuing a ticket (``issueTicket``), calling the next one
(``callNextTicket``) and a ticket's later steps (``takeTicketStep``); a window's setup
(``changeWindow``) and an appointment's steps (``takeAppointmentStep``). The hub has
made its permission check (``resolvers/windows.py``, ``resolvers/appointment_writes.py``);
the node runs the rules in its own transaction and answers the ticket or a typed
refusal, raised here as the same ``DomainError``. A node that does not answer is
``NodeUnavailable``, naming it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from levels.common.errors import DomainError
from levels.node.records import OrgRecordKind
from levels.node.steps import encode_actor
from levels.windows.errors import WindowErrorCode
from levels.windows.models import Appointment, QueueTicket
from levels.windows.queue import TicketRequest
from resolvers import nodewrites, remote
from resolvers.cases import actor_of
from resolvers.fanout import guarded
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node
from schema.info import Info

Call = Callable[[NodeClient, Mapping[str, Any]], Awaitable[dict[str, Any]]]


async def _ask(info: Info, node: Node, call: Call) -> dict[str, Any]:
    """The node's answer to a hall mutation, asked as the viewer."""
    client = node.client
    assert client is not None
    actor = encode_actor(actor_of(info))
    nodes = info.context.nodes
    return await guarded(nodes.breakers, node, lambda: call(client, actor), client.timeout)


async def _at_node(info: Info, node: Node, call: Call) -> QueueTicket:
    outcome = remote.ticket_outcome(await _ask(info, node, call))
    if outcome.error is not None:
        raise outcome.error
    assert outcome.value is not None
    return outcome.value


async def _rows_at_node(info: Info, node: Node, call: Call) -> dict[str, Any]:
    """A hall mutation's rows by name (``remote.hall_outcome``), its refusal raised."""
    outcome = remote.hall_outcome(await _ask(info, node, call))
    if outcome.error is not None:
        raise outcome.error
    assert outcome.value is not None
    return outcome.value


async def issue_ticket(
    info: Info, node: Node, request: TicketRequest, now: dt.datetime
) -> QueueTicket:
    """取号 at ``request.org``, by its node."""

    def call(client: NodeClient, actor: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        return client.issue_ticket(
            request.org.division_code,
            request.channel.value,
            actor=actor,
            now=now,
            holder_id=request.holder_id,
            basic_code=request.basic_code,
            window_id=request.window_id,
            window_kind=None if request.window_kind is None else request.window_kind.value,
            language=request.language,
        )

    return await _at_node(info, node, call)


async def call_next(info: Info, node: Node, window_id: str, now: dt.datetime) -> QueueTicket:
    """叫号 at window ``window_id``, by its node."""

    def call(client: NodeClient, actor: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        return client.call_next_ticket(window_id, actor=actor, now=now)

    return await _at_node(info, node, call)


async def ticket(info: Info, node: Node, key: str) -> QueueTicket:
    """The node's row of ticket ``key`` (its public id), for the hub's check;
    TICKET_NOT_FOUND when the node has none."""
    client = node.client
    assert client is not None
    nodes = info.context.nodes
    found = await guarded(
        nodes.breakers,
        node,
        lambda: remote.org_records(client, OrgRecordKind.TICKETS, [key]),
        client.timeout,
    )
    if not found:
        raise DomainError(WindowErrorCode.TICKET_NOT_FOUND, field=["input", "ticketId"])
    row: QueueTicket = found[0]
    return row


async def ticket_step(
    info: Info, node: Node, key: str, step: str, now: dt.datetime, **extra: str | None
) -> QueueTicket:
    """A later step of ticket ``key`` (SERVE, FINISH, …), by its node."""

    def call(client: NodeClient, actor: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        return client.take_ticket_step(key, step, actor=actor, now=now, **extra)

    return await _at_node(info, node, call)


async def change_window(
    info: Info,
    node: Node,
    window_id: str,
    change: str,
    now: dt.datetime,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A change of window ``window_id`` (SET_POSTS, OPEN_POST, …), by its node: the
    window as it then stands (``window``) and the slots opened (``slots``)."""

    def call(client: NodeClient, actor: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        return nodewrites.change_window(
            client, window_id, change, actor=actor, now=now, given=given
        )

    return await _rows_at_node(info, node, call)


async def appointment_step(
    info: Info, node: Node, key: str, step: str, now: dt.datetime, **extra: str | None
) -> dict[str, Any]:
    """BOOK (a seat of slot ``key``), CANCEL or CHECK_IN (appointment ``key``), by its
    node: the ``appointment``, its ``slot`` and the ``ticket`` checked in."""

    def call(client: NodeClient, actor: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        return nodewrites.take_appointment_step(client, key, step, actor=actor, now=now, **extra)

    return await _rows_at_node(info, node, call)


async def appointment(info: Info, node: Node, key: str) -> Appointment | None:
    """The node's row of appointment ``key`` (its public id), for the hub's check."""
    client = node.client
    assert client is not None
    nodes = info.context.nodes
    found = await guarded(
        nodes.breakers,
        node,
        lambda: remote.org_records(client, OrgRecordKind.APPOINTMENTS, [key]),
        client.timeout,
    )
    return found[0] if found else None
