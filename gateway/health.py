"""Liveness, readiness (every store answers) and Prometheus metrics (with the relay
backlog and the timers due of every node, counted at scrape time)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.breakers import BreakerState, NodeBreakers
from gateway.messaging.metrics import MessageMetrics
from gateway.metrics import Metrics
from gateway.nodes import NodeRegistry, Store
from levels.cases.models import CaseTimer
from levels.common.clock import Clock
from levels.outbox.models import MessageState, OutboxMessage

log = logging.getLogger("govhub.health")

Endpoint = Callable[[Request], Awaitable[Response]]


async def _ping(store: Store, timeout: float) -> bool:
    try:
        await asyncio.wait_for(_select_one(store), timeout)
        return True
    except Exception:
        # any failure to answer means "not ready"; the detail belongs in the log
        return False


async def live(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _node_state(store: Store, breakers: NodeBreakers, timeout: float) -> str:
    """Whether a level node is "up", "down", or has its "breaker open" (then it is not
    asked: its calls fail fast for now). The ping goes through the node's breaker like
    any other call."""
    if await breakers.state(store.name) is BreakerState.OPEN:
        return "breaker open"
    try:
        async with breakers.guard(store.name):
            await asyncio.wait_for(_select_one(store), timeout)
    except Exception:
        # any failure to answer means "down"; the detail belongs in the log
        return "down"
    return "up"


async def _select_one(store: Store) -> None:
    async with store.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def engine_state(transport: str, nats_url: str, timeout: float) -> dict[str, object]:
    """The message engine between the nodes (GOVHUB_MESSAGE_TRANSPORT): the in-process
    bus lives in this process; NATS must answer a connection."""
    if transport != "nats":
        return {"transport": transport, "up": True}
    import nats  # the client is imported only where NATS is the engine

    try:
        client = await asyncio.wait_for(
            nats.connect(nats_url, connect_timeout=timeout, allow_reconnect=False),
            timeout,
        )
    except Exception:
        # not answering is "not ready"; the detail belongs in the log
        log.warning("readiness: NATS at %s not answering", nats_url, exc_info=True)
        return {"transport": transport, "up": False}
    with contextlib.suppress(Exception):
        await client.close()
    return {"transport": transport, "up": True}


EngineCheck = Callable[[], Awaitable[dict[str, object]]]


async def _no_engine() -> dict[str, object]:
    return {}


def ready_endpoint(
    nodes: NodeRegistry, timeout: float, engine: EngineCheck | None = None
) -> Endpoint:
    async def ready(_request: Request) -> Response:
        levels = list(nodes)
        states, identity, messages = await asyncio.gather(
            asyncio.gather(*(_node_state(n, nodes.breakers, timeout) for n in levels)),
            _ping(nodes.identity, timeout),
            engine() if engine is not None else _no_engine(),
        )
        status = {n.name: state == "up" for n, state in zip(levels, states, strict=True)}
        status[nodes.identity.name] = identity
        ok = all(status.values()) and bool(messages.get("up", True))
        body = {
            "ready": ok,
            "stores": status,
            # each level node: up, down, or breaker open
            "nodes": {n.name: state for n, state in zip(levels, states, strict=True)},
            # the message engine between the nodes
            "messages": messages,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    return ready


# the outbox states counted per node: waiting (PENDING, SENT) and incidents (FAILED)
BACKLOG_STATES = (MessageState.PENDING, MessageState.SENT, MessageState.FAILED)


@dataclass(frozen=True)
class Counts:
    backlog: dict[MessageState, int]
    oldest_pending_seconds: float  # 0 when nothing waits
    timers_due: int


class StoreStats:
    """The relay backlog and the timers due of every level node, counted at scrape
    time with one statement per store, at most every ``ttl`` seconds, each store
    within the node timeout: a dead store makes its ``govhub_store_stats_up`` 0 (and
    its figures vanish), never a hanging /metrics."""

    def __init__(
        self, metrics: Metrics, nodes: NodeRegistry, clock: Clock, timeout: float, ttl: float = 5.0
    ) -> None:
        self.metrics = metrics
        self.nodes = nodes
        self.clock = clock
        self.timeout = timeout
        self.ttl = ttl
        self._at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._at is not None and now - self._at < self.ttl:
                return
            levels = list(self.nodes)
            counts = await asyncio.gather(*(self._count(n) for n in levels))
            for node, found in zip(levels, counts, strict=True):
                self._publish(node.name, found)
            self._at = time.monotonic()

    async def _count(self, store: Store) -> Counts | None:
        if await self.nodes.breakers.state(store.name) is BreakerState.OPEN:
            return None
        try:
            return await asyncio.wait_for(self._select_counts(store), self.timeout)
        except Exception as exc:
            # a store that cannot answer now: its figures are unknown, not zero
            log.warning("store %s did not answer the metrics count: %r", store.name, exc)
            return None

    async def _select_counts(self, store: Store) -> Counts:
        backlog = select(func.count()).select_from(OutboxMessage)
        waiting = OutboxMessage.state.in_([MessageState.PENDING, MessageState.SENT])
        statement = select(
            *(
                backlog.where(OutboxMessage.state == state).scalar_subquery()
                for state in BACKLOG_STATES
            ),
            select(func.min(OutboxMessage.created_at)).where(waiting).scalar_subquery(),
            select(func.count())
            .select_from(CaseTimer)
            .where(
                CaseTimer.fired_at.is_(None),
                CaseTimer.cancelled_at.is_(None),
                CaseTimer.due_at <= self.clock.now(),
            )
            .scalar_subquery(),
        )
        async with store.engine.connect() as conn:
            *states, oldest, due = (await conn.execute(statement)).one()
        age = max((self.clock.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
        return Counts(dict(zip(BACKLOG_STATES, map(int, states), strict=True)), age, int(due))

    def _publish(self, node: str, found: Counts | None) -> None:
        m = self.metrics
        m.store_stats_up.labels(node).set(0 if found is None else 1)
        if found is None:
            for gauge, labels in (
                *((m.relay_backlog, (node, state.value)) for state in BACKLOG_STATES),
                (m.oldest_pending, (node,)),
                (m.timers_due, (node,)),
            ):
                with contextlib.suppress(KeyError):
                    gauge.remove(*labels)
            return
        for state, count in found.backlog.items():
            m.relay_backlog.labels(node, state.value).set(count)
        m.oldest_pending.labels(node).set(found.oldest_pending_seconds)
        m.timers_due.labels(node).set(found.timers_due)


def metrics_endpoint(
    metrics: Metrics,
    nodes: NodeRegistry,
    clock: Clock,
    timeout: float,
    messages: MessageMetrics | None = None,
) -> Endpoint:
    stats = StoreStats(metrics, nodes, clock, timeout)

    async def scrape(_request: Request) -> Response:
        await stats.refresh()
        if messages is not None:
            await messages.refresh()
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return scrape
