"""The raw baseline: a minimal Starlette app, served in a process of its own by the same
uvicorn setup as the hub (``bench.serve``), that answers each scenario of the speed
table with the same rows fetched by SQLAlchemy Core on the stores' engines and
serialised with orjson. No GraphQL, no middleware, no authentication, no loaders.

The stores come from the same ``GOVHUB_*`` environment as the hub's (``Settings()``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.speed_cases import READS
from bench.writes import accept_raw
from gateway.nodes import NodeRegistry
from gateway.settings import Settings

JSON = "application/json"


def create_app() -> Starlette:
    nodes: list[NodeRegistry] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nodes.append(NodeRegistry.from_settings(Settings()))
        try:
            yield
        finally:
            await nodes[0].dispose()

    async def read(request: Request) -> Response:
        baseline = READS.get(request.path_params["key"])
        if baseline is None:
            return PlainTextResponse("no such scenario", status_code=404)
        return Response(await baseline(nodes[0]), media_type=JSON)

    async def accept(request: Request) -> Response:
        number = orjson.loads(await request.body())["number"]
        return Response(await accept_raw(nodes[0], number), media_type=JSON)

    async def live(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/raw/accept", accept, methods=["POST"]),
            Route("/raw/{key}", read),
            Route("/health/live", live),
        ],
        lifespan=lifespan,
    )
