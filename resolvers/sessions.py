"""The sessions of a request's reads, per node.

On PostgreSQL each loader batch or fan-out call gets a session of its own in
autocommit mode (``NodeRegistry.reads``), whose connection goes back to the pool as
soon as the call ends: a request holds a connection only while its statements run,
and pays no BEGIN or ROLLBACK round trip. On SQLite every call of a request to the same
node shares one session (one snapshot of that node), closed when the operation ends.
Either way the calls to one node are taken in turn, under a lock, so a request uses at
most one connection per node at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.registry import Node, NodeRegistry


class RequestSessions:
    def __init__(self, nodes: NodeRegistry) -> None:
        self.nodes = nodes
        self._open: dict[str, AsyncSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def use(self, node: Node) -> AsyncIterator[AsyncSession]:
        lock = self._locks.setdefault(node.id, asyncio.Lock())
        async with lock:
            reads = self.nodes.reads.get(node.id)
            if reads is not None:
                read = reads()
                try:
                    yield read
                finally:
                    # Core reads gave their connections back (``rows``): nothing to close
                    if not read.untouched:
                        await asyncio.shield(read.close())
                return
            session = self._open.get(node.id)
            if session is None:
                session = self._open[node.id] = node.sessions()
            try:
                yield session
            except BaseException:
                # a failed or cancelled call may leave the session unusable: drop it
                del self._open[node.id]
                await asyncio.shield(session.close())
                raise

    async def close(self) -> None:
        sessions, self._open = list(self._open.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
