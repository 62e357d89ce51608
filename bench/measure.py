"""Timing and statement counting. Reporting only: nothing here asserts a timing."""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.runtime import LoopThread
from bench.scenarios import Scenario
from gateway.nodes import NodeRegistry, count_statements


class BenchError(RuntimeError):
    """The hub answered something other than a clean 200: the run stops."""


@dataclass(frozen=True)
class Load:
    warmup: int = 20
    requests: int = 300
    max_seconds: float = 10.0
    concurrency: int = 4


@dataclass(frozen=True)
class Timing:
    latencies: list[float]  # seconds, one per measured call
    wall: float  # seconds for the measured phase

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile_ms(self, q: int) -> float:
        data = self.latencies
        if len(data) == 1:
            return data[0] * 1000
        return statistics.quantiles(data, n=100, method="inclusive")[q - 1] * 1000

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    @property
    def per_second(self) -> float:
        return self.requests / self.wall if self.wall > 0 else math.nan


async def drive(
    call: Callable[[], Awaitable[Any]],
    *,
    warmup: int,
    requests: int,
    max_seconds: float,
    concurrency: int,
) -> Timing:
    """``warmup`` untimed calls, then up to ``requests`` timed ones (or until
    ``max_seconds`` pass), ``concurrency`` at a time."""
    for start in range(0, warmup, concurrency):
        await asyncio.gather(*(call() for _ in range(min(concurrency, warmup - start))))
    latencies: list[float] = []
    issued = 0
    began = time.perf_counter()
    deadline = began + max_seconds

    async def worker() -> None:
        nonlocal issued
        while issued < requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if not latencies:
        raise BenchError("no call completed in the time allowed")
    return Timing(latencies, time.perf_counter() - began)


class GraphQLCaller:
    """Posts one scenario's request over HTTP; anything but 200 without errors raises."""

    def __init__(self, client: httpx.AsyncClient, scenario: Scenario) -> None:
        self.client = client
        self.scenario = scenario
        self.body = orjson.dumps({"query": scenario.query, "variables": scenario.variables})

    async def __call__(self) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", content=self.body, headers={"content-type": "application/json"}
        )
        name = self.scenario.name
        if response.status_code != 200:
            raise BenchError(f"{name}: HTTP {response.status_code}: {response.text[:1000]}")
        payload = orjson.loads(response.content)
        if not isinstance(payload, dict) or payload.get("errors") or not payload.get("data"):
            raise BenchError(f"{name}: GraphQL errors: {response.text[:1000]}")
        data: dict[str, Any] = payload["data"]
        return data


def _edge_count(data: dict[str, Any]) -> int | None:
    """How many edges the (first) top-level connection returned, if it is one."""
    top = next(iter(data.values()), None)
    edges = top.get("edges") if isinstance(top, dict) else None
    return len(edges) if isinstance(edges, list) else None


@dataclass(frozen=True)
class Result:
    backend: str
    scenario: Scenario
    hub: Timing
    statements: dict[str, int]
    baseline: Timing
    baseline_statements: dict[str, int]
    response_bytes: int
    baseline_bytes: int
    edges: int | None
    # the same raw SQL + JSON served over the same HTTP stack (uvicorn, Starlette)
    raw_http: Timing | None = None

    @property
    def statements_total(self) -> int:
        return sum(self.statements.values())

    @property
    def ratio(self) -> float:
        return self.hub.p50_ms / self.baseline.p50_ms if self.baseline.p50_ms else math.nan

    @property
    def http_ratio(self) -> float:
        if self.raw_http is None or not self.raw_http.p50_ms:
            return math.nan
        return self.hub.p50_ms / self.raw_http.p50_ms


async def measure(
    backend: str,
    scenario: Scenario,
    client: httpx.AsyncClient,
    nodes: NodeRegistry,
    stores_loop: LoopThread,
    load: Load,
) -> Result:
    caller = GraphQLCaller(client, scenario)
    first = await caller()
    problem = scenario.check(first)
    if problem is not None:
        raise BenchError(f"{scenario.name}: {problem}")
    response_bytes = len(orjson.dumps(first))
    edges = _edge_count(first)
    hub = await drive(
        caller,
        warmup=load.warmup,
        requests=load.requests,
        max_seconds=load.max_seconds,
        concurrency=load.concurrency,
    )
    with count_statements(nodes) as statements:
        await caller()

    # the baseline runs on the loop that owns the engines, with the same call count
    async def baseline_call() -> bytes:
        return await scenario.baseline(nodes)

    with count_statements(nodes) as baseline_statements:
        baseline_bytes = len(await stores_loop.run_async(baseline_call()))

    def as_many_as_the_hub(call: Callable[[], Awaitable[Any]]) -> Coroutine[Any, Any, Timing]:
        """Time a baseline with the hub's request count and concurrency."""
        return drive(
            call,
            warmup=load.warmup,
            requests=hub.requests,
            max_seconds=math.inf,
            concurrency=load.concurrency,
        )

    baseline = await stores_loop.run_async(as_many_as_the_hub(baseline_call))

    async def raw_http_call() -> bytes:
        response = await client.get(f"{RAW_PREFIX}/{SCENARIO_INDEX[scenario.name]}")
        response.raise_for_status()
        return response.content

    raw_http = await as_many_as_the_hub(raw_http_call)
    return Result(
        backend,
        scenario,
        hub,
        dict(statements),
        baseline,
        dict(baseline_statements),
        response_bytes,
        baseline_bytes,
        edges,
        raw_http,
    )


RAW_PREFIX = "/bench/raw"
SCENARIO_INDEX: dict[str, int] = {}


def raw_routes(nodes: NodeRegistry, scenarios: list[Scenario]) -> list[Route]:
    """Endpoints serving each scenario's baseline (raw SQL + orjson) from the same
    uvicorn and Starlette as the hub, so the ratio isolates what the hub adds."""
    SCENARIO_INDEX.update({s.name: i for i, s in enumerate(scenarios)})

    async def endpoint(request: Request) -> Response:
        scenario = scenarios[int(request.path_params["index"])]
        return Response(await scenario.baseline(nodes), media_type="application/json")

    return [Route(RAW_PREFIX + "/{index:int}", endpoint)]
