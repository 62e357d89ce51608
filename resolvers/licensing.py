"""The hub's e-licence services, shared by every request: the signer and key directory
(``info.context.licensing``), the issuers' signed status lists, and the offline
verification kit. Their HTTP routes are in ``gateway/licensing.py``; the licence keys
are also in the hub's JWKS (``/.well-known/jwks.json``), by ``kid``."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import select

from gateway.nodes import LevelNode, NodeRegistry
from levels.common.clock import Clock
from levels.common.enums import LEVELS, Level
from levels.common.models import ServiceOrg
from levels.licences import status_lists
from levels.licences.keys import KeyDirectory, KeySource, OrgSigner
from levels.licences.models import ELicence, LicenceKey
from levels.outbox.signing import NODE_KEY_PREFIX


def _source(node: LevelNode) -> KeySource:
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
        self.directory = KeyDirectory({lv.value: _source(nodes[lv]) for lv in LEVELS})
        self.status_ttl_seconds = status_ttl_seconds
        self.copy_max_days = copy_max_days
        self._library: tuple[str, ...] | None = None

    async def library_orgs(self) -> tuple[str, ...]:
        """The city's service orgs: the library signs copies with the first's key."""
        if self._library is None:
            async with self.nodes[Level.CITY].sessions() as session:
                self._library = tuple(
                    await session.scalars(
                        select(ServiceOrg.code)
                        .where(ServiceOrg.level == Level.CITY)
                        .order_by(ServiceOrg.division_code, ServiceOrg.code)
                    )
                )
        return self._library

    async def _issuers(self, node: LevelNode) -> list[str]:
        async with node.sessions() as session:
            return await status_lists.issuers_here(session, node.level)

    async def status_lists_of(self, node: LevelNode, now: dt.datetime) -> dict[str, str]:
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
        for level in LEVELS:
            node = self.nodes[level]
            async with node.sessions() as session:
                found = await session.scalar(
                    select(ELicence.id)
                    .where(ELicence.issuer_org_code == org_code, ELicence.issuer_level == level)
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
            *(self.status_lists_of(self.nodes[lv], now) for lv in LEVELS), return_exceptions=True
        )
        lists: dict[str, str] = {}
        missing: list[str] = []
        for level, result in zip(LEVELS, results, strict=True):
            if isinstance(result, BaseException):
                missing.append(level.value)  # its issuers' licences verify as UNKNOWN
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
