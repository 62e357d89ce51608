"""The speed table and the workers table, as printed by ``make bench`` and written to
bench/out/results.md, with each goal of GovHub issue 17 next to its ratio."""

from __future__ import annotations

import math

from bench import speed_protections
from bench.driver import Outcome
from bench.report import grid
from bench.speed import (
    P99_GOAL_MS,
    P99_KEYS,
    PEER_GOAL,
    PROTECTIONS_GOAL,
    SpeedLoad,
    SpeedRun,
)
from bench.speed_cases import LIST, PEER_QUERY_FILE, SPEED_CASES

SPEED_HEADERS = (
    "scenario",
    "c",
    "hub p50 ms",
    "hub p99 ms",
    "hub req/s",
    "hub failed",
    "raw p50 ms",
    "raw p99 ms",
    "raw req/s",
    "hub/raw p50",
    "goal",
    "PostGraphile req/s",
    "hub/PostGraphile req/s",
    "goal",
)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def speed_table(run: SpeedRun) -> str:
    rows = []
    for r in run.rows:
        peer_cells = ("", "", "")
        if r.peer is not None and r.peer_ratio is not None:
            ok = r.peer_ratio >= PEER_GOAL and r.hub.failures == 0 and r.peer.failures == 0
            peer_cells = (
                f"{r.peer.per_second:.0f}",
                f"{r.peer_ratio:.2f}×",
                f"≥ {PEER_GOAL}×: {_verdict(ok)}",
            )
        rows.append(
            (
                r.case.name,
                str(r.concurrency),
                _ms(r.hub.p50_ms),
                _ms(r.hub.p99_ms),
                f"{r.hub.per_second:.0f}",
                f"{r.hub.failures}/{r.hub.requests}",
                _ms(r.raw.p50_ms),
                _ms(r.raw.p99_ms),
                f"{r.raw.per_second:.0f}",
                "-" if math.isnan(r.ratio) else f"{r.ratio:.1f}×",
                f"≤ {r.case.goal:g}×: {_verdict(r.met)}",
                *peer_cells,
            )
        )
        if r.minimal is not None:
            # the write before it did the hub's work: the case row and its event only
            ratio = r.hub.p50_ms / r.minimal.p50_ms
            rows.append(
                (
                    f"{r.case.name}, against the minimal raw write (case + audit event)",
                    str(r.concurrency),
                    "",
                    "",
                    "",
                    "",
                    _ms(r.minimal.p50_ms),
                    _ms(r.minimal.p99_ms),
                    f"{r.minimal.per_second:.0f}",
                    "-" if math.isnan(ratio) else f"{ratio:.1f}×",
                    "for comparison only",
                    "",
                    "",
                    "",
                )
            )
    return grid(SPEED_HEADERS, rows, left={0, 10, 13})


def _workers_rows(run: SpeedRun) -> list[tuple[str, ...]]:
    names = {c.key: c.name for c in SPEED_CASES}
    rows: list[tuple[str, ...]] = []
    for (workers, key), out in sorted(run.workers.items()):
        ok = out.failures == 0 and out.p99_ms < P99_GOAL_MS
        rows.append(
            (
                names[key],
                str(workers),
                _ms(out.p50_ms),
                _ms(out.p99_ms),
                f"{out.per_second:.0f}",
                f"{out.failures}/{out.requests}",
                f"< {P99_GOAL_MS:g} ms: {_verdict(ok)}",
            )
        )
    return rows


def best_workers(run: SpeedRun) -> int | None:
    """The worker count with the lower worst p99 over the goal's scenarios (failures
    first: a count that fails requests never wins over one that does not)."""
    counts = sorted({w for w, _ in run.workers})

    def score(workers: int) -> tuple[int, float]:
        outs: list[Outcome] = [run.workers[(workers, k)] for k in P99_KEYS]
        return sum(o.failures for o in outs), max(o.p99_ms for o in outs)

    return min(counts, key=score) if counts else None


def workers_section(run: SpeedRun, top: int) -> str:
    if not run.workers:
        return "Workers: not measured."
    best = best_workers(run)
    table = grid(
        ("scenario", "workers", "p50 ms", "p99 ms", "req/s", "failed", "goal"),
        _workers_rows(run),
        left={0, 6},
    )
    return (
        f"Workers: the hub as served in production, {top} clients, 1 and 2 uvicorn worker "
        f"processes (goal 3: p99 < {P99_GOAL_MS:g} ms). In this run {best} "
        f"worker{'s' if best != 1 else ''} did better on this 2-core machine.\n\n{table}"
    )


def protections_section(run: SpeedRun, c: int) -> str:
    if not run.protections:
        return "Protections: not measured."
    names = {k.key: k.name for k in SPEED_CASES}
    rows = []
    for key, found in run.protections.items():
        on, off, share = found.on, found.off, found.share
        ok = on.failures == 0 and off.failures == 0 and share < PROTECTIONS_GOAL
        rows.append(
            (
                names[key],
                str(c),
                _ms(on.p50_ms),
                _ms(off.p50_ms),
                f"{share * 100:.0f} %",
                f"{found.load[0]:.1f}–{found.load[1]:.1f}",
                f"< {PROTECTIONS_GOAL * 100:.0f} % of p50: {_verdict(ok)}",
            )
        )
    table = grid(
        ("scenario", "c", "on p50 ms", "off p50 ms", "protections", "load", "goal"),
        rows,
        left={0, 6},
    )
    return (
        "Protections (goal 5): the hub as served (on) against its GraphQL view alone "
        "(off, `python -m bench.serve bare`, same stores and settings, a small pool): off leaves "
        "out all the gateway wraps around the view (request ids, CORS, metrics, body size, "
        "rate limits, idempotency, the CSRF guard, the document limits and the cost "
        "budget), so this is their sum, not each one's cost; the authorization guard, the "
        "audit of staff reads and masking live in the resolvers and are in both. The two "
        "are served at once and timed in paired slices, which goes first alternating; "
        "protections is the median over the pairs of (on − off) ÷ on, load the 1-minute "
        "load average before and after.\n\n" + table
    )


def each_protection_section(run: SpeedRun) -> str:
    found = run.each_protection
    if found is None:
        return "Each protection: not measured."
    keys = (*speed_protections.KEYS, speed_protections.STAFF_READ)
    names = {c.key: c.name for c in SPEED_CASES}
    names[speed_protections.STAFF_READ] = f"staff read of a case ({speed_protections.STAFF})"
    rows = [("all on", *(f"{_ms(found.on_p50(k))}" for k in keys), "")]
    for p in speed_protections.PROTECTIONS:
        shares = [found.share(p.key, k) for k in keys]
        worst = max((x for x in shares if not math.isnan(x)), default=math.nan)
        ok = found.failures(p.key) == 0 and not math.isnan(worst) and worst < PROTECTIONS_GOAL
        cells = [
            f"{_ms(found.outcomes[(p.key, k)].p50_ms)} ({share * 100:+.0f} %)"
            for k, share in zip(keys, shares, strict=True)
        ]
        rows.append((f"without {p.name}", *cells, _verdict(ok)))
    table = grid(
        ("hub p50 ms (share of p50)", *(names[k] for k in keys), "each < 10 % of p50"),
        rows,
        left={0},
    )
    return (
        "Each protection (goal 5): the hub as served, 1 client, with everything on and "
        "with one protection left out (`GOVHUB_BENCH_WITHOUT`, "
        "bench/speed_protections.py), all served at once; each 0.5 s slice without a "
        "protection is paired with an all-on slice next to it, and the share is the "
        "median over the pairs of (on − off) ÷ on (the p50s shown pool the slices). "
        "Differences of a few percent are within the noise of a shared machine; a "
        "negative share means the runs without were no faster.\n\n" + table
    )


def speed_notes(run: SpeedRun, load: SpeedLoad) -> list[str]:
    levels = ", ".join(str(c) for c in load.levels)
    return [
        f"Speed table: closed loop at {levels} concurrent clients, each on its own "
        f"keep-alive connection, 1 s untimed warm-up then {load.seconds:g} s timed per row "
        "(every client sends at least one timed request); acceptCase rows send "
        f"{load.accepts} prepared cases once each instead. The load comes from a driver "
        "process of its own (bench/driver.py), never the server's; one server runs at a time.",
        "Failures: any answer that is not HTTP 200, or (GraphQL) has a top-level `errors` "
        "member, NODE_UNAVAILABLE included, or a transport error; p50/p99 and req/s count "
        "successful answers only, and a row with failures never meets its goal.",
        "hub: `python -m bench.serve hub` = what `govhub serve` runs (Settings() from "
        "GOVHUB_*, mode=prod, PostgreSQL + Redis, its JSON logging with uvicorn's access "
        "lines, uvicorn's default loop and HTTP parser), with the bench's limits (rate "
        "limits and cost budget counted, high enough never to refuse one client) and the "
        "relay off. raw: bench/raw.py, a bare Starlette app with the same uvicorn setup "
        "and logging, SQLAlchemy Core on the same stores + orjson; its answer is checked "
        "to hold the hub's rows once per scenario.",
        f"PostGraphile 5 (Amber preset, bench/peer, one Node process) over the county "
        f"store's database; its query is {PEER_QUERY_FILE.name} beside the hub's "
        f"(list-query.graphql), and its answer is checked to be the hub's for "
        f"{LIST.name!r}. hub/PostGraphile compares req/s at the same concurrency.",
        "Workers: each uvicorn worker is a process with its own event loop, GIL and pools; "
        "on 2 cores that PostgreSQL, Redis and the load driver share, a second worker can "
        "only use the time the first leaves idle while it waits on the stores, and costs "
        "a second set of connections.",
        *run.notes,
    ]


def speed_section(run: SpeedRun, load: SpeedLoad) -> str:
    if not run.rows:
        return "\n".join(["Speed (issue 17): not measured.", *run.notes])
    parts = [
        "Speed (issue 17): hub vs the raw SQL + JSON endpoint on the same HTTP stack, and "
        "PostGraphile on the list query (PostgreSQL + Redis, production settings, 1 worker).",
        "",
        speed_table(run),
        "",
        workers_section(run, max(load.levels)),
        "",
        protections_section(run, load.levels[0]),
        "",
        each_protection_section(run),
        "",
        *(f"- {n}" for n in speed_notes(run, load)),
    ]
    return "\n".join(parts)
