"""Supervision figures over the whole demo city: ``supervision(divisionCode:
"140700000000")`` as the city auditor — every figure of every org, per level and in
total, for the demo's year so far (2026-01-01 to the hub's today) — over HTTP.

The first answer is checked (every org of the city listed, no store missing, totals
equal to the sum of the orgs) and its SQL statements counted per store; then
``load.requests`` requests (or ``load.max_seconds``), one at a time, so the latency
is the request's own and not a queue's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import orjson

from bench.measure import BenchError, Load, Timing, access_token, drive, post_graphql
from bench.report import grid
from gateway.nodes import NodeRegistry, count_statements

AUDITOR = "jz.auditor"
CITY = "140700000000"
FROM = "2026-01-01"
ORGS = 1 + 11 + 28 + 85  # the demo city's service orgs
QUERY = """
query CitySupervision($code: String!, $from: Date) {
  supervision(divisionCode: $code, from: $from) {
    from to unavailableLevels
    totals { received completed onTimeRate immediateShare compressionRate onlineRate
             atMostOneVisitShare yellowCards redCards negativeRate complaints
             ratings { total } }
    byLevel { level figures { received completed onTimeRate immediateShare } }
    byOrg { orgCode orgName level figures { received accepted completed completedOnTime
            immediate online onSite atMostOneVisit yellowCards redCards complaints
            ratings { total } negativeRate } }
  }
}
"""


@dataclass(frozen=True)
class SupervisionCost:
    backend: str
    timing: Timing
    concurrency: int  # requests in flight
    orgs: int
    received: int
    completed: int
    statements: dict[str, int]  # per store, during one request


def _check(data: dict[str, object]) -> tuple[int, int, int]:
    report = data.get("supervision")
    if not isinstance(report, dict):
        raise BenchError(f"supervision: no report in {orjson.dumps(data)[:300]!r}")
    orgs, totals = report["byOrg"], report["totals"]
    if report["unavailableLevels"] or len(orgs) != ORGS:
        raise BenchError(f"supervision: {len(orgs)} orgs, down {report['unavailableLevels']}")
    if sum(o["figures"]["received"] for o in orgs) != totals["received"]:
        raise BenchError("supervision: the orgs' received do not add up to the total")
    return len(orgs), totals["received"], totals["completed"]


async def measure_supervision(
    backend: str, client: httpx.AsyncClient, nodes: NodeRegistry, load: Load
) -> SupervisionCost:
    token = await access_token(client, AUDITOR)
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    body = orjson.dumps({"query": QUERY, "variables": {"code": CITY, "from": FROM}})
    with count_statements(nodes) as counted:
        first = await post_graphql(client, "supervision", body, headers)
    orgs, received, completed = _check(first)

    async def call() -> None:
        await post_graphql(client, "supervision", body, headers)

    timing = await drive(
        call,
        warmup=load.warmup,
        requests=load.requests,
        max_seconds=load.max_seconds,
        concurrency=1,
    )
    return SupervisionCost(backend, timing, 1, orgs, received, completed, dict(counted))


HEADERS = (
    "backend",
    "query (jz.auditor)",
    "orgs",
    "received / completed",
    "statements/req",
    "requests",
    "p50 ms",
    "p99 ms",
    "req/s",
)


def _per_store(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n) or "none"


def section(costs: Sequence[SupervisionCost]) -> str:
    """The supervision section printed under the table."""
    if not costs:
        return "Supervision figures: not measured."
    intro = (
        f'Supervision figures: `supervision(divisionCode: "{CITY}", from: "{FROM}")` as '
        f"{AUDITOR}, the whole demo city (four level stores in parallel: six GROUP BY "
        "aggregates each, plus the division and the items of referred cases), "
        "one request at a time over HTTP."
    )
    rows = [
        (
            c.backend,
            "supervision(city)",
            str(c.orgs),
            f"{c.received} / {c.completed}",
            f"{sum(c.statements.values())} ({_per_store(c.statements)})",
            str(c.timing.requests),
            f"{c.timing.p50_ms:.2f}",
            f"{c.timing.p99_ms:.2f}",
            f"{c.timing.per_second:.1f}",
        )
        for c in costs
    ]
    return intro + "\n\n" + grid(HEADERS, rows, left={0, 1, 4})
