"""``python -m bench`` (``make bench``): for each backend, migrate the stores, load the
demo city, serve the hub with uvicorn on a free loopback port and run every scenario
over HTTP against its baseline, then time bearer-token verification in-process, a
cross-level fan-out against its single stores, the supervision figures of the whole
city, referral throughput through the relay and e-licence verification (online,
offline with the kit, and the kit itself) and cross-node message throughput over
NATS JetStream (bench/messages.py) and the per-county topology (bench/topology.py:
the node hop in-process and over loopback, audit chains per division); print one
table and a section for each, and write bench/out/results.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette

from bench import fanout, licences, messages, protections, referral
from bench import supervision as supervision_bench
from bench.backends import OUT, Backend, PostgresBackend, SQLiteBackend, backends, open_stores
from bench.identity import AuthCost, authenticate_cost, section
from bench.measure import Load, Result, access_token, measure
from bench.report import header, markdown, notes, table, write
from bench.runtime import LoopThread, Served
from bench.scenarios import BEARER_USER, SCENARIOS, Scenario
from bench.speed import LEVELS, SpeedLoad, SpeedRun, run_speed
from bench.speed_report import speed_section
from bench.topology import TopologyLoad, run_topology
from bench.topology_report import topology_section
from gateway.app import create_app
from gateway.nodes import NodeRegistry
from levels.common.clock import Clock


def say(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class BackendRun:
    results: list[Result]
    auth: AuthCost
    fanout: fanout.FanOut
    referral: referral.ReferralCost
    licences: licences.LicenceCost
    supervision: supervision_bench.SupervisionCost
    protections: protections.ProtectionCost


async def _client_phase(
    backend: Backend,
    served: Served,
    stores: LoopThread,
    nodes: NodeRegistry,
    app: Starlette,
    load: Load,
    referrals: int,
) -> BackendRun:
    limits = httpx.Limits(
        max_connections=load.concurrency, max_keepalive_connections=load.concurrency
    )
    results = []
    async with httpx.AsyncClient(
        base_url=served.base_url, trust_env=False, timeout=30.0, limits=limits
    ) as client:
        for scenario in SCENARIOS:
            result = await measure(backend.name, scenario, client, nodes, stores, load)
            say(
                f"  {scenario.name}: {result.hub.requests} requests in {result.hub.wall:.1f}s, "
                f"p50 {result.hub.p50_ms:.2f} ms, baseline p50 {result.baseline.p50_ms:.3f} ms"
            )
            results.append(result)
        token = await access_token(client, BEARER_USER)
        cost = await authenticate_cost(backend.name, app.state.identity, token, stores)
        say(
            f"  authenticate(token): p50 {cost.authenticate.p50_ms * 1000:.1f} µs "
            f"over {cost.authenticate.requests} calls ({cost.denylist})"
        )
        fanned = await fanout.measure_fanout(backend.name, client, nodes, load)
        for field in fanout.QUERIES:
            say(
                f"  {field} fan-out over 4 stores: p50 ÷ slowest single store p50 = "
                f"{fanned.ratio(field):.2f}"
            )
        supervised = await supervision_bench.measure_supervision(backend.name, client, nodes, load)
        say(
            f"  supervision(city): p50 {supervised.timing.p50_ms:.2f} ms, "
            f"p99 {supervised.timing.p99_ms:.2f} ms over {supervised.timing.requests} requests"
        )
        clock: Clock = app.state.clock
        referred = await referral.measure_referrals(
            backend.name, client, nodes, stores, clock, app.state.settings, load, referrals
        )
        say(
            f"  referrals: referCase p50 {referred.refer.p50_ms:.2f} ms; relay "
            f"{referred.applied} in {referred.relay_seconds:.2f}s "
            f"({referred.per_second:.1f}/s over {len(referred.passes)} passes)"
        )
        # last: no other section sees the licences it issues
        verified = await licences.measure_licences(
            backend.name, client, nodes, stores, clock, app.state.settings, load
        )
        say(
            f"  licences: verifyLicence p50 {verified.online.p50_ms:.2f} ms "
            f"({verified.online.per_second:.1f}/s); verify_offline p50 "
            f"{verified.offline.p50_ms * 1000:.1f} µs ({verified.offline_per_second:.0f}/s); "
            f"kit p50 {verified.kit.p50_ms:.2f} ms"
        )
    guarded = await protections.measure_protections(backend.name, served, app, stores, load)
    say(
        f"  protections: serviceRoutes p50 off {guarded.off.p50_ms:.2f} ms, "
        f"on {guarded.plain.p50_ms:.2f} ms, persisted {guarded.persisted.p50_ms:.2f} ms"
    )
    return BackendRun(results, cost, fanned, referred, verified, supervised, guarded)


def run_backend(backend: Backend, load: Load, referrals: int) -> BackendRun:
    stores = LoopThread(f"bench-{backend.name}")
    try:
        settings = stores.run(backend.settings())
        nodes, loaded = stores.run(open_stores(settings))
        say(f"{backend.name}: {loaded}")
        try:
            app = create_app(settings, nodes=nodes)
            served = Served(stores, app)
            try:
                say(f"{backend.name}: serving on {served.base_url}")
                return asyncio.run(
                    _client_phase(backend, served, stores, nodes, app, load, referrals)
                )
            finally:
                served.stop()
        finally:
            stores.run(nodes.dispose())
    finally:
        try:
            stores.run(backend.cleanup())
        finally:
            stores.close()


@dataclass(frozen=True)
class Options:
    load: Load
    speed: SpeedLoad
    backends: set[str] | None
    referrals: int
    only: str | None
    messages: int = messages.MESSAGES
    topology: TopologyLoad = field(default_factory=TopologyLoad)


def _levels(text: str) -> tuple[int, ...]:
    levels = tuple(int(part) for part in text.split(","))
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("concurrency levels are positive integers")
    return levels


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    defaults = Load()
    speed = SpeedLoad()
    parser.add_argument(
        "--only",
        choices=["speed", "sections", "messages", "topology"],
        help="speed: only the issue-17 speed table (PostgreSQL); sections: only the "
        "in-process table and sections; messages: only cross-node message throughput "
        "(NATS JetStream and PostgreSQL); topology: only the per-county topology "
        "(the node hop, the audit chains)",
    )
    parser.add_argument("--requests", type=int, default=defaults.requests)
    parser.add_argument(
        "--seconds",
        type=float,
        help=f"timed seconds per row (speed table: {speed.seconds:g}; sections: "
        f"{defaults.max_seconds:g} at most)",
    )
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument(
        "--levels",
        type=_levels,
        default=LEVELS,
        help="the speed table's concurrency levels (default: 1,16,50)",
    )
    parser.add_argument(
        "--accepts",
        type=int,
        default=speed.accepts,
        help="acceptCase requests per concurrency level in the speed table",
    )
    parser.add_argument("--warmup", type=int, default=defaults.warmup)
    parser.add_argument(
        "--backend", action="append", choices=["sqlite", "postgresql"], help="default: both"
    )
    parser.add_argument(
        "--referrals",
        type=int,
        default=referral.REFERRALS,
        help="cases referred from the village to the county and relayed",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=messages.MESSAGES,
        help="cross-node messages sent per row of the message table",
    )
    args = parser.parse_args(argv)
    if args.messages < 2:
        parser.error("--messages must be at least 2")
    if args.referrals < 1:
        parser.error("--referrals must be at least 1")
    if args.accepts < 1:
        parser.error("--accepts must be at least 1")
    seconds = defaults.max_seconds if args.seconds is None else args.seconds
    load = Load(args.warmup, args.requests, seconds, args.concurrency)
    speed_seconds = speed.seconds if args.seconds is None else args.seconds
    topology = TopologyLoad()
    if args.seconds is not None:
        topology = TopologyLoad(seconds=args.seconds, audit_seconds=args.seconds)
    return Options(
        load,
        SpeedLoad(speed_seconds, args.levels, args.accepts),
        set(args.backend) if args.backend else None,
        args.referrals,
        args.only,
        args.messages,
        topology,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    parts: list[str] = []
    if options.only in (None, "speed"):
        speed = run_speed(options.speed, say) if _wants_postgres(options) else SpeedRun()
        text = speed_section(speed, options.speed)
        say("")
        say(text)
        say("")
        parts.append(text)
    if options.only in (None, "sections"):
        parts.append(run_sections(options))
    if options.only in (None, "messages"):
        bench = asyncio.run(messages.measure_messages(say, count=options.messages))
        text = messages.message_section(bench)
        say("")
        say(text)
        parts.append(text)
    if options.only in (None, "topology"):
        sqlite_only = options.backends == {"sqlite"}
        run = run_topology(options.topology, say, SQLiteBackend() if sqlite_only else None)
        text = topology_section(run, options.topology)
        say("")
        say(text)
        parts.append(text)
    path = OUT / "results.md"
    write(path, markdown_page(parts))
    say(f"\nwritten to {path} in {time.perf_counter() - started:.0f}s")
    return 0


def _wants_postgres(options: Options) -> bool:
    return options.backends is None or "postgresql" in options.backends


def markdown_page(parts: list[str]) -> str:
    return "\n\n".join([header(), *parts]) + "\n"


def run_sections(options: Options) -> str:
    """The in-process table (statements per request, in-process baselines) and the
    sections after it, on each backend; their text for results.md."""
    load = options.load
    results: list[Result] = []
    costs: list[AuthCost] = []
    fanouts: list[fanout.FanOut] = []
    referred: list[referral.ReferralCost] = []
    verified: list[licences.LicenceCost] = []
    supervised: list[supervision_bench.SupervisionCost] = []
    guarded: list[protections.ProtectionCost] = []
    skipped: list[str] = []
    for backend in backends():
        if options.backends is not None and backend.name not in options.backends:
            continue
        probe = LoopThread(f"probe-{backend.name}")
        try:
            reason = probe.run(backend.unavailable())
        finally:
            probe.close()
        if reason is not None:
            kind = "PostgreSQL" if isinstance(backend, PostgresBackend) else backend.name
            line = f"{reason}: the {kind} rows were not measured."
            say(line)
            skipped.append(line)
            continue
        run = run_backend(backend, load, options.referrals)
        results.extend(run.results)
        costs.append(run.auth)
        fanouts.append(run.fanout)
        referred.append(run.referral)
        verified.append(run.licences)
        supervised.append(run.supervision)
        guarded.append(run.protections)
    scenarios: list[Scenario] = list(SCENARIOS)
    say("")
    say(table(results))
    say("")
    sections = [
        section(costs, results),
        fanout.section(fanouts),
        referral.section(referred),
        licences.section(verified),
        supervision_bench.section(supervised),
        protections.section(guarded),
    ]
    for text in sections:
        say(text)
        say("")
    for note in notes(results, scenarios, load, skipped):
        say(f"- {note}")
    return markdown(results, scenarios, load, skipped, sections)


if __name__ == "__main__":
    sys.exit(main())
