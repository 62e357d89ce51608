"""Timing and statement counting. Reporting only: nothing here asserts a timing."""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
import orjson

from bench.runtime import LoopThread
from bench.scenarios import (
    LOGIN_QUERY,
    Preparation,
    Scenario,
    login_problem,
    login_variables,
)
from gateway.nodes import NodeRegistry, count_statements


class BenchError(RuntimeError):
    """The hub answered something other than a clean 200: the run stops."""


@dataclass(frozen=True)
class Load:
    warmup: int = 20
    requests: int = 300
    max_seconds: float = 10.0
    concurrency: int = 4

    def for_scenario(self, scenario: Scenario) -> Load:
        """This load, with a costly scenario's cap on the request count."""
        cap = scenario.max_requests
        if cap is None:
            return self
        warmup = min(self.warmup, max(self.concurrency, cap // 10))
        return replace(self, warmup=warmup, requests=min(self.requests, cap))


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


async def post_graphql(
    client: httpx.AsyncClient, name: str, body: bytes, headers: dict[str, str]
) -> dict[str, Any]:
    """POST one GraphQL body; its ``data``. Anything but 200 without errors raises."""
    response = await client.post("/graphql", content=body, headers=headers)
    if response.status_code != 200:
        raise BenchError(f"{name}: HTTP {response.status_code}: {response.text[:1000]}")
    payload = orjson.loads(response.content)
    if not isinstance(payload, dict) or payload.get("errors") or not payload.get("data"):
        raise BenchError(f"{name}: GraphQL errors: {response.text[:1000]}")
    data: dict[str, Any] = payload["data"]
    return data


def _headers(token: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return headers


class GraphQLCaller:
    """Posts one scenario's request over HTTP (its variants round-robin, with its bearer
    token if given); anything but 200 without errors raises.

    With ``prepared`` variants (from the scenario's ``prepare`` hook), each is sent
    once, in order, and every response must pass the scenario's check; running out
    raises."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        scenario: Scenario,
        token: str | None = None,
        prepared: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        self.client = client
        self.scenario = scenario
        self.each_once = prepared is not None
        variants = prepared if prepared is not None else scenario.variants or (scenario.variables,)
        bodies = [orjson.dumps({"query": scenario.query, "variables": v}) for v in variants]
        self._bodies: Iterator[bytes] = iter(bodies) if self.each_once else itertools.cycle(bodies)
        self.headers = _headers(token)

    async def __call__(self) -> dict[str, Any]:
        name = self.scenario.name
        body = next(self._bodies, None)
        if body is None:
            raise BenchError(f"{name}: every prepared variant has been used")
        data = await post_graphql(self.client, name, body, self.headers)
        if self.each_once:
            problem = self.scenario.check(data)
            if problem is not None:
                raise BenchError(f"{name}: {problem}")
        return data


class HubGraphQL:
    """``bench.scenarios.GraphQL`` over the hub's HTTP: what ``prepare`` hooks post
    with (one login per demo account, on first use)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}
        self._login = asyncio.Lock()

    async def _token(self, username: str) -> str:
        async with self._login:
            if username not in self._tokens:
                self._tokens[username] = await access_token(self.client, username)
            return self._tokens[username]

    async def __call__(
        self, query: str, variables: dict[str, Any], *, bearer: str | None = None
    ) -> dict[str, Any]:
        token = None if bearer is None else await self._token(bearer)
        body = orjson.dumps({"query": query, "variables": variables})
        return await post_graphql(self.client, "preparation", body, _headers(token))


async def access_token(client: httpx.AsyncClient, username: str) -> str:
    """Log a demo account in over HTTP (the ``login`` mutation); its access token."""
    body = orjson.dumps({"query": LOGIN_QUERY, "variables": login_variables(username)})
    data = await post_graphql(client, f"login as {username}", body, _headers(None))
    problem = login_problem(data)
    if problem is not None:
        raise BenchError(problem)
    token: str = data["login"]["accessToken"]
    return token


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

    @property
    def statements_total(self) -> int:
        return sum(self.statements.values())

    @property
    def ratio(self) -> float:
        return self.hub.p50_ms / self.baseline.p50_ms if self.baseline.p50_ms else math.nan


async def measure(
    backend: str,
    scenario: Scenario,
    client: httpx.AsyncClient,
    nodes: NodeRegistry,
    stores_loop: LoopThread,
    load: Load,
) -> Result:
    load = load.for_scenario(scenario)
    prepared = None
    if scenario.prepare is not None:
        # one variant per request: the first, the warm-up ones, the timed ones and the
        # one whose statements are counted
        needed = 1 + load.warmup + load.requests + 1
        preparation = Preparation(HubGraphQL(client), needed, load.concurrency)
        prepared = await scenario.prepare(preparation)
        if len(prepared) < needed:
            raise BenchError(f"{scenario.name}: {len(prepared)} variants prepared, {needed} needed")
    # a fresh token per scenario and backend: it cannot expire during the run
    token = None if scenario.bearer is None else await access_token(client, scenario.bearer)
    caller = GraphQLCaller(client, scenario, token, prepared)
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
        last = await caller()
    problem = scenario.check(last)
    if problem is not None:
        raise BenchError(f"{scenario.name}, after the measured run: {problem}")

    # the baseline runs on the loop that owns the engines, with the same call count
    async def baseline_call() -> bytes:
        return await scenario.baseline(nodes)

    # a first call untimed and uncounted (a baseline may look up, once, what it needs)
    await stores_loop.run_async(baseline_call())
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
    )
