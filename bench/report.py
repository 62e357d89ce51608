"""The results table (plain text with aligned columns, which is also a Markdown table)
and the notes under it."""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Sequence
from pathlib import Path

from bench.measure import Load, Result
from bench.scenarios import Scenario

HEADERS = (
    "backend",
    "scenario",
    "requests",
    "p50 ms",
    "p99 ms",
    "req/s",
    "statements/req",
    "baseline p50 ms",
    "hub/baseline",
)
# text columns are left-aligned, numbers right-aligned
LEFT = {0, 1}


def _row(r: Result) -> tuple[str, ...]:
    return (
        r.backend,
        r.scenario.name,
        str(r.hub.requests),
        f"{r.hub.p50_ms:.2f}",
        f"{r.hub.p99_ms:.2f}",
        f"{r.hub.per_second:.1f}",
        str(r.statements_total),
        f"{r.baseline.p50_ms:.3f}",
        f"{r.ratio:.1f}×",
    )


def grid(headers: Sequence[str], rows: Sequence[Sequence[str]], left: set[int]) -> str:
    """Aligned columns (``left`` ones left-aligned): plain text that is also Markdown."""
    everything = [headers, *rows]
    widths = [max(len(row[i]) for row in everything) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 2)) if i in left else ("-" * (w + 1) + ":") for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def table(results: Sequence[Result]) -> str:
    return grid(HEADERS, [_row(r) for r in results], LEFT)


def _per_store(counts: dict[str, int]) -> str:
    shown = [f"{name} {n}" for name, n in counts.items() if n]
    return ", ".join(shown) or "none"


def notes(
    results: Sequence[Result], scenarios: Sequence[Scenario], load: Load, skipped: Sequence[str]
) -> list[str]:
    out = [
        f"Load: {load.warmup} warm-up requests, then up to {load.requests} requests or "
        f"{load.max_seconds:g} s per scenario, {load.concurrency} in flight; HTTP/1.1 over "
        "loopback to uvicorn serving create_app(mode=prod) in a thread of the same process "
        "(the httpx client shares the GIL with the hub, so its p50 includes queueing: "
        "the speed table above drives load from a process of its own), without its "
        "in-process relay (relay_interval_seconds=0: the referral section runs the relay "
        "passes itself).",
        "statements/req: SQL statements (before_cursor_execute on every store's engine) "
        "during one request after the measured run, summed over the stores; the "
        "baseline's, during one call after a first untimed one.",
        "Baseline: the same rows fetched in-process on the stores' own engines with "
        "SQLAlchemy Core and serialised with orjson; same number of calls and the same "
        "concurrency as the hub; hub/baseline = hub p50 / baseline p50.",
    ]
    for scenario in scenarios:
        out.append(f"Baseline of {scenario.name!r}: {scenario.baseline_note}.")
        if scenario.prepare is not None:
            out.append(f"Prepared for {scenario.name!r}: {scenario.prepare_note}.")
        if scenario.max_requests is not None:
            capped = load.for_scenario(scenario)
            out.append(
                f"{scenario.name!r} is capped at {capped.requests} requests after "
                f"{capped.warmup} warm-up ones (hub, baseline and raw HTTP alike)."
            )
    for r in results:
        out.append(
            f"{r.backend} / {r.scenario.name}: hub statements {_per_store(r.statements)}; "
            f"baseline statements {_per_store(r.baseline_statements)}; "
            f"{'' if r.edges is None else f'{r.edges} edges, '}"
            f"response data {r.response_bytes} B, baseline JSON {r.baseline_bytes} B."
        )
    out.extend(skipped)
    return out


def header() -> str:
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    )
    return (
        f"# GovHub benchmark\n\nRun {stamp} ({machine}) by `make bench`. "
        "Reporting only: no timing is asserted."
    )


def markdown(
    results: Sequence[Result],
    scenarios: Sequence[Scenario],
    load: Load,
    skipped: Sequence[str],
    sections: Sequence[str] = (),
) -> str:
    """The in-process table, then each of ``sections`` (already formatted), then the
    notes."""
    lines = [
        "In-process table (statements per request; the hub against its baselines on the "
        "stores' own engines):",
        "",
        table(results),
        "",
        *(line for section in sections for line in (section, "")),
        *(f"- {n}" for n in notes(results, scenarios, load, skipped)),
    ]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
