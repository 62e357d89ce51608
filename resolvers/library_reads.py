"""What the hub reads of the city's licence library before a node without it receives a
case (``submitCase``, ``receiveCase``, ``receiveForResident``): the holder's licences
in force and those the application names, at the city node through its API
(``licencesOfHolder``, ``schema/node/licence_library.py``) when it has an address, else in the
city store by the same statement; each one's status at its issuer (``issuer_status``,
as the SQL path asks it). They travel to the receiving node as ``HeldLicences``
(``levels/licences/held.py``), where the rules that fill materials and waive the
station's fee read them as they read the library.

The city node that does not answer is ``NodeUnavailable`` naming it, before the
receiving node is asked: nothing is written, rather than a receipt that charges a card
holder or asks for a material the library holds. An issuer that does not answer
vouches for nothing (its licences fill no material), as on the SQL path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from levels.cases.enums import MaterialSource
from levels.cases.intake import Submission
from levels.cases.service import MaterialDraft
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.rowcodec import decode_row
from levels.licences.held import HeldLicences, encode_held, read_held
from levels.licences.identifiers import parse_licence_id
from levels.licences.models import ELicence
from levels.node.proxy import ProxyReceipt
from levels.node.records import OrgRecordKind
from levels.proxy.models import ProxyAuthorization
from resolvers import remote
from resolvers.fanout import guarded
from resolvers.loaders import issuer_status
from resolvers.nodeclient import NodeCallFailed
from resolvers.registry import Node
from schema.info import Info

_LICENCES_OF_HOLDER = """
query LicencesOfHolder($holder: String!, $named: [String!]) {
  licencesOfHolder(holder: $holder, named: $named) { columns }
}
"""


def named_licences(materials: Sequence[MaterialDraft]) -> list[str]:
    """The licences an application names for its materials (those that do not parse
    are the receiving node's to refuse)."""
    found: list[str] = []
    for drafted in materials:
        if drafted.source is not MaterialSource.LICENCE:
            continue
        try:
            found.append(parse_licence_id(drafted.reference or "", field=()).value)
        except DomainError:
            continue
    return found


async def _rows(info: Info, city: Node, holder: str, named: list[str]) -> list[ELicence]:
    ctx = info.context
    client = city.client
    if client is None:

        async def by_sql() -> list[ELicence]:
            async with city.sessions() as session:
                return await read_held(session, holder, named)

        return await guarded(ctx.nodes.breakers, city, by_sql, ctx.settings.node_timeout_seconds)

    async def call() -> list[ELicence]:
        data = await client.query(_LICENCES_OF_HOLDER, {"holder": holder, "named": named})
        found = data.get("licencesOfHolder")
        if not isinstance(found, list):
            raise NodeCallFailed(f"node {client.node_id}: licencesOfHolder answered {found!r}")
        return [decode_row(ELicence, item["columns"]) for item in found]

    return await guarded(ctx.nodes.breakers, city, call, client.timeout)


async def library_for(
    info: Info, here: Node, holder: str, materials: Sequence[MaterialDraft]
) -> dict[str, Any] | None:
    """The holder's part of the library for the node ``here`` that receives their case,
    as JSON (None: ``here`` is the city's node and reads its own library)."""
    ctx = info.context
    city = ctx.nodes.single(Level.CITY)
    if here.id == city.id or not holder:
        return None
    rows = await _rows(info, city, holder, named_licences(materials))
    status = issuer_status(ctx.loaders)
    found = await asyncio.gather(*(status(r) for r in rows))
    at_issuer = {r.id: s for r, s in zip(rows, found, strict=True)}
    return encode_held(HeldLicences(holder, tuple(rows), at_issuer))


async def resident_library(
    info: Info, here: Node, receipt: ProxyReceipt, submission: Submission
) -> dict[str, Any] | None:
    """代办: the authorizing resident's part of the library. The resident is the
    authorization's, read at the village's node ``here`` (``PROXY_AUTHORIZATIONS``);
    one it does not keep, or of another village, is refused there in the receipt's
    transaction, and nothing is read for it."""
    client = here.client
    assert client is not None
    ctx = info.context

    async def call() -> list[ProxyAuthorization]:
        keys = [receipt.authorization_id]
        return await remote.org_records(client, OrgRecordKind.PROXY_AUTHORIZATIONS, keys)

    found = await guarded(ctx.nodes.breakers, here, call, client.timeout)
    granted = next((g for g in found if g.village_code == receipt.village_code), None)
    if granted is None:
        return None
    return await library_for(info, here, granted.resident_id, submission.materials)
