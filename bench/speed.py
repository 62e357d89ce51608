"""The speed table (GovHub issue 17), on PostgreSQL + Redis: every server in a process of
its own, the load from another (``bench.driver``), closed loop at fixed concurrency.

* the hub as ``govhub serve`` runs it (production settings, ``bench.serve hub``);
* the raw baseline: a minimal Starlette app (``bench.raw``) on the same uvicorn setup,
  checked to answer the same rows as the hub once per scenario;
* PostGraphile 5 (Amber preset, ``bench/peer``) over the county store's database for
  the list query, its answer checked equal to the hub's;
* the hub's GraphQL view without its protections (``bench.serve bare``), served beside
  the hub and timed against it in paired slices at one client (``bench.paired``);
* the hub again with 2 worker processes, at 50 clients, for the p99 goal."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from bench.backends import OUT, PostgresBackend, open_stores
from bench.driver import GRAPHQL, STATUS, Call, Driver, Outcome, Plan, graphql_call
from bench.measure import BenchError, HubGraphQL, access_token
from bench.paired import Paired, load_average, paired
from bench.scenarios import Preparation, prepare_accept
from bench.serve import ServerProcess, free_port, python_server
from bench.speed_cases import (
    LIST,
    PEER_DIR,
    SPEED_CASES,
    SpeedCase,
    list_rows_of_hub,
    list_rows_of_peer,
    peer_query,
)
from bench.speed_protections import BUDGET_ENV, ProtectionRun
from gateway.settings import Settings

LEVELS = (1, 16, 50)
LOGS = OUT / "logs"
# the scenarios whose p99 at 50 clients is goal 3, measured with each worker count
P99_KEYS = ("routes", "my-cases")
P99_GOAL_MS = 300.0
# the scenarios timed on the hub's bare GraphQL view too (what the protections cost)
PROTECTED_KEYS = ("routes", "my-cases", "auditor-cases")
PROTECTIONS_GOAL = 0.10
PEER_GOAL = 0.5
WORKER_COUNTS = (1, 2)
PEER_BIN = PEER_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"


@dataclass(frozen=True)
class SpeedLoad:
    seconds: float = 5.0
    levels: tuple[int, ...] = LEVELS
    # acceptCase requests per concurrency level (each on a case of its own)
    accepts: int = 100


@dataclass
class Row:
    case: SpeedCase
    concurrency: int
    hub: Outcome
    raw: Outcome
    peer: Outcome | None = None
    # acceptCase: the minimal raw write (the case row and its audit event only)
    minimal: Outcome | None = None

    @property
    def ratio(self) -> float:
        return self.hub.p50_ms / self.raw.p50_ms

    @property
    def met(self) -> bool:
        return self.hub.failures == 0 and self.raw.failures == 0 and self.ratio <= self.case.goal

    @property
    def peer_ratio(self) -> float | None:
        if self.peer is None or not self.peer.per_second:
            return None
        return self.hub.per_second / self.peer.per_second


@dataclass
class SpeedRun:
    rows: list[Row] = field(default_factory=list)
    # (workers, scenario key) -> the hub at 50 clients
    workers: dict[tuple[int, str], Outcome] = field(default_factory=dict)
    # scenario key -> the hub with its protections and without, at one client, in pairs
    protections: dict[str, Paired] = field(default_factory=dict)
    # each protection left out in turn (bench.speed_protections)
    each_protection: ProtectionRun | None = None
    notes: list[str] = field(default_factory=list)


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``GOVHUB_*`` environment that makes ``Settings()`` equal ``settings`` in the
    fields the bench sets; nothing else of the caller's ``GOVHUB_*`` leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHUB_")}
    env.pop("REDIS_URL", None)
    values: dict[str, Any] = {
        "mode": settings.mode.value,
        "secret_key": settings.secret_key.get_secret_value() if settings.secret_key else None,
        "redis_url": settings.redis_url,
        "clock_override": settings.clock_override.isoformat() if settings.clock_override else None,
        "relay_interval_seconds": settings.relay_interval_seconds,
        "requests_per_minute": settings.requests_per_minute,
        "requests_per_minute_per_ip": settings.requests_per_minute_per_ip,
        "cost_budget_per_minute": settings.cost_budget_per_minute,
        "var_dir": settings.var_dir,
        "log_format": "json",
    }
    for store in ("city", "county", "town", "village", "identity"):
        values[f"{store}_db_url"] = getattr(settings, f"{store}_db_url")
    env.update({f"GOVHUB_{k.upper()}": str(v) for k, v in values.items() if v is not None})
    return env


async def _fetch_json(base_url: str, call: Call) -> Any:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as client:
        if call.body is None:
            response = await client.get(call.path, headers=dict(call.headers))
        else:
            response = await client.post(call.path, content=call.body, headers=dict(call.headers))
    if response.status_code != 200:
        raise BenchError(f"{base_url}{call.path}: HTTP {response.status_code}: {response.text}")
    payload = orjson.loads(response.content)
    if isinstance(payload, dict) and "errors" in payload:
        raise BenchError(f"{base_url}{call.path}: errors: {response.text[:1000]}")
    return payload


async def _tokens(base_url: str, usernames: set[str]) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as client:
        return {name: await access_token(client, name) for name in sorted(usernames)}


async def _prepare_cases(base_url: str, count: int) -> list[str]:
    """``count`` fresh SUBMITTED cases at the county (untimed), for acceptCase."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60) as client:
        variants = await prepare_accept(Preparation(HubGraphQL(client), count, 8))
    return [v["number"] for v in variants]


# how long a hub may take to answer cleanly again after an overloaded row (its circuit
# breakers stay open breaker_open_seconds, 30 s by default)
SETTLE_SECONDS = 150.0


def _settle(base_url: str, tokens: dict[str, str], say: Callable[[str], None]) -> None:
    """Wait until the hub answers "my cases" (every level store) without errors, so that
    breakers an overloaded row left open do not fail the next row's requests; past
    ``SETTLE_SECONDS`` the row runs anyway (and counts what fails)."""
    call = _hub_call(next(c for c in SPEED_CASES if c.key == "my-cases"), tokens)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            asyncio.run(_fetch_json(base_url, call))
            return
        except (BenchError, httpx.TransportError) as exc:
            if time.monotonic() > deadline:
                say(f"  the hub still fails {SETTLE_SECONDS:g} s after the last row: {exc}")
                return
            time.sleep(1.0)


def _hub_call(case: SpeedCase, tokens: dict[str, str], **variables: Any) -> Call:
    token = tokens[case.bearer] if case.bearer else None
    return graphql_call("/graphql", case.query, {**case.variables, **variables}, token)


class _Peer:
    """PostGraphile 5 over the county store, or why it is not there."""

    def __init__(self, settings: Settings) -> None:
        self.server: ServerProcess | None = None
        self.missing: str | None = None
        node = shutil.which("node")
        if shutil.which("npm") is None or node is None:
            self.missing = "npm is missing: PostGraphile (the peer of the list query) not run"
            return
        if not PEER_BIN.exists():
            self.missing = (
                "bench/peer/node_modules is missing (make bench-peer installs it): "
                "PostGraphile not run"
            )
            return
        url = str(settings.county_db_url).replace("postgresql+asyncpg://", "postgres://", 1)
        port = free_port()
        argv = [node, "--require", str(PEER_DIR / "node20.cjs"), str(PEER_BIN)]
        argv += ["-C", str(PEER_DIR / "graphile.config.mjs"), "-c", url]
        argv += ["-s", "public", "-n", "127.0.0.1", "-p", str(port)]
        env = {**os.environ, "NODE_ENV": "production", "GRAPHILE_ENV": "production"}
        self.server = ServerProcess(
            argv,
            port=port,
            env=env,
            log=LOGS / "postgraphile.log",
            cwd=PEER_DIR,
            ready_path="/graphql",
            any_status=True,
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@dataclass
class _Side:
    """What one server answered: the answer checked per scenario, an outcome per level."""

    answers: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[tuple[str, int], Outcome] = field(default_factory=dict)


@dataclass
class _Accepts:
    """acceptCase's cases per concurrency level: those the hub accepted, and as many
    more left SUBMITTED for the raw write that does what the hub's does."""

    accepted: dict[str, list[str]] = field(default_factory=dict)
    fresh: dict[str, list[str]] = field(default_factory=dict)


def _hub_side(
    driver: Driver, hub: ServerProcess, load: SpeedLoad, say: Callable[[str], None]
) -> tuple[_Side, _Accepts]:
    """Every scenario on the hub; for acceptCase, its cases and the raw side's."""
    side = _Side()
    tokens = asyncio.run(_tokens(hub.base_url, {c.bearer for c in SPEED_CASES if c.bearer}))
    accepts = _Accepts()
    # the writes first: every read then sees the cases they made, on the raw side too
    for case in sorted(SPEED_CASES, key=lambda case: not case.write):
        for c in load.levels:
            _settle(hub.base_url, tokens, say)
            if case.write:
                both = asyncio.run(_prepare_cases(hub.base_url, 2 * (load.accepts + 1)))
                numbers = both[: load.accepts + 1]
                accepts.accepted[str(c)] = numbers
                accepts.fresh[str(c)] = both[load.accepts + 1 :]
                calls = tuple(_hub_call(case, tokens, number=n) for n in numbers)
                if c == load.levels[0]:
                    side.answers[case.key] = asyncio.run(_fetch_json(hub.base_url, calls[0]))
                plan = Plan(hub.base_url, calls[1:], c, _COUNT_BOUND, GRAPHQL, 0.0, None, True)
            else:
                call = _hub_call(case, tokens)
                if c == load.levels[0]:
                    side.answers[case.key] = asyncio.run(_fetch_json(hub.base_url, call))
                plan = Plan(hub.base_url, (call,), c, load.seconds)
            side.outcomes[(case.key, c)] = out = driver.run(plan)
            _say(say, f"hub {case.name} c={c}", out)
    return side, accepts


def _accept_calls(path: str, numbers: list[str]) -> tuple[Call, ...]:
    return tuple(Call(path, orjson.dumps({"number": n})) for n in numbers)


def _raw_side(
    driver: Driver,
    raw: ServerProcess,
    load: SpeedLoad,
    accepts: _Accepts,
    say: Callable[[str], None],
) -> tuple[_Side, dict[int, Outcome]]:
    """Every scenario on the raw app; for acceptCase, its full write on the cases left
    SUBMITTED, then the minimal write on the cases the hub accepted (per level)."""
    side = _Side()
    minimal: dict[int, Outcome] = {}
    for case in SPEED_CASES:
        for c in load.levels:
            if case.write:
                calls = _accept_calls("/raw/accept", accepts.fresh[str(c)])
                if c == load.levels[0]:
                    side.answers[case.key] = asyncio.run(_fetch_json(raw.base_url, calls[0]))
                plan = Plan(raw.base_url, calls[1:], c, _COUNT_BOUND, STATUS, 0.0, None, True)
                calls = _accept_calls("/raw/accept-minimal", accepts.accepted[str(c)])
                minimal[c] = out = driver.run(
                    Plan(raw.base_url, calls[1:], c, _COUNT_BOUND, STATUS, 0.0, None, True)
                )
                _say(say, f"raw (minimal write) {case.name} c={c}", out)
            else:
                call = Call(f"/raw/{case.key}")
                if c == load.levels[0]:
                    side.answers[case.key] = asyncio.run(_fetch_json(raw.base_url, call))
                plan = Plan(raw.base_url, (call,), c, load.seconds, STATUS)
            side.outcomes[(case.key, c)] = out = driver.run(plan)
            _say(say, f"raw {case.name} c={c}", out)
    return side, minimal


def _peer_side(
    driver: Driver, peer: ServerProcess, load: SpeedLoad, say: Callable[[str], None]
) -> _Side:
    side = _Side()
    call = graphql_call("/graphql", peer_query(), dict(LIST.variables))
    side.answers[LIST.key] = asyncio.run(_fetch_json(peer.base_url, call))
    for c in load.levels:
        side.outcomes[(LIST.key, c)] = out = driver.run(
            Plan(peer.base_url, (call,), c, load.seconds)
        )
        _say(say, f"PostGraphile {LIST.name} c={c}", out)
    return side


def _bare_side(
    run: SpeedRun,
    driver: Driver,
    hub: ServerProcess,
    bare: ServerProcess,
    load: SpeedLoad,
    say: Callable[[str], None],
) -> None:
    """The protected scenarios at the lowest concurrency, on the hub as served and on
    its bare view, both up at once and timed in paired slices (``bench.paired``): the
    two measured minutes apart would compare two loads of a shared machine."""
    scenarios = [case for case in SPEED_CASES if case.key in PROTECTED_KEYS]
    users = {c.bearer for c in scenarios if c.bearer}
    hub_tokens = asyncio.run(_tokens(hub.base_url, users))
    bare_tokens = asyncio.run(_tokens(bare.base_url, users))
    c = load.levels[0]
    for case in scenarios:
        _settle(hub.base_url, hub_tokens, say)
        _settle(bare.base_url, bare_tokens, say)
        run.protections[case.key] = found = paired(
            driver,
            (hub.base_url, _hub_call(case, hub_tokens)),
            (bare.base_url, _hub_call(case, bare_tokens)),
            rounds=max(3, round(load.seconds)),
            concurrency=c,
        )
        _say(say, f"hub (paired with bare) {case.name} c={c}", found.on)
        _say(say, f"bare (paired with the hub) {case.name} c={c}", found.off)
        say(f"    load average {found.load[0]:.1f} → {found.load[1]:.1f}")


async def _connection_note(admin_url: str, settings: Settings) -> str:
    """PostgreSQL's connection limit against what the hub's pools may open, per worker
    count (``Settings.db_pool``: the budget split over workers and stores)."""
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        limit = await conn.fetchval("SHOW max_connections")
    finally:
        await conn.close()
    stores = settings.postgres_stores()
    parts = []
    for workers in WORKER_COUNTS:
        sized = settings.model_copy(update={"workers": workers})
        size, overflow = sized.db_pool()
        total = workers * stores * (size + overflow)
        parts.append(f"{workers} worker(s): pools of {size} + {overflow}, at most {total}")
    return (
        f"Connections: budget {settings.db_connection_budget} "
        f"(GOVHUB_DB_CONNECTION_BUDGET) over {stores} stores; {'; '.join(parts)}; "
        f"this PostgreSQL allows {limit} in all (shared with everything else on the machine)."
    )


def _say(say: Callable[[str], None], what: str, out: Outcome) -> None:
    say(
        f"  {what}: p50 {out.p50_ms:.1f} ms, p99 {out.p99_ms:.1f} ms, "
        f"{out.per_second:.0f} req/s, {out.failures} of {out.requests} failed"
    )
    for sample in out.samples[:2]:
        say(f"    failure: {sample}")


# acceptCase rows are bound by their count (every prepared case once), not by time
_COUNT_BOUND = 600.0


def run_speed(
    load: SpeedLoad, say: Callable[[str], None], backend: PostgresBackend | None = None
) -> SpeedRun:
    backend = backend or PostgresBackend()
    run = SpeedRun()
    reason = asyncio.run(backend.unavailable())
    if reason is not None:
        run.notes.append(f"{reason}: the speed table was not measured.")
        say(run.notes[-1])
        return run
    try:
        settings = asyncio.run(backend.settings())
        loaded = asyncio.run(_load(settings))
        say(f"speed: {loaded}")
        env = settings_env(settings)
        run.notes.append(asyncio.run(_connection_note(backend.admin_url, settings)))
        with Driver() as driver:
            _measure(run, load, settings, env, driver, say)
    finally:
        asyncio.run(backend.cleanup())
    return run


async def _load(settings: Settings) -> str:
    """Migrate the stores and load the demo city, in this process, before any server."""
    nodes, loaded = await open_stores(settings)
    await nodes.dispose()
    return loaded


def _measure(
    run: SpeedRun,
    load: SpeedLoad,
    settings: Settings,
    env: dict[str, str],
    driver: Driver,
    say: Callable[[str], None],
) -> None:
    """One server at a time (they would share the two cores and PostgreSQL's
    connections): the hub with 1 worker, then beside it its bare view (the two are
    compared, so they are timed side by side, one client, a small pool for the view),
    the raw app, PostGraphile, the hub with 2."""
    cwd = OUT
    with python_server("hub", workers=1, env=env, log=LOGS / "hub-1.log", cwd=cwd) as hub:
        say(f"speed: the hub (1 worker) on {hub.base_url}, load average {load_average():.1f}")
        hub_side, accepts = _hub_side(driver, hub, load, say)
        # at one client the view holds a connection or two per store: a small pool keeps
        # the two servers within PostgreSQL's connections
        small = {**env, **BUDGET_ENV}
        with python_server("bare", workers=1, env=small, log=LOGS / "bare.log", cwd=cwd) as bare:
            say(f"speed: the hub without its protections on {bare.base_url}, beside the hub")
            _bare_side(run, driver, hub, bare, load, say)
    with python_server("raw", workers=1, env=env, log=LOGS / "raw.log", cwd=cwd) as raw:
        say(f"speed: the raw baseline on {raw.base_url}")
        raw_side, minimal = _raw_side(driver, raw, load, accepts, say)
    run.each_protection = _each_protection(driver, env, hub_side, load, say)
    for case in SPEED_CASES:
        hub_data = hub_side.answers[case.key]["data"]
        problem = case.same(hub_data, raw_side.answers[case.key])
        if problem is not None:
            raise BenchError(f"{case.name}: the hub's and the raw answer differ: {problem}")
    peer = _Peer(settings)
    peer_side: _Side | None = None
    try:
        if peer.missing:
            run.notes.append(peer.missing)
            say(peer.missing)
        elif peer.server is not None:
            say(f"speed: PostGraphile on {peer.server.base_url}")
            peer_side = _peer_side(driver, peer.server, load, say)
            hub_rows = list_rows_of_hub(hub_side.answers[LIST.key]["data"])
            if list_rows_of_peer(peer_side.answers[LIST.key]["data"]) != hub_rows:
                raise BenchError(f"{LIST.name}: PostGraphile's answer differs from the hub's")
    finally:
        peer.stop()
    for case in SPEED_CASES:
        for c in load.levels:
            peer_out = None
            if peer_side is not None:
                peer_out = peer_side.outcomes.get((case.key, c))
            run.rows.append(
                Row(
                    case,
                    c,
                    hub_side.outcomes[(case.key, c)],
                    raw_side.outcomes[(case.key, c)],
                    peer_out,
                    minimal.get(c) if case.write else None,
                )
            )
    by_key = {c.key: c for c in SPEED_CASES}
    top = max(load.levels)
    for key in P99_KEYS:
        run.workers[(1, key)] = hub_side.outcomes[(key, top)]
    for workers in WORKER_COUNTS:
        if workers == 1:
            continue
        log = LOGS / f"hub-{workers}.log"
        with python_server("hub", workers=workers, env=env, log=log, cwd=cwd) as hub:
            tokens = asyncio.run(_tokens(hub.base_url, {c.bearer for c in SPEED_CASES if c.bearer}))
            for key in P99_KEYS:
                call = _hub_call(by_key[key], tokens)
                _settle(hub.base_url, tokens, say)
                out = driver.run(Plan(hub.base_url, (call,), top, load.seconds))
                run.workers[(workers, key)] = out
                _say(say, f"hub, {workers} workers, {by_key[key].name} c={top}", out)


def _each_protection(
    driver: Driver,
    env: dict[str, str],
    hub_side: _Side,
    load: SpeedLoad,
    say: Callable[[str], None],
) -> ProtectionRun:
    from bench import speed_protections

    def serve(name: str, extra: dict[str, str]) -> ServerProcess:
        return python_server(
            "hub", workers=1, env={**env, **extra}, log=LOGS / f"{name}.log", cwd=OUT
        )

    say("speed: each protection left out in turn (1 client)")
    staff_case = speed_protections.staff_case_number(hub_side.answers["my-cases"])
    return speed_protections.measure(
        driver, serve, speed_protections.tokens_for, staff_case, load.seconds, say
    )


def log_paths() -> Sequence[Path]:
    return sorted(LOGS.glob("*.log"))
