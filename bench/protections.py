"""What the gateway's protections cost: the village station's ``serviceRoutes`` (first:
50, anonymous) sent to the same stores three ways, one after the other with the same
load:

* **off**: the bare GraphQL view (the same schema and context, prod mode) on its own
  Starlette app: no limits extensions, no body-size or rate-limit middleware, no
  persisted-query lookup; the cache of parsed and validated documents, as in the hub;
* **on, plain**: the hub as served (``create_app``): body size, rate limits per address
  and per client, depth/aliases/root fields/cost measured on the document, the cost
  budget charged, with the bench's limits high enough that nothing is refused;
* **on, persisted**: the same, the document sent as its APQ hash only (registered once,
  untimed), so the hub looks the document up before parsing it.

Every answer must carry the routes and no error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import orjson
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route

from auth.backend import TokenBackend, on_auth_error
from bench.measure import BenchError, Load, Timing, drive
from bench.report import grid
from bench.runtime import LoopThread, Served
from bench.scenarios import ROUTES_QUERY, VILLAGE
from gateway.app import hub_schema
from gateway.documents import DocumentCache, Documents
from gateway.graphql import GovHubGraphQL
from gateway.health import live
from gateway.persisted import sha256_of

VARIABLES = {"divisionCode": VILLAGE, "first": 50}
HEADERS = {"content-type": "application/json", "accept": "application/json"}


@dataclass(frozen=True)
class ProtectionCost:
    backend: str
    off: Timing
    plain: Timing
    persisted: Timing


def bare_app(app: Starlette) -> Starlette:
    """The GraphQL view of ``app`` without any of the protections. The cache of parsed
    and validated documents stays, as in the hub (it is no protection): without it
    every request would parse and validate its document, and the view would be slower
    than the hub by that work (about 3 ms of CPU per "my cases")."""
    state = app.state
    documents = Documents()
    view = GovHubGraphQL(
        hub_schema(prod=not state.settings.is_dev, limits=[lambda: DocumentCache(documents)]),
        settings=state.settings,
        nodes=state.nodes,
        clock=state.clock,
        identity=state.identity,
        broker=state.broker,
        licensing=state.licensing,
    )
    authenticated = AuthenticationMiddleware(
        view, backend=TokenBackend(state.identity), on_error=on_auth_error
    )
    return Starlette(
        routes=[
            Route("/graphql", authenticated, methods=["GET", "POST"]),
            Route("/health/live", live),
        ]
    )


async def _time(base_url: str, body: bytes, load: Load) -> Timing:
    limits = httpx.Limits(
        max_connections=load.concurrency, max_keepalive_connections=load.concurrency
    )
    async with httpx.AsyncClient(
        base_url=base_url, trust_env=False, timeout=30.0, limits=limits
    ) as client:

        async def call() -> None:
            response = await client.post("/graphql", content=body, headers=HEADERS)
            data = response.json()
            if response.status_code != 200 or "errors" in data:
                raise BenchError(f"protections: {response.status_code} {response.text[:500]}")
            if not data["data"]["serviceRoutes"]["edges"]:
                raise BenchError("protections: no routes")

        return await drive(
            call,
            warmup=load.warmup,
            requests=load.requests,
            max_seconds=load.max_seconds,
            concurrency=load.concurrency,
        )


async def measure_protections(
    backend: str, served: Served, app: Starlette, stores: LoopThread, load: Load
) -> ProtectionCost:
    plain = orjson.dumps({"query": ROUTES_QUERY, "variables": VARIABLES})
    digest = sha256_of(ROUTES_QUERY)
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    register = orjson.dumps(
        {"query": ROUTES_QUERY, "variables": VARIABLES, "extensions": extensions}
    )
    by_hash = orjson.dumps({"variables": VARIABLES, "extensions": extensions})
    bare = Served(stores, bare_app(app))
    try:
        off = await _time(bare.base_url, plain, load)
    finally:
        bare.stop()
    on_plain = await _time(served.base_url, plain, load)
    async with httpx.AsyncClient(base_url=served.base_url, trust_env=False) as client:
        await client.post("/graphql", content=register, headers=HEADERS)
    on_persisted = await _time(served.base_url, by_hash, load)
    return ProtectionCost(backend, off, on_plain, on_persisted)


def section(costs: Sequence[ProtectionCost]) -> str:
    if not costs:
        return "Protections: not measured."
    rows = []
    for c in costs:
        for name, timing in (
            ("off", c.off),
            ("on, plain", c.plain),
            ("on, persisted (APQ hash)", c.persisted),
        ):
            rows.append(
                (
                    c.backend,
                    name,
                    str(timing.requests),
                    f"{timing.p50_ms:.2f}",
                    f"{timing.p99_ms:.2f}",
                    f"{timing.per_second:.1f}",
                )
            )
    intro = (
        "Protections: the village station's `serviceRoutes` (first: 50, anonymous) on the "
        "bare GraphQL view (off), on the hub with its limits, rate limits and cost budget "
        "(on, plain), and sent as its APQ hash (on, persisted)."
    )
    table = grid(
        ("backend", "protections", "requests", "p50 ms", "p99 ms", "requests/s"),
        rows,
        left={0, 1},
    )
    return f"{intro}\n\n{table}"
