"""The audit event of a staff member's read of a case, written where the case is held
(DESIGN §2): in the store's chain by SQL for a node without an address, by the node
itself (``recordCaseReads``) for one the hub reaches through its API. Either way the
reads of the moment are batched (``levels/audit/batch.py``): one transaction per store,
one call per node, and the reader waits until its event is committed — an event that
could not be written (a node that does not answer is ``NodeUnavailable``) keeps the
case from being answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Sequence

from levels.audit.batch import GroupAppender, appender_for
from levels.audit.chain import EventDraft
from levels.cases import service as case_service
from levels.cases.models import Case
from levels.cases.service import Actor
from levels.node.steps import encode_actor
from resolvers.fanout import guarded
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node, NodeRegistry

_remote: weakref.WeakKeyDictionary[NodeClient, dict[asyncio.AbstractEventLoop, GroupAppender]] = (
    weakref.WeakKeyDictionary()
)


def _actor(draft: EventDraft) -> Actor:
    return Actor(
        id=draft.actor_id,
        kind=draft.actor_kind,
        role=draft.role,
        channel=draft.channel,
        org_code=draft.org_code,
        request_id=draft.request_id,
    )


def _remote_appender(nodes: NodeRegistry, node: Node, client: NodeClient) -> GroupAppender:
    """The node's appender through its API (one per client and event loop): each batch
    is one ``recordCaseReads`` call, counted and bounded as every call to the node."""

    async def write(batch: Sequence[tuple[EventDraft, dt.datetime]]) -> None:
        reads = [(d.case_number or "", encode_actor(_actor(d)), at) for d, at in batch]
        await guarded(nodes.breakers, node, lambda: client.record_case_reads(reads), client.timeout)

    loop = asyncio.get_running_loop()
    by_loop = _remote.setdefault(client, {})
    for other in [lp for lp in by_loop if lp.is_closed()]:
        del by_loop[other]
    if loop not in by_loop:
        by_loop[loop] = GroupAppender(write=write)
    return by_loop[loop]


async def audit_read(
    nodes: NodeRegistry, node: Node, row: Case, actor: Actor, now: dt.datetime
) -> None:
    """``actor``'s read of ``row`` (held at ``node``) recorded in the node's chain;
    returns once it is committed, raises what kept it from being written."""
    draft = case_service.case_event(row, actor, case_service.READ_ACTION, row.status)
    client = node.client
    appender = (
        appender_for(node.sessions) if client is None else _remote_appender(nodes, node, client)
    )
    await appender.append(draft, now)
