"""Calls to several level nodes at once: in parallel, each with its own timeout, and a
node that fails or times out yields a NODE_UNAVAILABLE note instead of failing the
whole request (DESIGN §2)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from gateway.nodes import LevelNode, NodeRegistry
from levels.common.enums import Level

T = TypeVar("T")
log = logging.getLogger("govhub.fanout")

# failures that mean "this node is not answering", as opposed to a bug
UNAVAILABLE = (OperationalError, InterfaceError, DBAPIError, OSError, TimeoutError)


class NodeUnavailable(Exception):
    def __init__(self, level: Level, cause: BaseException) -> None:
        self.level = level
        self.cause = cause
        super().__init__(f"{level.value} node unavailable: {type(cause).__name__}")


@dataclass
class FanOutResult(Generic[T]):
    values: dict[Level, T] = field(default_factory=dict)
    unavailable: list[NodeUnavailable] = field(default_factory=list)


async def call_node(node: LevelNode, fn: Callable[[LevelNode], Awaitable[T]], timeout: float) -> T:
    """Run ``fn`` against one node; raise ``NodeUnavailable`` when it cannot answer."""
    try:
        return await asyncio.wait_for(fn(node), timeout)
    except UNAVAILABLE as exc:
        log.warning("node %s unavailable: %r", node.level.value, exc)
        raise NodeUnavailable(node.level, exc) from exc


async def fan_out(
    nodes: NodeRegistry,
    levels: Iterable[Level],
    fn: Callable[[LevelNode], Awaitable[T]],
    *,
    timeout: float,
) -> FanOutResult[T]:
    """Run ``fn`` on each level's node in parallel. Latency ≈ the slowest node."""
    chosen = list(dict.fromkeys(levels))
    outcomes = await asyncio.gather(
        *(call_node(nodes[lv], fn, timeout) for lv in chosen), return_exceptions=True
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
