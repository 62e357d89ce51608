"""The hub's e-licence services, shared by every request: the signer and key directory
(``info.context.licensing``), the issuers' signed status lists, and the offline
verification kit. A node with an address signs its issuers' lists itself
(``statusLists``, with the issuer's key kept in its store); the hub signs by SQL only
for the nodes without one. Their HTTP routes are in ``gateway/licensing.py``; the licence keys
are also in the hub's JWKS (``/.well-known/jwks.json``), by ``kid``. What the routes
serve is kept for its ``max-age`` (``served_kit``, ``served_status_list``:
``resolvers/kept_answers.py``): a kit made whole and an issuer's list found; a licence
change made through this process forgets them (``forget``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from functools import partial
from typing import Any

from sqlalchemy import select

from levels.common.clock import Clock
from levels.common.enums import Level
from levels.licences import status_lists
from levels.licences.keys import KeyDirectory, KeySource, OrgSigner
from levels.licences.models import LicenceKey
from levels.node.licence_library import library_orgs
from levels.node.status_lists import credit_area
from levels.outbox.signing import NODE_KEY_PREFIX
from resolvers import node_licence_calls
from resolvers.breakers import unreachable
from resolvers.fanout import NodeUnavailable, guarded
from resolvers.kept_answers import Kept, KeptAnswers
from resolvers.registry import Node, NodeRegistry

log = logging.getLogger("govhub.licences")
# how long a client may keep the kit (its Cache-Control max-age), and the hub with it
KIT_MAX_AGE = 60
# an issuer's list: this long at most, never longer than the list is trusted offline
STATUS_LIST_MAX_AGE = 300


def _source(nodes: NodeRegistry, node: Node) -> KeySource:
    """The public keys kept at ``node``: through its API (``licenceKeys``, counted and
    behind the node's breaker) when it has an address, else by SQL."""
    client = node.client
    if client is not None:
        api = client
        keys = partial(node_licence_calls.licence_keys, api)
        return partial(guarded, nodes.breakers, node, keys, api.timeout)

    async def read() -> list[LicenceKey]:
        async with node.sessions() as session:
            # the issuing orgs' keys (the nodes' message keys are kept alongside)
            rows = await session.scalars(
                select(LicenceKey).where(~LicenceKey.org_code.startswith(NODE_KEY_PREFIX))
            )
            return list(rows)

    return read


class Licensing:
    def __init__(
        self,
        nodes: NodeRegistry,
        clock: Clock,
        *,
        secret: bytes,
        status_ttl_seconds: int,
        copy_max_days: int = 90,
    ) -> None:
        self.nodes = nodes
        self.clock = clock
        self.signer = OrgSigner(secret)
        self.directory = KeyDirectory({node.name: _source(nodes, node) for node in nodes})
        self.status_ttl_seconds = status_ttl_seconds
        self.copy_max_days = copy_max_days
        self._library: tuple[str, ...] | None = None
        self.kit_max_age = KIT_MAX_AGE
        self.status_max_age = min(STATUS_LIST_MAX_AGE, status_ttl_seconds)
        self._kits: KeptAnswers[dict[str, Any]] = KeptAnswers(clock, self.kit_max_age)
        self._lists: KeptAnswers[str | None] = KeptAnswers(clock, self.status_max_age)

    async def library_orgs(self) -> tuple[str, ...]:
        """The city's service orgs: the library signs copies with the first's key. Read
        once, from the node holding the city (through its API when it has an address;
        an answer not come is not kept: asked again next time)."""
        if self._library is None:
            city = self.nodes.single(Level.CITY)
            client = city.client
            if client is not None:
                try:
                    found = await guarded(
                        self.nodes.breakers,
                        city,
                        partial(node_licence_calls.library_orgs, client),
                        client.timeout,
                    )
                except NodeUnavailable as exc:
                    log.warning("library orgs of %s not read: %r", city.id, exc)
                    return ()
            else:
                async with city.sessions() as session:
                    found = await library_orgs(session)
            self._library = found
        return self._library

    def _keeps(self, node: Node) -> status_lists.Keeps:
        """Whether ``node`` keeps the rows of a level about a division (its issuers'
        licences: not the library's copies of another node's)."""

        def keeps(code: str, level: Level) -> bool:
            owner = self.nodes.map.owner_or_none(code, level)
            return owner is not None and owner.id == node.id

        return keeps

    async def status_lists_of(
        self, node: Node, now: dt.datetime, org_codes: list[str] | None = None
    ) -> dict[str, str]:
        """The signed lists of the issuers ``node`` keeps (those of ``org_codes`` when
        given), by org code: through its API (``statusLists``, signed at the node with
        the issuer's key it keeps; counted and behind its breaker) when it has an
        address, else by SQL over its store, with the same statements and signer."""
        client = node.client
        if client is not None:
            call = partial(
                node_licence_calls.status_lists,
                client,
                now=now,
                ttl_seconds=self.status_ttl_seconds,
                org_codes=org_codes,
            )
            return await guarded(self.nodes.breakers, node, call, client.timeout)
        async with node.sessions.begin() as session:
            orgs = await status_lists.issuers_kept(
                session, node.levels, self._keeps(node), org_codes
            )
            return await status_lists.signed_lists(
                session, orgs, signer=self.signer, now=now, ttl_seconds=self.status_ttl_seconds
            )

    async def status_list(self, org_code: str, now: dt.datetime) -> str | None:
        """The issuer's signed list, from the node keeping its licences (None when it
        issued none). The nodes of the area its credit code names are asked in map
        order (those serving part of its range, as the node checks it), up to the one
        that has it; ``NodeUnavailable`` when none had it and one did not answer (its
        licences may be there)."""
        down: NodeUnavailable | None = None
        area, levels = credit_area(org_code)
        for node in self.nodes.covering(levels, area):
            try:
                found = await self.status_lists_of(node, now, [org_code])
            except NodeUnavailable as exc:
                down = down or exc
                continue
            except Exception as exc:
                if not unreachable(exc):
                    raise
                log.warning("status list of %s: store of %s unavailable: %r", org_code, node, exc)
                down = down or NodeUnavailable(node, exc)
                continue
            if org_code in found:
                return found[org_code]
        if down is not None:
            raise down
        return None

    async def kit(self) -> dict[str, Any]:
        now = self.clock.now()
        results = await asyncio.gather(
            *(self.status_lists_of(node, now) for node in self.nodes), return_exceptions=True
        )
        lists: dict[str, str] = {}
        missing: list[str] = []
        away: list[str] = []
        for node, result in zip(self.nodes, results, strict=True):
            if isinstance(result, BaseException):
                # its issuers' licences verify as UNKNOWN
                log.warning("kit: status lists of %s left out: %r", node.id, result)
                missing += [lv.value for lv in node.levels if lv.value not in missing]
                away.append(node.id)
            else:
                lists.update(result)
        await self.directory.reload()
        return {
            "generatedAt": now.isoformat(),
            "ttlSeconds": self.status_ttl_seconds,
            "jwks": await self.directory.jwks(),
            "statusLists": lists,
            "libraryOrgs": list(await self.library_orgs()),
            "unavailableLevels": missing,
            "unavailableNodes": away,
        }

    async def served_kit(self) -> Kept[dict[str, Any]]:
        """The kit ``/licences/kit`` serves: made as ``kit`` does, kept for
        ``kit_max_age`` when whole (one that leaves a node's lists out is made afresh
        for the next request, which may find the node back)."""

        async def make(_now: dt.datetime) -> dict[str, Any]:
            return await self.kit()

        return await self._kits.get((), make, lambda kit: not kit["unavailableNodes"])

    async def served_status_list(self, org_code: str) -> Kept[str | None]:
        """The issuer's list ``/licences/status/{orgCode}`` serves, kept for
        ``status_max_age`` when found (an issuer without one may issue its first)."""

        async def make(now: dt.datetime) -> str | None:
            return await self.status_list(org_code, now)

        return await self._lists.get(org_code, make, lambda token: token is not None)

    def forget(self) -> None:
        """Nothing kept: after a licence change, the next kit and lists are signed anew
        (another process's kept ones age out within their max-age)."""
        self._kits.forget()
        self._lists.forget()
