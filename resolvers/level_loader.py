"""The base of every per-request DataLoader (``resolvers/loaders.py``,
``resolvers/village_loaders.py``): keys grouped by the level node that holds them, each
node asked once, in parallel, rows returned in key order."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.nodes import LevelNode
from levels.common.enums import LEVELS, Level
from resolvers.fanout import call_node
from resolvers.sessions import RequestSessions

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


class LevelLoader(DataLoader[K, Any], Generic[K, R]):
    """Batches keys per level node. Subclasses say where a key lives, how to fetch a
    batch from one node, and which key a fetched row answers."""

    many: ClassVar[bool] = False

    def __init__(self, sessions: RequestSessions, timeout: float) -> None:
        super().__init__()
        self.sessions = sessions
        self.timeout = timeout

    def levels_of(self, key: K) -> Sequence[Level]:
        raise NotImplementedError

    def node_key(self, key: K) -> Any:
        """The value sent to the node's query for ``key`` (the key itself by default)."""
        return key

    async def fetch(self, keys: list[Any], *, session: AsyncSession) -> Sequence[R]:
        raise NotImplementedError

    def answers(self, level: Level, row: R) -> Hashable:
        """The loader key a row fetched from ``level`` answers."""
        raise NotImplementedError

    async def batch_load_fn(self, keys: list[K]) -> list[Any]:
        by_level: dict[Level, list[Any]] = defaultdict(list)
        for key in keys:
            for level in self.levels_of(key):
                by_level[level].append(self.node_key(key))
        levels = [lv for lv in LEVELS if lv in by_level]

        async def run(node: LevelNode, session: AsyncSession) -> Sequence[R]:
            return await self.fetch(sorted(set(by_level[node.level])), session=session)

        outcomes = await asyncio.gather(
            *(call_node(self.sessions, lv, run, self.timeout) for lv in levels),
            return_exceptions=True,
        )
        found: dict[Hashable, Any] = defaultdict(list) if self.many else {}
        failed: dict[Level, BaseException] = {}
        for level, outcome in zip(levels, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                failed[level] = outcome
                continue
            for row in outcome:
                k = self.answers(level, row)
                if self.many:
                    found[k].append(row)
                else:
                    found[k] = row
        results: list[Any] = []
        for key in keys:
            down = [failed[lv] for lv in self.levels_of(key) if lv in failed]
            if down:
                results.append(down[0])
            elif self.many:
                results.append(found.get(key, []))
            else:
                results.append(found.get(key))
        return results
