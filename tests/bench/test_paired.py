"""Two servers timed against each other (bench/paired.py): both served at once, slices
side by side with the first one alternating, so that a change in a shared machine's
load lands on both; the protections table reads the median over the pairs."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.driver import STATUS, Call, Driver, Outcome
from bench.paired import Paired, paired
from bench.runtime import LoopThread, Served
from bench.speed import SpeedRun
from bench.speed_report import protections_section


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, list[str]]]:
    """A tiny app answering /on and /off, recording which was asked, in order."""
    asked: list[str] = []

    async def answer(request: Request) -> Response:
        asked.append(request.url.path)
        return PlainTextResponse("ok")

    async def live(_request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [Route("/on", answer), Route("/off", answer), Route("/health/live", live)]
    app = Starlette(routes=routes)
    thread = LoopThread("paired-test")
    server = Served(thread, app)
    try:
        yield server.base_url, asked
    finally:
        server.stop()
        thread.close()


def _runs(asked: list[str]) -> list[str]:
    """The order of the slices: consecutive requests to one side collapsed."""
    runs: list[str] = []
    for path in asked:
        if not runs or runs[-1] != path:
            runs.append(path)
    return runs


def test_the_two_sides_alternate_which_goes_first(served: tuple[str, list[str]]) -> None:
    base_url, asked = served
    asked.clear()
    with Driver() as driver:
        found = paired(
            driver,
            (base_url, Call("/on")),
            (base_url, Call("/off")),
            rounds=3,
            slice_seconds=0.1,
            judge=STATUS,
        )
    # warm-up on, off; round 1 on, off; round 2 off, on; round 3 on, off
    assert _runs(asked) == ["/on", "/off", "/on", "/off", "/on", "/off"]
    assert found.on.failures == 0 and found.off.failures == 0
    assert found.on.latencies and found.off.latencies
    assert len(found.shares) == 3
    assert all(x >= 0 for x in found.load)


def _outcome(p50_ms: float) -> Outcome:
    return Outcome([p50_ms / 1000] * 3, 0, 1.0, 1)


def test_the_table_reads_the_median_over_the_pairs_and_the_load() -> None:
    # pooled, on and off differ by half (the load rose while on was timed); the pairs,
    # each timed side by side, say 5 %
    found = Paired(_outcome(40.0), _outcome(20.0), [0.05, math.nan, 0.04, 0.06], (0.4, 3.2))
    assert math.isclose(found.share, 0.05)
    text = protections_section(SpeedRun(protections={"routes": found}), 1)
    row = next(line for line in text.splitlines() if line.count("|") > 3 and "40.0" in line)
    cells = [cell.strip() for cell in row.strip(" |").split("|")]
    assert cells[4] == "5 %"
    assert cells[5] == "0.4–3.2"
    assert cells[6].endswith("met") and not cells[6].endswith("NOT met")
