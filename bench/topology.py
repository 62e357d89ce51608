"""The per-county topology (DESIGN §2, Nodes): what the node hop costs the hub.

The demo city is loaded twice, on PostgreSQL + Redis (SQLite when PostgreSQL is not
there): into the embedded default's five stores, and into the stores of a per-county
map (the city node ``jinzhong`` and a node per county, ``county-140702`` 榆次区 …, and
the identity store). Then, every server a process of its own and the load from another
(``bench.driver``, closed loop, as the speed table):

* (a) ``embedded``: the hub over the embedded default map (``bench.serve hub``);
* (b) ``in-process``: the hub over the per-county map without addresses (its nodes
  in its process, read by SQL);
* (c) ``loopback``: the hub over the same map whose county nodes have
  ``http://127.0.0.1:<port>`` addresses, each ``govhub node serve`` on the same store
  as (b) (the city node stays in the hub's process).

The three hubs are up together and every row is run on (a), (b) and (c) one after
the other, so that the three of a row share the machine's load (others' work shares
these two cores): 1-minute load average recorded per run. The queries: a division by
code (anonymous), 榆次区's auditor's ``cases(first: 20)`` and their ``case(number:)``
of the first case of that list (an audited staff read). Node calls per request are
counted on each hub's ``govhub_node_calls_total`` (for (c), the calls to nodes with
an address: the HTTP hops). 榆次区's node is also asked directly, in the division
lines' turns, for what the hub asks it there: the node's part of a hop.

Then the audit chains on the per-county map's 榆次区 store (``bench.audit_cost``):
staff reads and writes at 16 clients with one chain per division against one shared
chain head."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.exc import DBAPIError

from auth.hub_tokens import HubKey, HubTokenSigner
from bench import audit_cost
from bench.backends import OUT, PostgresBackend, SQLiteBackend, bench_settings, open_stores
from bench.driver import Call, Driver, Outcome, Plan, graphql_call
from bench.measure import BenchError, access_token
from bench.paired import merged
from bench.scenarios import COUNTY, DIVISION_QUERY
from bench.serve import ServerProcess, free_port, python_server
from bench.speed import settings_env
from gateway.demo.federated import node_ids
from gateway.nodes import NodeRegistry
from gateway.settings import Settings

LOGS = OUT / "logs"
TOPOLOGIES = ("embedded", "in-process", "loopback")
AUDITOR = "yuci.auditor"  # 榆次区's auditor: their cases live on node county-140702
AUDIT_NODE = "county-140702"
CASES_QUERY = """
query AuditorCases($first: Int) {
  cases(first: $first) {
    edges { node { number status matterName applicantName applicantIdMasked } }
  }
}"""
CASE_QUERY = """
query StaffCase($number: String!) {
  case(number: $number) { number status matterName applicantName applicantIdMasked }
}"""
# the division as the hub asks a node for it, sent to the node directly
NODE_QUERY = (
    "query Entities($representations: [_Any!]!) { _entities(representations: "
    "$representations) { ... on Division { columns } } }"
)
NODE_ALONE = "node alone"
# the goals of the federation requirement
IN_PROCESS_GOAL = 0.20  # (b) p50 at most 20 % over (a)
LOOPBACK_GOAL_MS = 2.0  # (c) − (b) p50 per node call
CHAINS_GOAL = 5.0  # one chain per division ÷ one shared head, staff reads and writes
GOVHUB = Path(sys.executable).parent / "govhub"
# every server's pool per store: kept open, opened under load
POOL = (3, 3)
_CALLS = re.compile(r'^govhub_node_calls_total\{node="([^"]+)"\} ([0-9.e+]+)$', re.M)


@dataclass(frozen=True)
class TopologyLoad:
    seconds: float = 2.0
    levels: tuple[int, ...] = (1, 16)
    warmup: float = 0.5
    # the hubs of a line take turns in slices of this many seconds
    slice_seconds: float = 0.5
    # audited reads and writes: timed seconds per op and chain layout
    audit_seconds: float = 2.0
    # the county nodes served as processes for (c) (None: every county of the demo);
    # the others stay in the hub's process
    counties: tuple[str, ...] | None = None
    # sequential requests per query and hub that count its node calls
    probes: int = 10


@dataclass(frozen=True)
class Query:
    key: str
    name: str
    query: str
    bearer: str | None = None


QUERIES = (
    Query("division", "division by code", DIVISION_QUERY),
    Query("cases", f"`cases(first: 20)` ({AUDITOR})", CASES_QUERY, AUDITOR),
    Query("case", f"`case(number:)` ({AUDITOR}, audited)", CASE_QUERY, AUDITOR),
)


@dataclass(frozen=True)
class Run:
    outcome: Outcome
    load: float  # 1-minute load average when the run started


@dataclass
class TopologyRun:
    backend: str = ""
    # (query key, concurrency, topology) -> the run
    runs: dict[tuple[str, int, str], Run] = field(default_factory=dict)
    # (query key, concurrency) -> each round's slice per topology
    rounds: dict[tuple[str, int], list[dict[str, Outcome]]] = field(default_factory=dict)
    # (query key, topology) -> node calls per request (loopback: HTTP calls only)
    calls: dict[tuple[str, str], float] = field(default_factory=dict)
    chains: list[audit_cost.ChainCost] = field(default_factory=list)
    served_nodes: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Hub:
    """A served hub, its tokens, its calls and the node ids its HTTP hops go to."""

    topology: str
    base_url: str
    tokens: dict[str, str]
    calls: dict[str, Call]
    remote: frozenset[str]
    answers: dict[str, Any] = field(default_factory=dict)


def node_map(addresses: dict[str, str], databases: dict[str, str]) -> str:
    """The per-county map of the demo city (``gateway.demo.federated``), with each
    node's database when given and its address when given."""
    text = ""
    for node_id, prefix in node_ids().items():
        text += f'[[nodes]]\nid = "{node_id}"\nprefixes = ["{prefix}"]\n'
        if node_id == "jinzhong":
            text += 'levels = ["CITY"]\n'
        if node_id in databases:
            text += f'database = "{databases[node_id]}"\n'
        if node_id in addresses:
            text += f'address = "{addresses[node_id]}"\n'
        text += "\n"
    return text


def _node_calls(text: str, only: frozenset[str] | None) -> float:
    return sum(float(count) for node, count in _CALLS.findall(text) if only is None or node in only)


async def _graphql(client: httpx.AsyncClient, call: Call) -> Any:
    response = await client.post(call.path, content=call.body, headers=dict(call.headers))
    payload = response.json()
    if response.status_code != 200 or "errors" in payload:
        raise BenchError(
            f"{client.base_url}{call.path}: HTTP {response.status_code}: {response.text[:500]}"
        )
    return payload["data"]


async def _prepare(hub: Hub, probes: int) -> dict[str, float]:
    """The hub's tokens and calls, each query's answer, and its node calls per request
    (the scrape's own calls, if any, taken out)."""
    only = hub.remote or None
    async with httpx.AsyncClient(base_url=hub.base_url, trust_env=False, timeout=30) as c:
        hub.tokens[AUDITOR] = await access_token(c, AUDITOR)
        token = hub.tokens[AUDITOR]
        hub.calls["division"] = graphql_call("/graphql", DIVISION_QUERY, {"code": COUNTY})
        hub.calls["cases"] = graphql_call("/graphql", CASES_QUERY, {"first": 20}, token)
        listed = await _graphql(c, hub.calls["cases"])
        edges = listed["cases"]["edges"]
        if not edges:
            raise BenchError(f"{hub.topology}: {AUDITOR} lists no case")
        number = edges[0]["node"]["number"]
        hub.calls["case"] = graphql_call("/graphql", CASE_QUERY, {"number": number}, token)
        per_request: dict[str, float] = {}
        for query in QUERIES:
            hub.answers[query.key] = await _graphql(c, hub.calls[query.key])
            first = _node_calls((await c.get("/metrics")).text, only)
            idle = _node_calls((await c.get("/metrics")).text, only) - first
            for _ in range(probes):
                await _graphql(c, hub.calls[query.key])
            after = _node_calls((await c.get("/metrics")).text, only)
            per_request[query.key] = (after - first - 2 * idle) / probes
    return per_request


def _start_nodes(
    counties: list[str], env: dict[str, str], logs: Path, stack: ExitStack
) -> dict[str, str]:
    """``govhub node serve`` for each county node, started side by side; their
    addresses once each ``/health`` answers."""
    ports = {node_id: free_port() for node_id in counties}

    def start(node_id: str) -> ServerProcess:
        argv = [str(GOVHUB), "node", "serve", "--node", node_id]
        argv += ["--host", "127.0.0.1", "--port", str(ports[node_id])]
        return ServerProcess(
            argv,
            port=ports[node_id],
            env=env,
            log=logs / f"node-{node_id}.log",
            cwd=logs,
            ready_path="/health",
            timeout=120.0,
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(counties) or 1) as pool:
        futures = [pool.submit(start, node_id) for node_id in counties]
        for future in futures:
            stack.enter_context(future.result())
    return {node_id: f"http://127.0.0.1:{port}" for node_id, port in ports.items()}


def _available_backend(say: Callable[[str], None]) -> tuple[PostgresBackend | SQLiteBackend, str]:
    postgres = PostgresBackend()
    reason = asyncio.run(postgres.unavailable())
    if reason is None:
        return postgres, ""
    say(f"topology: {reason}: on SQLite instead")
    return SQLiteBackend(), f"{reason}: measured on SQLite."


async def _per_county_settings(
    backend: PostgresBackend | SQLiteBackend, embedded: Settings
) -> tuple[Settings, Path]:
    """The per-county map's settings (without addresses) and the hub's key file."""
    folder = (embedded.var_dir if isinstance(backend, SQLiteBackend) else OUT) / "per-county"
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "hub-key.pem"
    HubKey.from_file(key_file, create=True)
    databases: dict[str, str] = {}
    urls: dict[str, str] = {}
    if isinstance(backend, PostgresBackend):
        names = {n: "topo_" + n.replace("-", "_") for n in node_ids()}
        databases = await backend.databases(names)
        urls = await backend.databases({"identity_db_url": "topo_identity"})
    settings = bench_settings(
        var_dir=folder,
        redis_url=embedded.redis_url,
        nodes=node_map({}, databases),
        hub_key_file=key_file,
        **urls,
    )
    return settings, key_file


async def _load(settings: Settings) -> str:
    nodes, loaded = await open_stores(settings)
    await nodes.dispose()
    return loaded


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    """A server's environment: ``settings``, its map and key, and the same pool per
    store in every process (``POOL``: a budget split over 5 stores or over 13 would
    give the two maps different pools, and the three hubs and the nodes together must
    stay within PostgreSQL's connections, shared with other work)."""
    env = settings_env(settings)
    if settings.nodes:
        env["GOVHUB_NODES"] = settings.nodes
    if settings.hub_key_file is not None:
        env["GOVHUB_HUB_KEY_FILE"] = str(settings.hub_key_file)
    size, overflow = POOL
    env["GOVHUB_DB_POOL_SIZE"] = str(size)
    env["GOVHUB_DB_MAX_OVERFLOW"] = str(overflow)
    budget = max(settings.db_connection_budget, settings.postgres_stores() * (size + overflow))
    env["GOVHUB_DB_CONNECTION_BUDGET"] = str(budget)
    return {**env, **extra}


def _hub(
    topology: str, env: dict[str, str], remote: frozenset[str], logs: Path, stack: ExitStack
) -> Hub:
    log = logs / f"topology-{topology}.log"
    server = stack.enter_context(python_server("hub", workers=1, env=env, log=log, cwd=logs))
    return Hub(topology, server.base_url, {}, {}, remote)


def _rows(
    run: TopologyRun,
    hubs: list[Hub],
    driver: Driver,
    load: TopologyLoad,
    say: Callable[[str], None],
) -> None:
    """Each query and level: a warm-up of each hub, then rounds of one slice per hub,
    the order rotating by round, so that the machine's load lands on the three alike;
    each hub's slices pooled, and the hop costs of each round kept (the table gives
    their median)."""
    rounds = max(1, round(load.seconds / load.slice_seconds))
    for query in QUERIES:
        for c in load.levels:
            targets = [hub for hub in hubs if query.key in hub.calls]
            for hub in targets:
                call = (hub.calls[query.key],)
                driver.run(Plan(hub.base_url, call, c, load.warmup, warmup=0.0))
            slices: dict[str, list[Outcome]] = {hub.topology: [] for hub in targets}
            loads: dict[str, list[float]] = {hub.topology: [] for hub in targets}
            for n in range(rounds):
                got: dict[str, Outcome] = {}
                for hub in targets[n % len(targets) :] + targets[: n % len(targets)]:
                    call = (hub.calls[query.key],)
                    plan = Plan(hub.base_url, call, c, load.slice_seconds, warmup=0.1)
                    loads[hub.topology].append(os.getloadavg()[0])
                    got[hub.topology] = out = driver.run(plan)
                    slices[hub.topology].append(out)
                run.rounds.setdefault((query.key, c), []).append(got)
            for hub in targets:
                out = merged(slices[hub.topology])
                average = sum(loads[hub.topology]) / len(loads[hub.topology])
                run.runs[(query.key, c, hub.topology)] = Run(out, average)
                say(
                    f"  {hub.topology} {query.name} c={c}: p50 {out.p50_ms:.1f} ms, "
                    f"p99 {out.p99_ms:.1f} ms, {out.per_second:.0f} req/s, "
                    f"{out.failures} of {out.requests} failed, load {average:.1f}"
                )
                for sample in out.samples[:2]:
                    say(f"    failure: {sample}")


def _node_alone(address: str, county: Settings) -> Hub:
    """榆次区's node asked directly for the division, as the hub asks it (``_entities``
    of ``Division`` with its ``columns``, a hub token), in the division lines' turns:
    the node's part of a hop."""
    assert county.hub_key_file is not None
    signer = HubTokenSigner(HubKey.from_file(county.hub_key_file), seconds=3600)
    representations = [{"__typename": "Division", "code": COUNTY}]
    call = graphql_call(
        "/graphql", NODE_QUERY, {"representations": representations}, signer.token(AUDIT_NODE)
    )
    return Hub(NODE_ALONE, address, {}, {"division": call}, frozenset())


def _same_answers(run: TopologyRun, hubs: list[Hub]) -> None:
    first = hubs[0]
    for hub in hubs[1:]:
        for query in QUERIES:
            if hub.answers[query.key] != first.answers[query.key]:
                run.notes.append(
                    f"{query.name}: the {hub.topology} hub's answer differs from the "
                    f"{first.topology} hub's"
                )


async def _chains(settings: Settings, seconds: float) -> list[audit_cost.ChainCost]:
    """``bench.audit_cost`` on the per-county map's 榆次区 store, with its pool."""
    sized = settings.model_copy(update={"db_pool_size": audit_cost.POOL, "db_max_overflow": 0})
    nodes = NodeRegistry.from_settings(sized)
    try:
        node = nodes[AUDIT_NODE]
        return [
            await audit_cost.chain_cost(node, shared=shared, seconds=seconds)
            for shared in (True, False)
        ]
    finally:
        await nodes.dispose()


def run_topology(
    load: TopologyLoad,
    say: Callable[[str], None],
    backend: PostgresBackend | SQLiteBackend | None = None,
    logs: Path = LOGS,
) -> TopologyRun:
    """Measure the section: PostgreSQL when it answers (else SQLite), or ``backend``;
    the servers' logs under ``logs``."""
    logs.mkdir(parents=True, exist_ok=True)
    run = TopologyRun()
    if backend is None:
        backend, note = _available_backend(say)
        if note:
            run.notes.append(note)
    run.backend = "PostgreSQL + Redis" if isinstance(backend, PostgresBackend) else "SQLite"
    try:
        embedded = asyncio.run(backend.settings())
        say(f"topology: embedded map: {asyncio.run(_load(embedded))}")
        county, _key = asyncio.run(_per_county_settings(backend, embedded))
        say(f"topology: per-county map: {asyncio.run(_load(county))}")
        _measure(run, load, embedded, county, logs, say)
        if isinstance(backend, PostgresBackend):
            say(f"topology: audit chains on {AUDIT_NODE}'s store, 16 clients")
            try:
                run.chains = asyncio.run(_chains(county, load.audit_seconds))
            except (OSError, asyncpg.PostgresError, DBAPIError) as exc:
                # PostgreSQL's connections are shared with other work on the machine
                run.notes.append(f"The audit chains were not measured: {exc}")
                say(f"  not measured: {exc}")
            run.notes += [c.problem for c in run.chains if c.problem]
            for cost in run.chains:
                tps = ", ".join(f"{k} {v:.0f}/s" for k, v in cost.tps.items())
                if cost.raw is not None:
                    tps += f", plain SQL appends {cost.raw:.0f}/s"
                say(f"  {'one shared head' if cost.shared else 'a chain per division'}: {tps}")
        else:
            run.notes.append("The audit chains are measured on PostgreSQL only.")
    finally:
        asyncio.run(backend.cleanup())
    return run


def _measure(
    run: TopologyRun,
    load: TopologyLoad,
    embedded: Settings,
    county: Settings,
    logs: Path,
    say: Callable[[str], None],
) -> None:
    counties = [n for n in node_ids() if n.startswith("county-")]
    if load.counties is not None:
        counties = [n for n in counties if n in load.counties]
    with ExitStack() as stack:
        # every process with the same pools (``POOL``)
        addresses = _start_nodes(counties, _env(county), logs, stack)
        run.served_nodes = len(addresses)
        say(f"topology: {len(addresses)} county nodes serving on loopback")
        databases = {spec.id: spec.database for spec in county.node_map() if spec.database}
        remote_map = node_map(addresses, databases)
        hubs = [
            _hub("embedded", _env(embedded), frozenset(), logs, stack),
            _hub("in-process", _env(county), frozenset(), logs, stack),
            _hub(
                "loopback", _env(county, GOVHUB_NODES=remote_map), frozenset(addresses), logs, stack
            ),
        ]
        for hub in hubs:
            calls = asyncio.run(_prepare(hub, load.probes))
            for key, per_request in calls.items():
                run.calls[(key, hub.topology)] = per_request
        _same_answers(run, hubs)
        if AUDIT_NODE in addresses:
            hubs.append(_node_alone(addresses[AUDIT_NODE], county))
        with Driver() as driver:
            _rows(run, hubs, driver, load, say)


def iter_rows(run: TopologyRun, levels: tuple[int, ...]) -> Iterator[tuple[Query, int]]:
    for query in QUERIES:
        for c in levels:
            if all((query.key, c, t) in run.runs for t in TOPOLOGIES):
                yield query, c
