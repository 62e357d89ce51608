"""The level stores as ``govhub relay`` and ``govhub messages`` see them: which are
not at this hub's schema, and which holds a message."""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import select

from gateway.breakers import unreachable
from gateway.nodes import LevelNode, NodeRegistry
from levels.common import migrate
from levels.outbox.models import OutboxMessage

log = logging.getLogger("govhub.messaging")


async def stores_behind(nodes: NodeRegistry, only: Collection[str] | None = None) -> list[str]:
    """The level stores (of the nodes ``only`` names, else all) that answer but are not
    at this hub's schema (one that does not answer is left to the pass, which goes on
    without it and reports it)."""
    behind = []
    for node in nodes:
        if only is not None and node.name not in only:
            continue
        try:
            if not await migrate.is_current(node.engine, "levels"):
                behind.append(node.name)
        except Exception as exc:
            if not unreachable(exc):
                raise
            log.warning("messages: %s store not answering: %r", node.name, exc)
    return behind


async def find_message(nodes: NodeRegistry, message_id: str) -> LevelNode | None:
    """The store whose outbox holds ``message_id`` (None: no store answering has it)."""
    for node in nodes:
        async with node.sessions() as session:
            found = await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.id == message_id)
            )
        if found is not None:
            return node
    return None
