"""Liveness, readiness (every store answers) and Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.breakers import BreakerState, NodeBreakers
from gateway.nodes import NodeRegistry, Store

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


def ready_endpoint(nodes: NodeRegistry, timeout: float) -> Endpoint:
    async def ready(_request: Request) -> Response:
        levels = list(nodes)
        states, identity = await asyncio.gather(
            asyncio.gather(*(_node_state(n, nodes.breakers, timeout) for n in levels)),
            _ping(nodes.identity, timeout),
        )
        status = {n.name: state == "up" for n, state in zip(levels, states, strict=True)}
        status[nodes.identity.name] = identity
        ok = all(status.values())
        body = {
            "ready": ok,
            "stores": status,
            # each level node: up, down, or breaker open
            "nodes": {n.name: state for n, state in zip(levels, states, strict=True)},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    return ready


def metrics_endpoint(registry: CollectorRegistry) -> Endpoint:
    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
