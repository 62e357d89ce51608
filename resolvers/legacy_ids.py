"""A global ID of the previous release that names a row by its number in a store
(``Type:LEVEL:<row number>``: a rating, rectification, complaint, queue ticket,
appointment slot or appointment), turned into the row's public key
(``levels/common/publicids.py``), by which the hub's reads and writes go on as for an
ID of today's format.

A row number is unique in one store only. The previous release kept one store per
level, so on the embedded map (one node per level) the number still names one row;
where several nodes hold the level (a node per county) each may number a row so. The
nodes holding the level are asked (``publicIds`` of a node with an address; the
same statement over the store of one without): one answer is the row; none, no such
row; several, ``LEGACY_ID_AMBIGUOUS`` — never a guess, and the client is told to use
the row's current ID, which every answer has carried since the public keys came. A
node that does not answer is ``NodeUnavailable`` naming it: without it the lookup
cannot be sure. The one node holding the level without an address is left its SQL
path by number (``by_key``), as before."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.node import numbered
from levels.node.numbered import NumberedKind
from resolvers.fanout import call_api, call_node
from resolvers.nodeclient import NodeCallFailed, NodeClient
from resolvers.registry import Node
from schema.info import Info

_PUBLIC_IDS = """
query PublicIds($of: NumberedKind!, $numbers: [Int!]!) {
  publicIds(of: $of, numbers: $numbers) { number publicId }
}
"""


async def public_ids_at(
    client: NodeClient, kind: NumberedKind, numbers: Sequence[int]
) -> list[tuple[int, str]]:
    """(number, public key) of the rows of ``kind`` the node's store numbers so."""
    data = await client.query(_PUBLIC_IDS, {"of": kind.name, "numbers": list(numbers)})
    found = data.get("publicIds")
    if not isinstance(found, list):
        raise NodeCallFailed(f"node {client.node_id}: publicIds answered {found!r}")
    return [(int(item["number"]), str(item["publicId"])) for item in found]


async def _ask(info: Info, node: Node, kind: NumberedKind, number: int) -> list[str]:
    """The public keys of the rows of ``kind`` numbered ``number`` in ``node``'s store:
    through its API when it has an address, else by SQL."""
    ctx = info.context
    timeout = ctx.settings.node_timeout_seconds
    if node.client is not None:
        found = await call_api(
            ctx.sessions, node, lambda c: public_ids_at(c, kind, [number]), timeout
        )
    else:

        async def read(_node: Node, session: AsyncSession) -> list[tuple[int, str]]:
            return await numbered.public_ids(kind, [number], session=session)

        found = await call_node(ctx.sessions, node, read, timeout)
    return [key for n, key in found if n == number]


async def row_key(
    info: Info, type_name: str, level: Level, key: str | int, field: Sequence[str]
) -> str | int | None:
    """What the hub names the row of ``type_name`` by: ``key`` itself when it is a
    public key, or the row number when one node without an address holds ``level``
    (its store, by SQL, as before); else the public key of the one row the nodes
    holding ``level`` number so — None when none does, ``LEGACY_ID_AMBIGUOUS`` at
    ``field`` when several do, ``NodeUnavailable`` when a node does not answer."""
    if isinstance(key, str):
        return key
    nodes = info.context.nodes.holding(level)
    if len(nodes) == 1 and nodes[0].client is None:
        return key
    kind = numbered.OF_TYPE[type_name]
    outcomes: list[Any] = await asyncio.gather(
        *(_ask(info, node, kind, key) for node in nodes), return_exceptions=True
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    found = [(node, k) for node, keys in zip(nodes, outcomes, strict=True) for k in keys]
    if len(found) > 1:
        held = ", ".join(node.id for node, _ in found)
        raise DomainError(ErrorCode.LEGACY_ID_AMBIGUOUS, field=list(field), detail=held)
    return found[0][1] if found else None
