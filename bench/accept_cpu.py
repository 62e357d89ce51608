"""acceptCase's CPU per request, in-process: ``python -m bench.accept_cpu``.

The hub's app (``create_app``, production settings) called through httpx's ASGI
transport on PostgreSQL + Redis (fresh databases, the demo city, the timer worker
off), against the raw writes of ``bench.writes`` in the same process: each round the
hub accepts one SUBMITTED case, the full raw write (``accept_full_raw``) another and
the minimal raw write (``accept_raw``) a case the hub accepted before. Each is timed
with ``time.process_time()`` (and wall time); medians over ``--rounds`` after
``--warmup`` rounds, then cProfile over ``--profiled`` more hub requests for the
Python calls per request and the top functions by own time. ``--sql`` prints the SQL
statements of one hub accept and one full raw accept.

Report only: nothing here asserts a time."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from sqlalchemy import event

from bench.backends import PostgresBackend, open_stores
from bench.measure import HubGraphQL, access_token, post_graphql
from bench.paired import load_average
from bench.scenarios import ACCEPT_QUERY, RECEPTIONIST, Preparation, prepare_accept
from bench.writes import RawKeys, accept_full_raw, accept_raw, raw_actor
from gateway.app import create_app
from gateway.nodes import NodeRegistry
from levels.common.enums import Level


def _headers(token: str) -> dict[str, str]:
    return {"content-type": "application/json", "authorization": f"Bearer {token}"}


async def _cpu(call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    await call()
    return time.process_time() - cpu, time.perf_counter() - wall


def _statements(nodes: NodeRegistry) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []
    engine = nodes[Level.COUNTY].engine.sync_engine

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listener)


async def run(rounds: int, warmup: int, profiled: int, sql: bool, top: int) -> None:
    backend = PostgresBackend()
    settings = await backend.settings()
    try:
        nodes, loaded = await open_stores(settings)
        print(f"stores: {loaded}")
        app = create_app(settings, nodes=nodes)
        transport = httpx.ASGITransport(app=app, client=("10.9.0.1", 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                await _measure(
                    client,
                    nodes,
                    RawKeys(settings.identity_secret()),
                    rounds,
                    warmup,
                    profiled,
                    sql,
                    top,
                )
        finally:
            await app.state.broker.close()
            await app.state.identity.close()
            await nodes.dispose()
    finally:
        await backend.cleanup()


async def _measure(
    client: httpx.AsyncClient,
    nodes: NodeRegistry,
    keys: RawKeys,
    rounds: int,
    warmup: int,
    profiled: int,
    sql: bool,
    top: int,
) -> None:
    total = warmup + rounds + profiled + 2
    prep = Preparation(HubGraphQL(client), 2 * total, 4)
    numbers = [v["number"] for v in await prepare_accept(prep)]
    hub_cases, raw_cases = iter(numbers[:total]), iter(numbers[total:])
    accepted: list[str] = []
    headers = _headers(await access_token(client, RECEPTIONIST))

    async def hub() -> None:
        number = next(hub_cases)
        body = orjson.dumps({"query": ACCEPT_QUERY, "variables": {"number": number}})
        data = await post_graphql(client, "acceptCase", body, headers)
        if data["acceptCase"]["errors"] or data["acceptCase"]["case"]["status"] != "ACCEPTED":
            raise RuntimeError(f"acceptCase: {data}")
        accepted.append(number)

    actor = await raw_actor(nodes, RECEPTIONIST)

    async def full() -> None:
        await accept_full_raw(nodes, next(raw_cases), actor, keys)

    async def minimal() -> None:
        await accept_raw(nodes, accepted[len(accepted) // 2])

    if sql:
        for name, call in (("hub", hub), ("full raw", full)):
            seen, stop = _statements(nodes)
            await call()
            stop()
            print(f"{name}: {len(seen)} statements on the county store")
            for line in seen:
                print(f"  {line}")
    samples: dict[str, list[tuple[float, float]]] = {"hub": [], "full": [], "minimal": []}
    load = [load_average()]
    for i in range(warmup + rounds):
        for name, call in (("hub", hub), ("full", full), ("minimal", minimal)):
            spent = await _cpu(call)
            if i >= warmup:
                samples[name].append(spent)
    load.append(load_average())
    cpu = {k: statistics.median(s[0] for s in v) * 1000 for k, v in samples.items()}
    wall = {k: statistics.median(s[1] for s in v) * 1000 for k, v in samples.items()}
    print(f"load average {load[0]:.1f} → {load[1]:.1f}; medians of {rounds} rounds")
    for k in samples:
        print(f"  {k:8} CPU {cpu[k]:6.2f} ms   wall {wall[k]:6.2f} ms")
    print(
        f"  hub ÷ full raw: CPU {cpu['hub'] / cpu['full']:.2f}, "
        f"wall {wall['hub'] / wall['full']:.2f}"
        f"; hub ÷ minimal raw: CPU {cpu['hub'] / cpu['minimal']:.2f}, "
        f"wall {wall['hub'] / wall['minimal']:.2f}"
    )
    if profiled:
        profile = cProfile.Profile()
        for _ in range(profiled):
            profile.enable()
            await hub()
            profile.disable()
        stats = pstats.Stats(profile, stream=(out := io.StringIO()))
        calls = stats.total_calls  # type: ignore[attr-defined]
        print(f"hub: {calls / profiled:,.0f} Python calls per request (cProfile, {profiled})")
        print("own time by package, ms (calls) per request:", _by_package(stats, profiled))
        stats.sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
            os.environ.get("BENCH_FILTER", ""), top
        )
        print(out.getvalue())


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        parts = filename.split("site-packages/")[1].split("/")
        # SQLAlchemy by its layer: orm, sql (statements), engine, dialects …
        return "/".join(parts[:2] if parts[0] == "sqlalchemy" else parts[:1]).removesuffix(".py")
    for part in ("levels", "resolvers", "gateway", "schema", "auth", "bench"):
        if f"/{part}/" in filename:
            return part
    return "python" if filename.startswith("/") else filename.split(":")[0] or "builtins"


def _by_package(stats: pstats.Stats, requests: int) -> str:
    """Own time per request by where the function is (the waits for I/O on their own)."""
    spent: dict[str, float] = {}
    calls: dict[str, int] = {}
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        key = "waiting (epoll)" if "poll" in name else _package(filename)
        spent[key] = spent.get(key, 0.0) + row[2]
        calls[key] = calls.get(key, 0) + row[1]
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])
    return ", ".join(
        f"{k} {v / requests * 1000:.2f} ({calls[k] // requests})" for k, v in ranked[:16]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.accept_cpu", description=__doc__)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profiled", type=int, default=20)
    parser.add_argument("--top", type=int, default=0, help="functions listed by own time")
    parser.add_argument("--sql", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.warmup, args.profiled, args.sql, args.top))


if __name__ == "__main__":
    main()
