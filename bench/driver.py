"""The load driver: a closed loop of ``concurrency`` clients, each on its own keep-alive
HTTP/1.1 connection, sending its next request as soon as the last one is answered, for
a fixed time (or request count) after a short untimed warm-up.

It runs in a process of its own (``Driver``: one spawned worker process kept for the
whole run), never in the process of the server it measures, so the two never share a
GIL. Its HTTP client is a few lines over asyncio streams (no httpx): what it costs per
request is small next to any server's, so at 50 clients the numbers are the server's.

An answer is a failure unless it is HTTP 200 and, for GraphQL, a JSON object without a
top-level ``errors`` member (a partial answer with NODE_UNAVAILABLE included). Only
this module's standard-library and orjson imports are loaded in the worker process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson

# how an answer is judged: any HTTP 200, or a 200 GraphQL answer without ``errors``
STATUS = "status"
GRAPHQL = "graphql"
# one request's longest wait before it counts as failed (and its connection is replaced)
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class Call:
    """One HTTP request: a POST when it has a body, a GET otherwise."""

    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self, host: str) -> bytes:
        method = "GET" if self.body is None else "POST"
        lines = [f"{method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.body is not None:
            lines.append(f"Content-Length: {len(self.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + (self.body or b"")


def graphql_call(
    path: str, query: str, variables: dict[str, object], token: str | None = None
) -> Call:
    headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    body = orjson.dumps({"query": query, "variables": variables})
    return Call(path, body, tuple(headers))


@dataclass(frozen=True)
class Plan:
    """A closed-loop run against ``base_url``: ``calls`` round-robin (or each at most once
    with ``once``), ``warmup`` seconds untimed, then ``seconds`` timed or until
    ``max_requests`` have been sent."""

    base_url: str
    calls: tuple[Call, ...]
    concurrency: int
    seconds: float
    judge: str = GRAPHQL
    warmup: float = 1.0
    max_requests: int | None = None
    once: bool = False


@dataclass(frozen=True)
class Outcome:
    latencies: list[float]  # seconds, one per successful timed request
    failures: int
    wall: float  # seconds of the timed phase
    concurrency: int
    # the first few failures, for the log
    samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.failures

    def percentile_ms(self, q: int) -> float:
        data = self.latencies
        if not data:
            return math.nan
        if len(data) == 1:
            return data[0] * 1000
        return statistics.quantiles(data, n=100, method="inclusive")[q - 1] * 1000

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else math.nan

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    @property
    def per_second(self) -> float:
        """Successful answers per second of the timed phase."""
        return len(self.latencies) / self.wall if self.wall > 0 else math.nan


class _Connection:
    """One keep-alive HTTP/1.1 connection (Content-Length or chunked answers)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers expected
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _problem(judge: str, status: int, body: bytes) -> str | None:
    text = body[:300].decode("utf-8", "replace")
    if status != 200:
        return f"HTTP {status}: {text}"
    if judge == GRAPHQL:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return f"not JSON: {text}"
        if not isinstance(payload, dict) or "errors" in payload or payload.get("data") is None:
            return f"errors: {text}"
    return None


async def _run(plan: Plan) -> Outcome:
    parts = urlsplit(plan.base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    prefix = parts.path.rstrip("/")
    raws = [Call(prefix + c.path, c.body, c.headers).encode(f"{host}:{port}") for c in plan.calls]
    if not raws:
        raise ValueError("a plan needs at least one call")
    next_call = 0
    latencies: list[float] = []
    failures = 0
    samples: list[str] = []
    timed_from = math.inf
    deadline = math.inf
    sent = 0

    def take() -> bytes | None:
        nonlocal next_call
        if plan.once and next_call >= len(raws):
            return None
        raw = raws[next_call % len(raws)]
        next_call += 1
        return raw

    async def client() -> None:
        nonlocal failures, sent
        connection = _Connection(host, port)
        # every client sends at least one timed request, however slow the server
        measured = False
        try:
            while True:
                now = time.perf_counter()
                if now >= deadline and measured:
                    return
                timed = now >= timed_from
                if timed and plan.max_requests is not None and sent >= plan.max_requests:
                    return
                raw = take()
                if raw is None:
                    return
                if timed:
                    sent += 1
                    measured = True
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(connection.request(raw), REQUEST_TIMEOUT)
                    problem = _problem(plan.judge, status, body)
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    TimeoutError,
                    ValueError,
                ) as exc:
                    connection.close()
                    problem = f"transport: {exc!r}"
                elapsed = time.perf_counter() - t0
                if t0 < timed_from:
                    continue  # a warm-up request
                if problem is None:
                    latencies.append(elapsed)
                else:
                    failures += 1
                    if len(samples) < 5:
                        samples.append(problem)
        finally:
            connection.close()

    began = time.perf_counter()
    timed_from = began + plan.warmup
    deadline = timed_from + plan.seconds
    await asyncio.gather(*(client() for _ in range(plan.concurrency)))
    ended = time.perf_counter()
    wall = max(ended - max(timed_from, began), 1e-9)
    return Outcome(latencies, failures, wall, plan.concurrency, samples)


def run_plan(plan: Plan) -> Outcome:
    """Run ``plan`` on a fresh event loop (in the driver process)."""
    return asyncio.run(_run(plan))


class Driver:
    """A worker process of its own that runs plans one after the other."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context)

    def run(self, plan: Plan) -> Outcome:
        return self._pool.submit(run_plan, plan).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def plans_at(
    base_url: str,
    calls: Sequence[Call],
    levels: Sequence[int],
    seconds: float,
    judge: str = GRAPHQL,
) -> list[Plan]:
    """The same calls at each concurrency level."""
    return [Plan(base_url, tuple(calls), c, seconds, judge) for c in levels]
