"""The per-county topology section of ``make bench`` (``bench.topology``): one line per
query and concurrency with the three hubs side by side, the hop costs against the
federation goals, and the audit chains' throughput."""

from __future__ import annotations

import math
import statistics

from bench.driver import Outcome
from bench.report import grid
from bench.topology import (
    AUDIT_NODE,
    CHAINS_GOAL,
    IN_PROCESS_GOAL,
    LOOPBACK_GOAL_MS,
    NODE_ALONE,
    POOL,
    TOPOLOGIES,
    TopologyLoad,
    TopologyRun,
    iter_rows,
)

HEADERS = (
    "query",
    "c",
    "(a) embedded p50 / p99",
    "(b) per-county in-process p50 / p99",
    "(c) per-county loopback p50 / p99",
    "HTTP calls/req",
    "(b) ÷ (a) − 1 (≤ 20 %)",
    "(c) − (b) per call (≤ 2 ms)",
    "load avg a / b / c",
)


def _cell(out: Outcome) -> str:
    text = f"{out.p50_ms:.1f} / {out.p99_ms:.1f}"
    return f"{text} ({out.failures} of {out.requests} failed)" if out.failures else text


def _median(values: list[float]) -> float:
    found = [v for v in values if not math.isnan(v)]
    return statistics.median(found) if found else math.nan


def in_process_cost(run: TopologyRun, key: str, c: int) -> float:
    """(b) p50 ÷ (a) p50 − 1, the median over the rounds (pooled when no round has both)."""
    per_round = [
        r["in-process"].p50_ms / r["embedded"].p50_ms - 1 for r in run.rounds.get((key, c), [])
    ]
    found = _median(per_round)
    if math.isnan(found):
        a = run.runs[(key, c, "embedded")].outcome
        b = run.runs[(key, c, "in-process")].outcome
        return b.p50_ms / a.p50_ms - 1
    return found


def loopback_cost_ms(run: TopologyRun, key: str, c: int) -> float:
    """(c) p50 − (b) p50 per HTTP node call, the median over the rounds (NaN without any
    call)."""
    calls = run.calls.get((key, "loopback"), 0.0)
    if calls <= 0:
        return math.nan
    per_round = [
        (r["loopback"].p50_ms - r["in-process"].p50_ms) / calls
        for r in run.rounds.get((key, c), [])
    ]
    found = _median(per_round)
    if math.isnan(found):
        b = run.runs[(key, c, "in-process")].outcome
        cc = run.runs[(key, c, "loopback")].outcome
        return (cc.p50_ms - b.p50_ms) / calls
    return found


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def _failed(run: TopologyRun, key: str, c: int) -> bool:
    return any(run.runs[(key, c, t)].outcome.failures for t in TOPOLOGIES)


def chain_ratios(run: TopologyRun) -> dict[str, float]:
    """One chain per division ÷ one shared head, per op."""
    shared = next((c for c in run.chains if c.shared), None)
    divided = next((c for c in run.chains if not c.shared), None)
    if shared is None or divided is None:
        return {}
    return {op: divided.tps[op] / shared.tps[op] for op in divided.tps if shared.tps.get(op)}


def topology_section(run: TopologyRun, load: TopologyLoad) -> str:
    lines = [
        "## Per-county topology",
        "",
        f"{run.backend}; the hub served as `govhub serve` runs it over (a) the embedded "
        "default map, (b) the per-county map in its process (12 nodes, read by SQL), "
        f"(c) the same map with {run.served_nodes} county nodes as `govhub node serve` "
        f"processes on loopback; closed loop from another process; per line, {load.warmup:g} s of "
        f"warm-up per hub, then the three hubs take turns in slices of "
        f"{load.slice_seconds:g} s (order rotating, {load.seconds:g} s each in all), so "
        "the machine's load lands on the three alike; p50 / p99 in ms of each hub's "
        "slices pooled; the hop costs are the median over the rounds; HTTP calls per "
        "request counted on `govhub_node_calls_total` of (c)'s hub for its nodes with an "
        "address; load average: mean 1-minute load at the hub's slices; every process "
        f"with pools of {POOL[0]} + {POOL[1]} connections per store.",
        "",
    ]
    rows = []
    for query, c in iter_rows(run, load.levels):
        runs = [run.runs[(query.key, c, t)] for t in TOPOLOGIES]
        hop = in_process_cost(run, query.key, c)
        per_call = loopback_cost_ms(run, query.key, c)
        failed = _failed(run, query.key, c)
        hop_text = f"{hop * 100:+.0f} % ({_verdict(hop <= IN_PROCESS_GOAL and not failed)})"
        call_text = (
            "—"
            if math.isnan(per_call)
            else f"{per_call:+.2f} ms ({_verdict(per_call <= LOOPBACK_GOAL_MS and not failed)})"
        )
        rows.append(
            (
                query.name,
                str(c),
                *(_cell(r.outcome) for r in runs),
                f"{run.calls.get((query.key, 'loopback'), math.nan):.1f}",
                hop_text,
                call_text,
                " / ".join(f"{r.load:.1f}" for r in runs),
            )
        )
    if rows:
        lines.append(grid(HEADERS, rows, {0}))
    else:
        lines.append("No row was measured.")
    alone = _node_alone(run, load)
    if alone:
        lines += ["", alone]
    if run.chains:
        lines += ["", _chains_table(run)]
    if run.notes:
        lines.append("")
        lines += [f"- {note}" for note in run.notes]
    return "\n".join(lines)


def _node_alone(run: TopologyRun, load: TopologyLoad) -> str:
    """The node's part of the division's hop, asked directly in the same turns."""
    parts = []
    for c in load.levels:
        found = run.runs.get(("division", c, NODE_ALONE))
        if found is None:
            continue
        out = found.outcome
        hop = loopback_cost_ms(run, "division", c)
        parts.append(
            f"{out.p50_ms:.1f} / {out.p99_ms:.1f} ms at {c} client(s) (against a hop of "
            f"{hop:+.1f} ms)"
        )
    if not parts:
        return ""
    return (
        f"{AUDIT_NODE}'s node asked directly for the division, as the hub asks it "
        "(`_entities` of `Division` with its `columns`, a hub token), in the division "
        f"lines' turns: p50 / p99 {'; '.join(parts)}. The rest of a hop is the hub's "
        "side: its client, the token, the row decoded."
    )


def _chains_table(run: TopologyRun) -> str:
    ops = list(run.chains[0].tps)
    headers = (
        "audit chains (county-140702, 16 clients, pool 6)",
        *ops,
        "append alone, plain SQL",
        "load avg",
    )
    rows = [
        (
            "one shared chain head (as one chain per store)"
            if cost.shared
            else "one chain per division (16)",
            *(f"{cost.tps[op]:.0f} tps" for op in ops),
            "—" if cost.raw is None else f"{cost.raw:.0f} tps",
            f"{cost.load:.1f}",
        )
        for cost in run.chains
    ]
    ratios = chain_ratios(run)
    shared = next(c for c in run.chains if c.shared)
    divided = next(c for c in run.chains if not c.shared)
    raw = "—"
    if shared.raw and divided.raw:
        raw = f"{divided.raw / shared.raw:.1f}×"
    rows.append(
        (
            f"per division ÷ shared (≥ {CHAINS_GOAL:g}×)",
            *(
                f"{ratios[op]:.1f}× ({_verdict(ratios[op] >= CHAINS_GOAL)})"
                if op in ratios
                else "—"
                for op in ops
            ),
            raw,
            "",
        )
    )
    return grid(headers, rows, {0})
