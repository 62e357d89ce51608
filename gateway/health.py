"""Liveness, readiness (every store answers) and Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.nodes import NodeRegistry, Store

Endpoint = Callable[[Request], Awaitable[Response]]


async def _ping(store: Store, timeout: float) -> bool:
    async def ping() -> None:
        async with store.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), timeout)
        return True
    except Exception:
        # any failure to answer means "not ready"; the detail belongs in the log
        return False


async def live(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def ready_endpoint(nodes: NodeRegistry, timeout: float) -> Endpoint:
    async def ready(_request: Request) -> Response:
        stores = nodes.stores()
        results = await asyncio.gather(*(_ping(s, timeout) for s in stores))
        status = {s.name: ok for s, ok in zip(stores, results, strict=True)}
        ok = all(results)
        return JSONResponse({"ready": ok, "stores": status}, status_code=200 if ok else 503)

    return ready


def metrics_endpoint(registry: CollectorRegistry) -> Endpoint:
    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
