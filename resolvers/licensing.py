"""The hub's e-licence services, shared by every request: the signer and key directory
(``info.context.licensing``), the issuers' signed status lists, and the offline
verification kit. Their HTTP routes are in ``gateway/licensing.py``; the licence keys
are also in the hub's JWKS (``/.well-known/jwks.json``), by ``kid``."""

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
from levels.licences.models import ELicence, LicenceKey
from levels.node.licence_library import library_orgs
from levels.outbox.signing import NODE_KEY_PREFIX
from resolvers import node_licence_calls
from resolvers.fanout import NodeUnavailable, guarded
from resolvers.registry import Node, NodeRegistry

log = logging.getLogger("govhub.licences")


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

    async def _issuers(self, node: Node) -> list[str]:
        async with node.sessions() as session:
            return [
                org
                for level in node.levels
                for org in await status_lists.issuers_here(session, level)
            ]

    async def status_lists_of(self, node: Node, now: dt.datetime) -> dict[str, str]:
        issuers = await self._issuers(node)
        lists: dict[str, str] = {}
        async with node.sessions.begin() as session:
            for org in issuers:
                lists[org] = await status_lists.status_list(
                    session, org, signer=self.signer, now=now, ttl_seconds=self.status_ttl_seconds
                )
        return lists

    async def status_list(self, org_code: str, now: dt.datetime) -> str | None:
        """The issuer's signed list, from the store its licences are in (None when it
        issued none)."""
        for node in self.nodes:
            async with node.sessions() as session:
                found = await session.scalar(
                    select(ELicence.id)
                    .where(
                        ELicence.issuer_org_code == org_code,
                        ELicence.issuer_level.in_(node.levels),
                    )
                    .limit(1)
                )
            if found is not None:
                async with node.sessions.begin() as session:
                    return await status_lists.status_list(
                        session,
                        org_code,
                        signer=self.signer,
                        now=now,
                        ttl_seconds=self.status_ttl_seconds,
                    )
        return None

    async def kit(self) -> dict[str, Any]:
        now = self.clock.now()
        results = await asyncio.gather(
            *(self.status_lists_of(node, now) for node in self.nodes), return_exceptions=True
        )
        lists: dict[str, str] = {}
        missing: list[str] = []
        for node, result in zip(self.nodes, results, strict=True):
            if isinstance(result, BaseException):
                # its issuers' licences verify as UNKNOWN
                missing += [lv.value for lv in node.levels if lv.value not in missing]
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
        }
