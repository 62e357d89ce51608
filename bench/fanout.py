"""Cross-level fan-out: what a query that spans the four level stores costs against the
same query kept to one store.

The auditor of 晋中市 (city-wide jurisdiction) asks for ``cases(first: 20)`` and
``auditEvents(first: 20)``: without a level filter the hub queries the city, county,
town and village stores in parallel and merges their pages; with ``filter: {level: X}``
it queries that store alone. Before timing, cases are handed in at each level's counter
until every store holds a full page (20 + 1) the auditor may read, so each single-store
query fetches as many rows as each branch of the fan-out. The ten requests then go
round-robin, one at a time over HTTP (so a slow moment of the machine falls on all of
them alike), and the figure is the fan-out's p50 over the slowest single store's p50."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import orjson

from bench.desk import OWN_COUNTERS, submit_cases
from bench.measure import BenchError, HubGraphQL, Load, Timing, access_token, post_graphql
from bench.report import grid
from gateway.nodes import NodeRegistry, count_statements
from levels.common.enums import LEVELS, Level

AUDITOR = "jz.auditor"
PAGE = 20
# at most this many timed rounds (each sends every request once)
ROUNDS = 200

QUERIES = {
    "cases": """
query AuditorCases($first: Int!, $filter: CaseFilter) {
  cases(filter: $filter, first: $first) {
    edges { node { number status level matterName submittedAt } }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    "auditEvents": """
query AuditorEvents($first: Int!, $filter: AuditFilter) {
  auditEvents(filter: $filter, first: $first) {
    edges { node { seq at level action caseNumber actorKind } }
    pageInfo { hasNextPage endCursor }
  }
}
""",
}


@dataclass(frozen=True)
class Probe:
    """One request of the section: a connection field, over every level or one."""

    field: str
    level: Level | None  # None: no filter, the four stores in parallel

    @property
    def query(self) -> str:
        return f"{self.field}(first: {PAGE})"

    @property
    def levels(self) -> str:
        return "all 4, in parallel" if self.level is None else self.level.value

    def body(self) -> bytes:
        variables: dict[str, object] = {"first": PAGE}
        if self.level is not None:
            variables["filter"] = {"level": self.level.value}
        return orjson.dumps({"query": QUERIES[self.field], "variables": variables})


PROBES = tuple(Probe(f, lv) for f in QUERIES for lv in (None, *LEVELS))


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    timing: Timing
    edges: int
    statements: dict[str, int]  # per store, during one request


@dataclass(frozen=True)
class FanOut:
    backend: str
    seeded: dict[Level, int]  # cases handed in so that every store had a full page
    warmup: int  # untimed rounds
    results: list[ProbeResult]

    def slowest_single(self, field: str) -> ProbeResult | None:
        singles = [r for r in self.results if r.probe.field == field and r.probe.level]
        return max(singles, key=lambda r: r.timing.p50_ms, default=None)

    def fanned(self, field: str) -> ProbeResult | None:
        return next(
            (r for r in self.results if r.probe.field == field and r.probe.level is None), None
        )

    def ratio(self, field: str) -> float:
        fanned, slowest = self.fanned(field), self.slowest_single(field)
        if fanned is None or slowest is None or not slowest.timing.p50_ms:
            return math.nan
        return fanned.timing.p50_ms / slowest.timing.p50_ms

    def excess_ms(self, field: str) -> float:
        """The fan-out's p50 minus the slowest single store's."""
        fanned, slowest = self.fanned(field), self.slowest_single(field)
        if fanned is None or slowest is None:
            return math.nan
        return fanned.timing.p50_ms - slowest.timing.p50_ms


def _edges(data: dict[str, object], field: str) -> int:
    connection = data.get(field)
    edges = connection.get("edges") if isinstance(connection, dict) else None
    if not isinstance(edges, list):
        raise BenchError(f"{field}: no connection in {orjson.dumps(data)[:300]!r}")
    return len(edges)


async def _seed(client: httpx.AsyncClient, concurrency: int) -> dict[Level, int]:
    """Hand in cases at each level's counter until the auditor sees a full page there."""
    graphql = HubGraphQL(client)
    seeded: dict[Level, int] = {}
    for level in LEVELS:
        probe = Probe("cases", level)
        variables = {"first": PAGE + 1, "filter": {"level": level.value}}
        data = await graphql(QUERIES[probe.field], variables, bearer=AUDITOR)
        missing = PAGE + 1 - _edges(data, probe.field)
        if missing > 0:
            await submit_cases(graphql, OWN_COUNTERS[level], missing, concurrency)
        seeded[level] = max(missing, 0)
    return seeded


async def measure_fanout(
    backend: str, client: httpx.AsyncClient, nodes: NodeRegistry, load: Load
) -> FanOut:
    seeded = await _seed(client, load.concurrency)
    token = await access_token(client, AUDITOR)
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    bodies = {probe: probe.body() for probe in PROBES}

    async def send(probe: Probe) -> dict[str, object]:
        name = f"{probe.query} over {probe.levels}"
        return await post_graphql(client, name, bodies[probe], headers)

    # the first of each, with its statements counted; every response must be a clean
    # page (a store not answering would come back as an error and stop the run)
    edges: dict[Probe, int] = {}
    statements: dict[Probe, dict[str, int]] = {}
    for probe in PROBES:
        with count_statements(nodes) as counted:
            data = await send(probe)
        edges[probe] = _edges(data, probe.field)
        statements[probe] = dict(counted)
    for _ in range(load.warmup):
        for probe in PROBES:
            await send(probe)
    latencies: dict[Probe, list[float]] = {probe: [] for probe in PROBES}
    deadline = time.perf_counter() + load.max_seconds * len(PROBES)
    rounds = min(load.requests, ROUNDS)
    for turn in range(rounds):
        if turn and time.perf_counter() > deadline:
            break
        # each round starts one further along, so no request always follows the same one
        shift = turn % len(PROBES)
        for probe in (*PROBES[shift:], *PROBES[:shift]):
            t0 = time.perf_counter()
            await send(probe)
            latencies[probe].append(time.perf_counter() - t0)
    results = [
        ProbeResult(probe, Timing(latencies[probe], sum(latencies[probe])), edges[probe], s)
        for probe, s in statements.items()
    ]
    return FanOut(backend, seeded, load.warmup, results)


HEADERS = (
    "backend",
    "query (jz.auditor)",
    "levels",
    "edges",
    "statements/req",
    "requests",
    "p50 ms",
    "p99 ms",
    "fan-out p50 ÷ slowest single p50",
)


def _rows(run: FanOut) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for field in QUERIES:
        slowest = run.slowest_single(field)
        for r in run.results:
            if r.probe.field != field:
                continue
            levels = r.probe.levels + (" (slowest)" if r is slowest else "")
            rows.append(
                (
                    run.backend,
                    r.probe.query,
                    levels,
                    str(r.edges),
                    str(sum(r.statements.values())),
                    str(r.timing.requests),
                    f"{r.timing.p50_ms:.2f}",
                    f"{r.timing.p99_ms:.2f}",
                    (
                        f"{run.ratio(field):.2f}× ({run.excess_ms(field):+.2f} ms)"
                        if r.probe.level is None
                        else ""
                    ),
                )
            )
    return rows


def _per_store(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n) or "none"


def section(runs: Sequence[FanOut]) -> str:
    """The fan-out section printed under the table."""
    if not runs:
        return "Cross-level fan-out: not measured."
    intro = (
        f"Cross-level fan-out: `cases(first: {PAGE})` and `auditEvents(first: {PAGE})` as "
        f"{AUDITOR} (晋中市, city-wide), without a level filter (the four level stores "
        "queried in parallel and merged) and with `filter: {level: X}` (that store alone); "
        f"the {len(PROBES)} requests round-robin, one at a time over HTTP, after "
        f"{runs[0].warmup} untimed rounds; the ratio is the fan-out's p50 over the slowest "
        "single store's p50 (1× would mean the fan-out costs no more than its slowest "
        "branch), with the difference in ms."
    )
    rows = [row for run in runs for row in _rows(run)]
    lines = [intro, "", grid(HEADERS, rows, {0, 1, 2}), ""]
    for run in runs:
        seeded = ", ".join(f"{lv.value} {n}" for lv, n in run.seeded.items() if n) or "none"
        stores = "; ".join(
            f"{r.probe.query} over {r.probe.levels}: {_per_store(r.statements)}"
            for r in run.results
            if r.probe.level is None
        )
        lines.append(
            f"- {run.backend}: cases handed in at a counter first so that every store had "
            f"{PAGE + 1} the auditor may read: {seeded}. Statements of one fan-out request "
            f"per store: {stores}."
        )
    return "\n".join(lines)
