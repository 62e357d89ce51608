"""The in-process node hop (``GOVHUB_NODE_CALLS``): what reaching the embedded
default's nodes through their API over an ASGI transport costs against reading their
stores by SQL, in one process.

The demo city is loaded into the embedded default's SQLite stores (under
``bench/out/node-calls``); two hubs are made over them, ``sql`` and ``api``, each driven
in-process (httpx's ``ASGITransport``, no sockets, no server), and each query is sent to
the two in turns, one request at a time: rounds of ``--requests`` requests, the order
of the two swapped every round. Per request: the CPU time of the process
(``time.process_time``, what the hop itself costs, whatever else the machine does) and
the wall time, whose p50 is given with the 1-minute load average. The queries: a
division by code (anonymous), 榆次区's auditor's ``cases(first: 20)`` and their
``case(number:)`` of the first case of that list (an audited staff read: it writes a
READ event). Node calls per request are counted on each hub's clients.

``python -m bench.node_calls [--requests 200] [--rounds 5]``"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.backends import OUT, SQLiteBackend, open_stores
from bench.measure import access_token
from bench.scenarios import COUNTY, DIVISION_QUERY
from bench.topology import AUDITOR, CASE_QUERY, CASES_QUERY
from gateway.app import create_app
from gateway.nodes import NodeRegistry
from gateway.settings import Settings

MODES = ("sql", "api")
GOAL = 0.20  # api's p50 at most 20 % over sql's


@dataclass
class Line:
    """One query on one hub: per request, CPU and wall seconds; node calls made."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    calls: int = 0

    def cpu_ms(self) -> float:
        return 1000 * statistics.fmean(self.cpu)

    def p50_ms(self) -> float:
        return 1000 * statistics.median(self.wall)


@dataclass
class Hub:
    mode: str
    http: httpx.AsyncClient
    nodes: NodeRegistry
    calls: list[int]


def _count(nodes: NodeRegistry, calls: list[int]) -> None:
    for node in nodes:
        client = node.client
        if client is None:
            continue
        execute = client.execute

        async def counted(document: str, variables: Any = None, _execute: Any = execute) -> Any:
            calls[0] += 1
            return await _execute(document, variables)

        client.execute = counted  # type: ignore[method-assign]


@asynccontextmanager
async def _hub(settings: Settings, mode: str) -> AsyncIterator[Hub]:
    own = settings.model_copy(update={"node_calls": mode})
    nodes = NodeRegistry.from_settings(own)
    calls = [0]
    _count(nodes, calls)
    app = create_app(own, nodes=nodes)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as http:
            yield Hub(mode, http, nodes, calls)
    finally:
        await app.state.broker.close()
        await app.state.identity.close()
        await nodes.dispose()


async def _post(hub: Hub, body: bytes, token: str | None) -> Any:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await hub.http.post("/graphql", content=body, headers=headers)
    answer = orjson.loads(response.content)
    if response.status_code != 200 or answer.get("errors"):
        raise RuntimeError(f"{hub.mode}: {response.status_code} {answer}")
    return answer["data"]


async def _measure(settings: Settings, requests: int, rounds: int) -> dict[tuple[str, str], Line]:
    lines: dict[tuple[str, str], Line] = {}
    async with _hub(settings, "sql") as sql, _hub(settings, "api") as api:
        hubs = (sql, api)
        tokens = {hub.mode: await access_token(hub.http, AUDITOR) for hub in hubs}
        cases = await _post(
            sql, orjson.dumps({"query": CASES_QUERY, "variables": {}}), tokens["sql"]
        )
        number = cases["cases"]["edges"][0]["node"]["number"]
        queries = {
            "division by code": (DIVISION_QUERY, {"code": COUNTY}, False),
            f"cases(first: 20) ({AUDITOR})": (CASES_QUERY, {"first": 20}, True),
            f"case(number:) ({AUDITOR}, audited)": (CASE_QUERY, {"number": number}, True),
        }
        for name, (query, variables, staff) in queries.items():
            body = orjson.dumps({"query": query, "variables": variables})
            answers = {}
            for hub in hubs:  # a warm-up, and the two answers compared
                for _ in range(20):
                    answers[hub.mode] = await _post(hub, body, tokens[hub.mode] if staff else None)
            if answers["sql"] != answers["api"]:
                raise RuntimeError(f"{name}: the api hub answers otherwise than the sql hub")
            for n in range(rounds):
                for hub in hubs if n % 2 == 0 else hubs[::-1]:
                    line = lines.setdefault((name, hub.mode), Line())
                    token = tokens[hub.mode] if staff else None
                    before = hub.calls[0]
                    for _ in range(requests):
                        cpu, wall = time.process_time(), time.perf_counter()
                        await _post(hub, body, token)
                        line.wall.append(time.perf_counter() - wall)
                        line.cpu.append(time.process_time() - cpu)
                    line.calls += hub.calls[0] - before
    return lines


def report(lines: dict[tuple[str, str], Line], requests: int, rounds: int, load: float) -> str:
    out = [
        f"In-process node hop, SQLite, {rounds} rounds of {requests} requests per hub, "
        f"one at a time; load average {load:.1f}",
        "",
        "| query | sql p50 | api p50 | p50 + | sql CPU/req | api CPU/req | CPU + | "
        "node calls/req (api) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = dict.fromkeys(name for name, _ in lines)
    for name in names:
        sql, api = lines[(name, "sql")], lines[(name, "api")]
        p50 = api.p50_ms() / sql.p50_ms() - 1
        cpu = api.cpu_ms() / sql.cpu_ms() - 1
        out.append(
            f"| {name} | {sql.p50_ms():.2f} ms | {api.p50_ms():.2f} ms | {p50:+.0%} | "
            f"{sql.cpu_ms():.2f} ms | {api.cpu_ms():.2f} ms | {cpu:+.0%} | "
            f"{api.calls / len(api.wall):.1f} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    backend = SQLiteBackend(folder=OUT / "node-calls")
    settings = asyncio.run(backend.settings())
    settings = settings.model_copy(update={"timer_interval_seconds": 0})
    nodes, loaded = asyncio.run(open_stores(settings))
    asyncio.run(nodes.dispose())
    print(f"embedded map: {loaded}")
    load = os.getloadavg()[0]
    lines = asyncio.run(_measure(settings, args.requests, args.rounds))
    load = (load + os.getloadavg()[0]) / 2
    print(report(lines, args.requests, args.rounds, load))


if __name__ == "__main__":
    main()
