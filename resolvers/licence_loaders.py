"""The loaders of the city's licence library (电子证照库) and of a licence's master row
at its issuer: through the node's API (``orgRecords`` of ``LICENCES``, ``LICENCE_USES``,
``LICENCE_TYPES``) when the node has an address, else by SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.licences import reads as licence_reads
from levels.licences.identifiers import parse_licence_id
from levels.licences.models import ELicence, LicenceType, LicenceUse
from levels.node.records import OrgRecordKind
from resolvers import remote
from resolvers.level_loader import LevelLoader, OrgScopedLoader, R
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node


class LibraryLoader(LevelLoader[str, R]):
    """Rows of the city's licence library (电子证照库): through the API of the node
    holding the city when it has an address (``orgRecords`` of ``kind``)."""

    kind: ClassVar[OrgRecordKind]
    remote = True

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[R]:
        return await remote.org_records(client, self.kind, keys)

    def levels_of(self, key: str) -> Sequence[Level]:
        return (Level.CITY,)


class LicenceByIdLoader(LibraryLoader[ELicence]):
    kind = OrgRecordKind.LICENCES

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ELicence]:
        return await licence_reads.licences_by_id(keys, session=session)

    def answers(self, level: Level, row: ELicence) -> str:
        return row.id


class UsesByLicenceLoader(LibraryLoader[LicenceUse]):
    many = True
    kind = OrgRecordKind.LICENCE_USES

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[LicenceUse]:
        return await licence_reads.uses_by_licence(keys, session=session)

    def answers(self, level: Level, row: LicenceUse) -> str:
        return row.licence_id


class LicenceTypeByCodeLoader(LibraryLoader[LicenceType]):
    kind = OrgRecordKind.LICENCE_TYPES

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[LicenceType]:
        return await licence_reads.types_by_code(keys, session=session)

    def answers(self, level: Level, row: LicenceType) -> str:
        return row.code


class LicenceAtIssuerLoader(OrgScopedLoader[ELicence]):
    """A licence's master row, keyed by (issuer level, identifier): the status its
    issuer holds now, ahead of the library's copy (the city store's copies of other
    levels' licences answer nothing). Asked at the nodes holding the level in the area
    of the issuer's credit code (in the identifier), as a licence's lifecycle finds
    its master (``resolvers/licence_api.py``)."""

    remote = True

    def nodes_of(self, key: tuple[Level, str], level: Level) -> list[Node]:
        try:
            issuer = parse_licence_id(key[1]).issuer_org_code
        except DomainError:
            return super().nodes_of(key, level)
        return self.sessions.nodes.org_nodes(issuer, level)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[ELicence]:
        return await remote.org_records(client, OrgRecordKind.LICENCES, keys)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ELicence]:
        return await licence_reads.licences_by_id(keys, session=session)

    def answers(self, level: Level, row: ELicence) -> tuple[Level, str]:
        return (level, row.id if row.issuer_level is level else "")
