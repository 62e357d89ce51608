"""CPU per request in-process: the hub's app called as uvicorn calls it (one ASGI call
per request, production settings, PostgreSQL + Redis, the demo city in fresh databases),
against the raw baseline's app (``bench.raw``) called the same way, for the reads of the
speed table whose goal is the gateway's fixed cost: a division by code, a matters page,
the resident's "my cases" and the auditor's ``cases(first: 20)``.

``python -m bench.fixed_cost [--requests N] [--profile K]`` prints, per read, the median
``time.process_time()`` of a hub request and of a raw one (alternated, after a warm-up),
their ratio, and the calls per hub request from cProfile; ``--profile K`` also prints
the K costliest functions by own time over those requests. The databases are
``<GOVHUB_BENCH_PG_PREFIX>_<store>``, created and dropped here; Redis is
``GOVHUB_BENCH_REDIS``. Wall-clock figures move with the machine's load: read the CPU
ratios and the calls."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.types import ASGIApp, Message

from bench.backends import PostgresBackend, open_stores
from bench.scenarios import LOGIN_QUERY, login_variables
from bench.speed import settings_env
from bench.speed_cases import SPEED_CASES, SpeedCase
from gateway.settings import Settings

READ_KEYS = ("division", "matters", "my-cases", "auditor-cases")


def _scope(method: str, path: str, body: bytes, bearer: str | None) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"bench"),
        (b"accept", b"application/json"),
    ]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    if bearer:
        headers.append((b"authorization", f"Bearer {bearer}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def call(
    app: ASGIApp, method: str, path: str, body: bytes = b"", bearer: str | None = None
) -> tuple[int, bytes]:
    """One request through ``app`` as uvicorn hands it over; the status and body."""
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(method, path, body, bearer), receive, send)
    return status, b"".join(chunks)


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[Any]:
    async with app.router.lifespan_context(app):
        yield app


def _checked(case: SpeedCase, status: int, body: bytes) -> None:
    payload = orjson.loads(body)
    if status != 200 or "errors" in payload:
        raise SystemExit(f"{case.key}: HTTP {status}: {body[:500]!r}")


async def _token(hub: ASGIApp, username: str) -> str:
    body = orjson.dumps({"query": LOGIN_QUERY, "variables": login_variables(username)})
    _status, answer = await call(hub, "POST", "/graphql", body)
    token: str = orjson.loads(answer)["data"]["login"]["accessToken"]
    return token


async def measure(
    hub: ASGIApp,
    raw: ASGIApp,
    requests: int,
    profile: int,
    keys: Sequence[str],
    dump: str | None = None,
) -> list[str]:
    cases = {c.key: c for c in SPEED_CASES}
    lines = [
        "| read | hub CPU µs | raw CPU µs | hub ÷ raw | calls per hub request"
        " | wall p50 µs: hub / raw (÷) |"
    ]
    lines.append("|---|--:|--:|--:|--:|--:|")
    tokens: dict[str, str] = {}
    for key in keys:
        case = cases[key]
        if case.bearer and case.bearer not in tokens:
            tokens[case.bearer] = await _token(hub, case.bearer)
        bearer = tokens.get(case.bearer) if case.bearer else None
        body = orjson.dumps({"query": case.query, "variables": case.variables})

        async def one_hub(
            body: bytes = body, bearer: str | None = bearer, case: SpeedCase = case
        ) -> None:
            status, answer = await call(hub, "POST", "/graphql", body, bearer)
            _checked(case, status, answer)

        async def one_raw(key: str = key) -> None:
            status, _answer = await call(raw, "GET", f"/raw/{key}")
            if status != 200:
                raise SystemExit(f"raw {key}: HTTP {status}")

        (hub_times, raw_times), (hub_wall, raw_wall) = await _pairs(one_hub, one_raw, requests)
        calls, top = await _profiled(one_hub, max(20, requests // 10), profile, dump, key)
        hub_us, raw_us = statistics.median(hub_times), statistics.median(raw_times)
        walls = statistics.median(hub_wall), statistics.median(raw_wall)
        lines.append(
            f"| {key} | {hub_us:.0f} | {raw_us:.0f} | {hub_us / raw_us:.2f} | {calls:,.0f}"
            f" | {walls[0]:.0f} / {walls[1]:.0f} ({walls[0] / walls[1]:.2f}) |"
        )
        if top:
            lines.append(top)
    return lines


Times = tuple[list[float], list[float]]


async def _pairs(
    hub: Callable[[], Any], raw: Callable[[], Any], requests: int
) -> tuple[Times, Times]:
    """CPU and wall-clock µs of each side's requests, one of each in turn."""
    for _ in range(max(10, requests // 10)):
        await hub()
        await raw()
    cpu: Times = ([], [])
    wall: Times = ([], [])
    for _ in range(requests):
        for i, side in enumerate((hub, raw)):
            started, at = time.process_time(), time.perf_counter()
            await side()
            cpu[i].append((time.process_time() - started) * 1e6)
            wall[i].append((time.perf_counter() - at) * 1e6)
    return cpu, wall


async def _profiled(
    hub: Callable[[], Any], requests: int, top: int, dump: str | None, key: str
) -> tuple[float, str]:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(requests):
        await hub()
    profiler.disable()
    stats = pstats.Stats(profiler)
    if dump:
        stats.dump_stats(os.path.join(dump, f"{key}.prof"))
    calls = stats.total_calls / requests  # type: ignore[attr-defined]
    if not top:
        return calls, ""
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    return calls, out.getvalue()


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fixed_cost")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--only", default=",".join(READ_KEYS))
    parser.add_argument("--dump", help="a folder for each read's cProfile stats (.prof)")
    args = parser.parse_args(argv)
    backend = PostgresBackend()
    problem = await backend.unavailable()
    if problem:
        raise SystemExit(problem)
    try:
        settings = await backend.settings()
        nodes, summary = await open_stores(settings)
        await nodes.dispose()
        print(summary)
        # both apps read the stores from the environment, as served (Settings())
        os.environ.update(settings_env(settings))
        from bench.raw import create_app as raw_app
        from gateway.app import create_app
        from gateway.observability import configure_logging

        configured = Settings()
        configure_logging(configured)
        async with served(create_app(configured)) as hub, served(raw_app()) as raw:
            lines = await measure(
                hub, raw, args.requests, args.profile, args.only.split(","), args.dump
            )
        print(f"load average {os.getloadavg()[0]:.2f}")
        print("\n".join(lines))
    finally:
        await backend.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
