"""Calls to several level nodes at once: in parallel, each with its own timeout, and a
node that fails or times out yields a NODE_UNAVAILABLE note instead of failing the
whole request (DESIGN §2)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.breakers import unreachable
from gateway.nodes import LevelNode
from gateway.observability import node_call
from levels.common.enums import Level
from resolvers.sessions import RequestSessions

T = TypeVar("T")
log = logging.getLogger("govhub.fanout")

NodeCall = Callable[[LevelNode, AsyncSession], Awaitable[T]]


class NodeUnavailable(Exception):
    def __init__(self, level: Level, cause: BaseException) -> None:
        self.level = level
        self.cause = cause
        super().__init__(f"{level.value} node unavailable: {type(cause).__name__}")


# failures that mean "this node is not answering" (an open breaker too), not a bug
_unavailable = unreachable


@dataclass
class FanOutResult(Generic[T]):
    values: dict[Level, T] = field(default_factory=dict)
    unavailable: list[NodeUnavailable] = field(default_factory=list)


async def call_node(sessions: RequestSessions, level: Level, fn: NodeCall[T], timeout: float) -> T:
    """Run ``fn`` with the request's session of one node; raise ``NodeUnavailable``
    when the node cannot answer in time (or its circuit breaker is open)."""
    node = sessions.nodes[level]

    async def once() -> T:
        async with sessions.use(node) as session:
            return await fn(node, session)

    async def run() -> T:
        try:
            return await once()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # a pooled connection the server had closed (there is no pre-ping): SQLAlchemy
        # has replaced the pool's connections; a read is tried once more on a fresh one
        return await once()

    try:
        # counted and traced per node (gateway/observability.py), open breaker included
        async with node_call(node.name), sessions.nodes.breakers.guard(node.name):
            return await asyncio.wait_for(run(), timeout)
    except Exception as exc:
        if not _unavailable(exc):
            raise
        log.warning("node %s unavailable: %r", level.value, exc)
        raise NodeUnavailable(level, exc) from exc


async def fan_out(
    sessions: RequestSessions, levels: Iterable[Level], fn: NodeCall[T], *, timeout: float
) -> FanOutResult[T]:
    """Run ``fn`` on each level's node in parallel. Latency ≈ the slowest node."""
    chosen = list(dict.fromkeys(levels))
    outcomes = await asyncio.gather(
        *(call_node(sessions, lv, fn, timeout) for lv in chosen), return_exceptions=True
    )
    result: FanOutResult[T] = FanOutResult()
    for level, outcome in zip(chosen, outcomes, strict=True):
        if isinstance(outcome, NodeUnavailable):
            result.unavailable.append(outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            result.values[level] = outcome
    return result
