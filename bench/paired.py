"""Two servers timed against each other on a shared machine: both up at once, the same
request sent to each in short slices side by side, which one goes first alternating by
round, so that a change in the machine's load lands on both halves of a pair alike.

Timing one server for a few seconds and the other minutes later compares two moments
of the machine as much as two servers: on a machine shared with other work, p50 at one
client moves by 2-3x within a minute when other processes start (docs/notes/served-gap.md)."""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass

from bench.driver import GRAPHQL, Call, Driver, Outcome, Plan

# one slice of one side; a pair is two of them
SLICE_SECONDS = 0.5


def merged(parts: list[Outcome]) -> Outcome:
    """The slices of one side pooled into one outcome."""
    return Outcome(
        latencies=[x for p in parts for x in p.latencies],
        failures=sum(p.failures for p in parts),
        wall=sum(p.wall for p in parts),
        concurrency=parts[0].concurrency if parts else 1,
        samples=[x for p in parts for x in p.samples][:3],
    )


def share(on: Outcome, off: Outcome) -> float:
    """(on − off) ÷ on of p50: the part of ``on``'s p50 that ``off`` leaves out."""
    return (on.p50_ms - off.p50_ms) / on.p50_ms if on.p50_ms else math.nan


@dataclass(frozen=True)
class Paired:
    """Each side's slices pooled, and (on − off) ÷ on of each pair of adjacent slices."""

    on: Outcome
    off: Outcome
    shares: list[float]
    # the machine's 1-minute load average before and after
    load: tuple[float, float]

    @property
    def share(self) -> float:
        """The median over the pairs (steadier than the pooled p50s on a busy machine)."""
        found = [x for x in self.shares if not math.isnan(x)]
        return statistics.median(found) if found else share(self.on, self.off)


def load_average() -> float:
    return os.getloadavg()[0]


def paired(
    driver: Driver,
    on: tuple[str, Call],
    off: tuple[str, Call],
    *,
    rounds: int,
    concurrency: int = 1,
    slice_seconds: float = SLICE_SECONDS,
    judge: str = GRAPHQL,
) -> Paired:
    """``rounds`` pairs of slices of ``on`` (base URL, call) and ``off``, after an untimed
    warm-up of each."""
    before = load_average()
    for base_url, call in (on, off):
        driver.run(Plan(base_url, (call,), concurrency, slice_seconds, judge))
    slices: dict[bool, list[Outcome]] = {True: [], False: []}
    shares = []
    for n in range(rounds):
        order = (True, False) if n % 2 == 0 else (False, True)
        got = {}
        for is_on in order:
            base_url, call = on if is_on else off
            plan = Plan(base_url, (call,), concurrency, slice_seconds, judge, warmup=0.1)
            got[is_on] = driver.run(plan)
            slices[is_on].append(got[is_on])
        shares.append(share(got[True], got[False]))
    return Paired(merged(slices[True]), merged(slices[False]), shares, (before, load_average()))
