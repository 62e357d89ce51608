"""A licence's lifecycle asked of the node that issued it, when the hub reaches that
node through its API (DESIGN §2, "A node is a service"): the master row read there
(``_entities`` of ``ELicence``, for the hub's permission check), then the change
(``changeLicence``: suspend, reinstate, revoke, reissue), which the node makes in its
own transaction and signs with the issuing org's key it keeps. Its typed refusal is
the same ``DomainError``; a node that does not answer is ``NodeUnavailable``, naming
it, and nothing is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from levels.common.codes import level_of_division
from levels.common.enums import LEVELS
from levels.common.errors import DomainError
from levels.common.rowcodec import decode_row
from levels.licences.identifiers import LicenceId
from levels.licences.models import ELicence
from levels.node.steps import encode_actor
from resolvers import nodewrites, remote
from resolvers.cases import actor_of
from resolvers.fanout import guarded
from resolvers.registry import Node
from schema.info import Info


def _candidates(info: Info, parsed: LicenceId) -> list[list[Node]] | None:
    """The nodes that may have issued it, in the order to ask them: those holding the
    level of the area its issuer's credit code names, then the levels below it there.
    None when the area names no division or a candidate is read by SQL (the hub's own
    path then)."""
    area = parsed.issuer_org_code[2:8] + "000000"
    level = level_of_division(area)
    if level is None:
        return None
    nodes = info.context.nodes
    first = nodes.holding(level, area)
    below = [n for n in nodes.covering(LEVELS[LEVELS.index(level) + 1 :], area) if n not in first]
    if not first or any(n.client is None for n in (*first, *below)):
        return None
    return [first, below] if below else [first]


def _is_master(info: Info, node: Node, row: ELicence) -> bool:
    """The node's row is its master: issued at a level it holds by a division it owns
    (the city node's library copies of other levels' licences are not)."""
    if row.issuer_level not in node.levels:
        return False
    owner = info.context.nodes.owner_or_none(row.issuer_division_code[:12], row.issuer_level)
    return owner is None or owner.id == node.id


async def master_at(info: Info, node: Node, key: str) -> ELicence | None:
    """Licence ``key``'s master row at ``node``, read through its API (``_entities`` of
    ``ELicence``): None when the node has none or only the library's copy."""
    client = node.client
    assert client is not None

    async def fetch() -> ELicence | None:
        found = await client.entities("ELicence", [{"id": key}], ["columns"])
        item = found[0] if found else None
        return None if item is None else decode_row(ELicence, item["columns"])

    row = await guarded(info.context.nodes.breakers, node, fetch, client.timeout)
    return row if row is not None and _is_master(info, node, row) else None


async def master(info: Info, parsed: LicenceId) -> tuple[Node, ELicence | None] | None:
    """The issuing node and its master row (None: no node has it), read through the
    nodes' API; None when the hub reads these nodes by SQL."""
    batches = _candidates(info, parsed)
    if batches is None:
        return None
    for batch in batches:
        for node in batch:
            row = await master_at(info, node, parsed.value)
            if row is not None:
                return node, row
    return batches[0][0], None


async def change(
    info: Info, node: Node, key: str, action: str, now: dt.datetime, **given: Any
) -> tuple[ELicence | None, DomainError | None]:
    """The node's change of licence ``key``: the licence as it then stands and the
    refusal (both: its expiry kept, the change refused), made at the hub's ``now``."""
    client = node.client
    assert client is not None
    actor = encode_actor(actor_of(info))

    async def call() -> dict[str, Any]:
        return await nodewrites.change_licence(client, key, action, actor=actor, now=now, **given)

    answer = await guarded(info.context.nodes.breakers, node, call, client.timeout)
    columns = answer.get("columns")
    row = decode_row(ELicence, columns) if isinstance(columns, Mapping) else None
    return row, remote.refusal(answer)
