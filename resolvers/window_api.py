"""The queue writes asked of a node the hub reaches through its API (DESIGN §2, "A node
is a service"): issuing a ticket (``issueTicket``) and calling the next one
(``callNextTicket``). The hub has made its permission check (``resolvers/windows.py``);
the node runs the rules in its own transaction and answers the ticket or a typed
refusal, raised here as the same ``DomainError``. A node that does not answer is
``NodeUnavailable``, naming it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from levels.common.errors import DomainError
from levels.common.models import ServiceOrg
from levels.node.records import OrgRecordKind
from levels.node.steps import encode_actor
from levels.windows.errors import WindowErrorCode
from levels.windows.models import QueueTicket
from levels.windows.queue import TicketRequest
from resolvers import remote
from resolvers.cases import actor_of
from resolvers.fanout import guarded
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node
from schema.info import Info

Call = Callable[[NodeClient, Mapping[str, Any]], Awaitable[dict[str, Any]]]


async def _at_node(info: Info, node: Node, call: Call) -> QueueTicket:
    client = node.client
    assert client is not None
    actor = encode_actor(actor_of(info))
    nodes = info.context.nodes
    answer = await guarded(nodes.breakers, node, lambda: call(client, actor), client.timeout)
    outcome = remote.ticket_outcome(answer)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.ticket is not None
    return outcome.ticket


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


async def org(info: Info, node: Node, code: str) -> ServiceOrg | None:
    """The node's row of org ``code`` (a credit code): a window's org, kept by the
    window's node, for the hub's check."""
    client = node.client
    assert client is not None
    nodes = info.context.nodes
    found = await guarded(
        nodes.breakers, node, lambda: remote.orgs_by_code(client, [code]), client.timeout
    )
    return found[0] if found else None


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
