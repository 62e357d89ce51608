"""A county's delegation asked of the node owning the county, when the hub reaches it
through its API (DESIGN §2, "A node is a service"): the hub has read what the rules
need of other nodes (the item, the county's towns, which lack the department named)
through the loaders and made its permission check (``resolvers/delegation.py``); the
node writes the delegation, or its withdrawal, in its own transaction with a message
to each town (``delegateMatter``, ``revokeDelegation``). Its typed refusal is raised as
the same ``DomainError``; a node that does not answer is ``NodeUnavailable``, naming
it, and nothing is written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from levels.common.rowcodec import decode_row
from levels.county import delegation as service
from levels.county.models import Delegation
from levels.county.service import DelegationView
from levels.node.steps import encode_actor
from resolvers import nodewrites, remote
from resolvers.cases import actor_of
from resolvers.fanout import guarded
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node
from schema.info import Info

Call = Callable[[NodeClient, Mapping[str, Any]], Awaitable[dict[str, Any]]]


async def _at_node(info: Info, node: Node, call: Call) -> DelegationView:
    client = node.client
    assert client is not None
    actor = encode_actor(actor_of(info))
    nodes = info.context.nodes
    answer = await guarded(nodes.breakers, node, lambda: call(client, actor), client.timeout)
    refused = remote.refusal(answer)
    if refused is not None:
        raise refused
    columns = answer.get("columns")
    assert isinstance(columns, Mapping)
    return DelegationView(decode_row(Delegation, columns), tuple(answer.get("towns") or ()))


async def delegate(
    info: Info,
    node: Node,
    county: str,
    draft: service.DelegationDraft,
    towns: Sequence[str] | None,
    lacking: Sequence[str],
) -> DelegationView:
    """委托/下放 of ``draft``'s county item, by the node owning ``county``."""
    now = info.context.clock.now()

    def call(client: NodeClient, actor: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        return nodewrites.delegate_matter(
            client,
            county,
            draft.implementation_code,
            legal_instrument=draft.legal_instrument,
            effective_from=draft.effective_from,
            actor=actor,
            now=now,
            towns=list(draft.towns),
            town_department=draft.town_department,
            towns_of_county=towns,
            lacking=lacking,
        )

    return await _at_node(info, node, call)


async def revoke(
    info: Info, node: Node, key: str, reason: str, towns: Sequence[str] | None
) -> DelegationView:
    """The withdrawal of delegation ``key``, by the node owning its county."""
    now = info.context.clock.now()

    def call(client: NodeClient, actor: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        return nodewrites.revoke_delegation(
            client, key, reason, actor=actor, now=now, towns_of_county=towns
        )

    return await _at_node(info, node, call)
