"""The context of one call to a node's API: the node's scope (what it owns), its store,
its inbox, the signer of the licences it issues, and per-request loaders that read
each entity type in one statement for every key the call names."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from levels.common.clock import Clock
from levels.common.reads import ReadRow
from levels.licences.keys import OrgSigner
from levels.node import reads
from levels.node.inbox import Inbox
from levels.node.scope import NodeScope


@dataclass
class NodeContext:
    scope: NodeScope
    sessions: async_sessionmaker[AsyncSession]
    inbox: Inbox
    clock: Clock
    locale: str = "zh"
    max_page_size: int = 100
    default_page_size: int = 20
    # signs the licences an approval here issues, with the issuing org's key in this
    # node's store (None: this node issues none)
    licence_signer: OrgSigner | None = None
    _session: AsyncSession | None = None
    # one session per call (one snapshot on SQLite), used by one read at a time
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaders: NodeLoaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = NodeLoaders(self)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                self._session = self.sessions()
            yield self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class NodeLoaders:
    """``<Entity>By<Key>``: each answers its keys with one statement per batch."""

    def __init__(self, context: NodeContext) -> None:
        self.division_by_code = self._loader(context, reads.divisions_by_code, "code")
        self.org_by_code = self._loader(context, reads.orgs_by_code, "code")
        self.matter_by_code = self._loader(context, reads.matters_by_code, "basic_code")
        self.implementation_by_code = self._loader(context, reads.implementations_by_code, "code")
        self.case_by_number = self._loader(context, reads.cases_by_number, "number")
        self.licence_by_id = self._loader(context, reads.licences_by_id, "id")
        self.delegation_by_id: DataLoader[str, reads.DelegationRow | None] = DataLoader(
            self._batch(context, reads.delegations_by_id, lambda d: d.row.id)
        )

    @staticmethod
    def _batch(
        context: NodeContext,
        fetch: Callable[..., Awaitable[Sequence[Any]]],
        key_of: Callable[[Any], Hashable],
    ) -> Callable[[list[str]], Awaitable[list[Any]]]:
        async def load(keys: list[str]) -> list[Any]:
            async with context.reading() as session:
                found = {key_of(row): row for row in await fetch(keys, session=session)}
            return [found.get(key) for key in keys]

        return load

    def _loader(
        self,
        context: NodeContext,
        fetch: Callable[..., Awaitable[Sequence[ReadRow]]],
        column: str,
    ) -> DataLoader[str, ReadRow | None]:
        return DataLoader(self._batch(context, fetch, lambda row: getattr(row, column)))
