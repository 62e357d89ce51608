"""The node registry: Level → level node (engine, session factory, level policy), plus
the identity store. Built by ``create_app``; nothing here runs at import time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.breakers import NodeBreakers
from gateway.settings import Settings
from levels.city.policy import CITY_POLICY
from levels.common.enums import LEVELS, Level
from levels.common.policy import LevelPolicy
from levels.common.store import create_store_engine
from levels.county.policy import COUNTY_POLICY
from levels.town.policy import TOWN_POLICY
from levels.village.policy import VILLAGE_POLICY

POLICIES: dict[Level, LevelPolicy] = {
    Level.CITY: CITY_POLICY,
    Level.COUNTY: COUNTY_POLICY,
    Level.TOWN: TOWN_POLICY,
    Level.VILLAGE: VILLAGE_POLICY,
}


@dataclass(frozen=True)
class Store:
    name: str
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class LevelNode(Store):
    level: Level
    policy: LevelPolicy


def _store(url: str, settings: Settings) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    pool_size, max_overflow = settings.db_pool()
    engine = create_store_engine(
        url, echo=settings.sql_echo, pool_size=pool_size, max_overflow=max_overflow
    )
    return engine, async_sessionmaker(engine, expire_on_commit=False)


def read_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession] | None:
    """Sessions for a request's reads on PostgreSQL: autocommit, so a read costs its
    statement's round trip only (no BEGIN, no ROLLBACK; under READ COMMITTED each
    statement has its own snapshot anyway). None on SQLite, where a request's reads of
    a store share one transaction (one snapshot)."""
    if engine.dialect.name != "postgresql":
        return None
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(autocommit, expire_on_commit=False)


class NodeRegistry:
    def __init__(
        self,
        nodes: dict[Level, LevelNode],
        identity: Store,
        *,
        breakers: NodeBreakers | None = None,
    ) -> None:
        self._nodes = nodes
        self.identity = identity
        # a circuit breaker per level node, for the fan-out and the relay
        self.breakers = breakers or NodeBreakers()
        self.reads = {level: read_sessions(node.engine) for level, node in nodes.items()}

    @classmethod
    def from_settings(cls, settings: Settings) -> NodeRegistry:
        nodes = {}
        for level in LEVELS:
            url = settings.db_url(level)
            engine, sessions = _store(url, settings)
            nodes[level] = LevelNode(
                level.value.lower(), url, engine, sessions, level, POLICIES[level]
            )
        url = settings.db_url("identity")
        engine, sessions = _store(url, settings)
        breakers = NodeBreakers(
            failures=settings.breaker_failures, open_seconds=settings.breaker_open_seconds
        )
        return cls(nodes, Store("identity", url, engine, sessions), breakers=breakers)

    def __getitem__(self, level: Level) -> LevelNode:
        return self._nodes[level]

    def __iter__(self) -> Iterator[LevelNode]:
        return iter(self._nodes[level] for level in LEVELS)

    def stores(self) -> list[Store]:
        return [*self, self.identity]

    async def dispose(self) -> None:
        await asyncio.gather(*(s.engine.dispose() for s in self.stores()))


@contextmanager
def count_statements(nodes: NodeRegistry) -> Iterator[dict[str, int]]:
    """SQL statements per store (``before_cursor_execute``) while the block runs."""
    counts = {store.name: 0 for store in nodes.stores()}
    listeners: list[tuple[Any, Callable[..., None]]] = []
    for store in nodes.stores():

        def listener(*_args: Any, _name: str = store.name) -> None:
            counts[_name] += 1

        event.listen(store.engine.sync_engine, "before_cursor_execute", listener)
        listeners.append((store.engine.sync_engine, listener))
    try:
        yield counts
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
