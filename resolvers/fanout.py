"""Calls to several nodes at once: in parallel, each with its own timeout, and a node
that fails or times out yields a NODE_UNAVAILABLE note (naming the node and the
prefixes it owns) instead of failing the whole request (DESIGN §2)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.codes import DivisionCode
from levels.common.enums import Level
from resolvers.breakers import NodeBreakers, unreachable
from resolvers.node_calls import node_call
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node
from resolvers.sessions import RequestSessions

T = TypeVar("T")
log = logging.getLogger("govhub.fanout")

NodeCall = Callable[[Node, AsyncSession], Awaitable[T]]
# where a call goes: a node, or the one node holding a level (embedded default, city)
Target = Node | Level


class NodeUnavailable(Exception):
    def __init__(self, node: Node, cause: BaseException) -> None:
        self.node = node
        self.cause = cause
        super().__init__(f"node {node.id} unavailable: {type(cause).__name__}")

    @property
    def node_id(self) -> str:
        return self.node.id

    @property
    def prefixes(self) -> tuple[str, ...]:
        return self.node.prefixes

    @property
    def level(self) -> Level | None:
        """The node's level when it holds one (the embedded default), else None."""
        levels = self.node.levels
        return levels[0] if len(levels) == 1 else None


# failures that mean "this node is not answering" (an open breaker too), not a bug
_unavailable = unreachable


@dataclass
class FanOutResult(Generic[T]):
    # by node id, in the order the nodes were asked
    values: dict[str, T] = field(default_factory=dict)
    unavailable: list[NodeUnavailable] = field(default_factory=list)


def nodes_for(
    sessions: RequestSessions,
    targets: Iterable[Target],
    under: str | DivisionCode | None = None,
) -> list[Node]:
    """The nodes to ask, each once: a node as given; a level, the nodes holding it (at
    or under ``under``)."""
    chosen: dict[str, Node] = {}
    for target in targets:
        if isinstance(target, Level):
            for node in sessions.nodes.holding(target, under):
                chosen.setdefault(node.id, node)
        else:
            chosen.setdefault(target.id, target)
    return list(chosen.values())


async def call_node(
    sessions: RequestSessions, target: Target, fn: NodeCall[T], timeout: float
) -> T:
    """Run ``fn`` with the request's session of one node (a level: the one node holding
    it); raise ``NodeUnavailable`` when the node cannot answer in time (or its circuit
    breaker is open)."""
    node = sessions.nodes[target] if isinstance(target, Level) else target

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

    return await guarded(sessions.nodes.breakers, node, run, timeout)


async def guarded(
    breakers: NodeBreakers, node: Node, run: Callable[[], Awaitable[T]], timeout: float
) -> T:
    """One call to a node, by SQL or through its API: counted and traced, behind its
    breaker, bounded by ``timeout``; ``NodeUnavailable`` when the node cannot answer."""
    try:
        # counted and traced per node (resolvers/node_calls.py), open breaker included
        # bounded in this task (``asyncio.timeout``), not in a task of its own
        async with node_call(node.name), breakers.guard(node.name), asyncio.timeout(timeout):
            return await run()
    except Exception as exc:
        if not _unavailable(exc):
            raise
        log.warning("node %s unavailable: %r", node.id, exc)
        raise NodeUnavailable(node, exc) from exc


async def call_api(
    sessions: RequestSessions,
    node: Node,
    fn: Callable[[NodeClient], Awaitable[T]],
    timeout: float,
) -> T:
    """Run ``fn`` with the API client of a node the hub reaches over HTTP; as
    ``call_node``, ``NodeUnavailable`` when it cannot answer in time."""
    client = node.client
    if client is None:
        raise ValueError(f"node {node.id} has no API address")
    return await guarded(sessions.nodes.breakers, node, lambda: fn(client), timeout)


async def fan_out(
    sessions: RequestSessions,
    targets: Iterable[Target],
    fn: NodeCall[T],
    *,
    timeout: float,
    under: str | DivisionCode | None = None,
    remote: Callable[[Node, NodeClient], Awaitable[T]] | None = None,
) -> FanOutResult[T]:
    """Run ``fn`` on each node in parallel (levels: the nodes holding them, at or under
    ``under``) — ``remote`` instead, when given, on a node reached through its API.
    Latency ≈ the slowest node."""
    chosen = nodes_for(sessions, targets, under)

    def call(node: Node) -> Awaitable[T]:
        if remote is not None and node.client is not None:
            return call_api(sessions, node, partial(remote, node), timeout)
        return call_node(sessions, node, fn, timeout)

    outcomes = await asyncio.gather(*(call(node) for node in chosen), return_exceptions=True)
    result: FanOutResult[T] = FanOutResult()
    for node, outcome in zip(chosen, outcomes, strict=True):
        if isinstance(outcome, NodeUnavailable):
            result.unavailable.append(outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            result.values[node.id] = outcome
    return result


def node_ids(
    sessions: RequestSessions,
    targets: Iterable[Target],
    under: str | DivisionCode | None = None,
) -> list[str]:
    """The ids of the nodes a fan-out over ``targets`` asks: the streams of its cursor."""
    return [node.id for node in nodes_for(sessions, targets, under)]
