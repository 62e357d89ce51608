"""The raw baseline: a minimal Starlette app, served in a process of its own by the same
uvicorn setup as the hub (``bench.serve``), that answers each scenario of the speed
table with the same rows fetched by SQLAlchemy Core on the stores' engines and
serialised with orjson. No GraphQL, no middleware, no authentication, no loaders.

acceptCase has two: ``/raw/accept`` writes the rows the hub's step writes (the case,
its timers, the acceptance notice, the audit event: ``bench.writes.accept_full_raw``) on
a SUBMITTED case of its own, the like-for-like baseline; ``/raw/accept-minimal`` only
the case row and its audit event (``accept_raw``), on a case the hub accepted, printed
beside it for comparison with earlier runs.

The stores come from the same ``GOVHUB_*`` environment as the hub's (``Settings()``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.scenarios import RECEPTIONIST
from bench.speed_cases import READS
from bench.writes import RawActor, RawKeys, accept_full_raw, accept_raw, raw_actor
from gateway.nodes import NodeRegistry
from gateway.settings import Settings

JSON = "application/json"


def create_app() -> Starlette:
    nodes: list[NodeRegistry] = []
    # who accepts (the receptionist the hub's requests sign in as) and the org keys
    actors: list[RawActor] = []
    keys: list[RawKeys] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        settings = Settings()
        nodes.append(NodeRegistry.from_settings(settings))
        keys.append(RawKeys(settings.identity_secret()))
        actors.append(await raw_actor(nodes[0], RECEPTIONIST))
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
        """The rows the hub's acceptCase writes (``accept_full_raw``), on a SUBMITTED case."""
        number = orjson.loads(await request.body())["number"]
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        answer = await accept_full_raw(nodes[0], number, actors[0], keys[0], request_id=request_id)
        return Response(answer, media_type=JSON)

    async def accept_minimal(request: Request) -> Response:
        """The case row and its audit event only (``accept_raw``), on an accepted case."""
        number = orjson.loads(await request.body())["number"]
        return Response(await accept_raw(nodes[0], number), media_type=JSON)

    async def live(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/raw/accept", accept, methods=["POST"]),
            Route("/raw/accept-minimal", accept_minimal, methods=["POST"]),
            Route("/raw/{key}", read),
            Route("/health/live", live),
        ],
        lifespan=lifespan,
    )
