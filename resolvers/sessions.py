"""One session per level node per request.

Every loader batch and fan-out call of a request that goes to the same node shares one
session (one pooled connection, one snapshot of that node), taken in turn under a lock,
and all are closed when the operation ends. Fewer checkouts and rollbacks than a
session per statement, and a request reads each node consistently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.nodes import LevelNode, NodeRegistry
from levels.common.enums import Level


class RequestSessions:
    def __init__(self, nodes: NodeRegistry) -> None:
        self.nodes = nodes
        self._open: dict[Level, AsyncSession] = {}
        self._locks: dict[Level, asyncio.Lock] = {}

    @asynccontextmanager
    async def use(self, node: LevelNode) -> AsyncIterator[AsyncSession]:
        lock = self._locks.setdefault(node.level, asyncio.Lock())
        async with lock:
            session = self._open.get(node.level)
            if session is None:
                session = self._open[node.level] = node.sessions()
            try:
                yield session
            except BaseException:
                # a failed or cancelled call may leave the session unusable: drop it
                del self._open[node.level]
                await asyncio.shield(session.close())
                raise

    async def close(self) -> None:
        sessions, self._open = list(self._open.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
