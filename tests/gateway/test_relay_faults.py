"""The message worker stopped anywhere, and a target store that goes away: after
recovery every message is applied exactly once and none is lost.

A worker (over the in-process bus of the embedded default, which dies with it) is
stopped at the exact step where it hurts most — a message on the bus but not yet marked
SENT in its source ("published"), applied in its target before its receipt went back
("applied"), its receipt sent but the delivery not acked ("answered") — 50 times
in-process (an exception no code catches, as if the process had died there: its open
transactions are rolled back), and a few times as a real ``govhub relay --once``-like
process ended by ``os._exit`` or SIGKILL. A target store goes away as a renamed SQLite
file, or a PostgreSQL server that refuses the connection."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.app import create_app
from gateway.breakers import BreakerState, NodeBreakers
from gateway.messaging.worker import StepHook
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.store import create_store_engine
from levels.outbox.models import MessageState
from tests.conftest import BACKEND, DEMO_NOW
from tests.gateway.test_relay import (
    PAIRS,
    BreakerTime,
    applied,
    in_inbox,
    messages,
    send,
    states,
    stores,
    with_breakers,
)
from tests.support.messages import carry, carry_all

__all__ = ["stores"]  # the fixture, shared with test_relay

ROOT = Path(__file__).resolve().parents[2]


class Crash(BaseException):
    """The worker dies here: nothing after this point runs, nothing catches it."""


def crash_at(step: str, victim: str) -> StepHook:
    async def hook(at: str, message_id: str) -> None:
        if at == step and message_id == victim:
            raise Crash(step)

    return hook


@pytest.mark.parametrize("step", ["published", "applied", "answered"])
async def test_a_worker_that_dies_at_a_step_leaves_nothing_lost_or_doubled(
    stores: NodeRegistry, step: str
) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    rounds = 50 if step != "answered" else 20
    everything: list[str] = []
    for i in range(rounds):
        source, target = PAIRS[i % len(PAIRS)]
        ids = await send(stores, clock, source, target, 3)
        everything += ids
        victim = ids[1]  # the second of the batch: the first went through already
        with pytest.raises(Crash):
            await carry(stores, clock, hook=crash_at(step, victim))
        state = (await states(stores, [victim]))[victim]
        if step == "published":
            assert state is MessageState.PENDING and not await in_inbox(stores, victim)
        else:  # applied, with or without its receipt sent: a bus that is gone
            assert state is MessageState.SENT and await in_inbox(stores, victim)
        # the next pass finishes the job
        await carry(stores, clock)
        assert set((await states(stores, ids)).values()) == {MessageState.ACKNOWLEDGED}
    counts = await applied(stores)
    assert [counts[i] for i in everything] == [1] * len(everything)


RELAY_PROCESS = """
import asyncio, os, sys, time
import datetime as dt

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from tests.support.messages import carry
import tests.gateway.test_relay  # the test topic's handler

step, victim, how, now = sys.argv[1:5]

async def hook(at, message_id):
    if at == step and message_id == victim:
        if how == "exit":
            os._exit(75)
        print("stopped", flush=True)
        time.sleep(120)  # blocks the whole process until it is killed

async def main():
    nodes = NodeRegistry.from_settings(Settings())
    await carry(nodes, FixedClock(dt.datetime.fromisoformat(now)), hook=hook)
    print("finished", flush=True)

asyncio.run(main())
"""


async def run_relay_process(nodes: NodeRegistry, step: str, victim: str, how: str) -> int:
    """A worker in a process of its own, ended at ``step`` of ``victim``: by itself
    (``os._exit``) or by SIGKILL once it says it stopped there. Its exit code."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        **{f"GOVHUB_{n.name.upper()}_DB_URL": n.url for n in nodes.stores()},
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RELAY_PROCESS,
        step,
        victim,
        how,
        DEMO_NOW.isoformat(),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    if how == "kill":
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line.strip() == b"stopped"
        process.send_signal(signal.SIGKILL)
    return await asyncio.wait_for(process.wait(), 60)


@pytest.mark.parametrize(
    ("step", "how"),
    [("published", "exit"), ("applied", "exit"), ("applied", "kill"), ("answered", "kill")],
)
async def test_a_worker_process_killed_at_a_step_loses_and_doubles_nothing(
    stores: NodeRegistry, step: str, how: str
) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    ids = await send(stores, clock, Level.VILLAGE, Level.COUNTY, 4)
    code = await run_relay_process(stores, step, ids[2], how)
    assert code == (75 if how == "exit" else -signal.SIGKILL)
    victim = (await states(stores, [ids[2]]))[ids[2]]
    assert victim is (MessageState.PENDING if step == "published" else MessageState.SENT)
    assert await in_inbox(stores, ids[2]) is (step != "published")
    await carry_all(stores, clock)
    assert set((await states(stores, ids)).values()) == {MessageState.ACKNOWLEDGED}
    counts = await applied(stores)
    assert [counts[i] for i in ids] == [1, 1, 1, 1]


@asynccontextmanager
async def store_away(nodes: NodeRegistry, level: Level) -> AsyncIterator[NodeRegistry]:
    """The stores with ``level``'s gone for the duration: on SQLite its file is
    renamed (so the node finds no store where it was), on PostgreSQL the node's
    server refuses the connection. Yields the registry the worker uses meanwhile."""
    node = nodes[level]
    if BACKEND == "postgres":
        url = make_url(node.url).set(port=1).render_as_string(hide_password=False)
        engine = create_store_engine(url)
        away = dataclasses.replace(
            node, url=url, engine=engine, sessions=async_sessionmaker(engine)
        )
        try:
            yield nodes.replacing(away, breakers=nodes.breakers)
        finally:
            await engine.dispose()
        return
    path = Path(make_url(node.url).database or "")
    files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
    await node.engine.dispose()  # open connections would still reach the renamed file
    for f in files:
        if f.exists():
            f.rename(f.with_name(f.name + ".away"))
    try:
        yield nodes
    finally:
        await node.engine.dispose()
        for f in files:
            # what a connection made meanwhile in its place (an empty database) goes
            f.unlink(missing_ok=True)
            moved = f.with_name(f.name + ".away")
            if moved.exists():
                moved.rename(f)


async def test_messages_to_a_store_that_is_away_wait_and_then_arrive_once(
    stores: NodeRegistry, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    breaker_time = BreakerTime(monkeypatch)
    nodes = with_breakers(stores, NodeBreakers(failures=3, open_seconds=60))
    # one message already applied in the town (its worker died before the ack) …
    (delivered,) = await send(stores, clock, Level.CITY, Level.TOWN)
    with pytest.raises(Crash):
        await carry(nodes, clock, hook=crash_at("answered", delivered))
    # … and referrals up and down to the town, while the town's store is away
    to_town = [
        i
        for source in (Level.VILLAGE, Level.COUNTY, Level.CITY)
        for i in await send(stores, clock, source, Level.TOWN, 10)
    ]
    elsewhere = await send(stores, clock, Level.VILLAGE, Level.COUNTY, 5)
    async with store_away(nodes, Level.TOWN) as down:
        for _ in range(4):
            done = await carry(down, clock)
            assert "town" in done.down
        # the breaker opened: calls to the town fail fast instead of each timing out
        assert await nodes.breakers.state("town") is BreakerState.OPEN
        app = create_app(settings, nodes=down, clock=clock)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://govhub.test"
        ) as client:
            ready = await client.get("/health/ready")
        await app.state.broker.close()
        await app.state.identity.close()
        assert ready.status_code == 503
        assert ready.json()["nodes"] == {
            "city": "up",
            "county": "up",
            "town": "breaker open",
            "village": "up",
        }
        up = [Level.CITY, Level.COUNTY, Level.VILLAGE]
        waiting = await messages(stores, [*to_town, delivered], among=up)
        # sent, no receipt yet: a node down means waiting, not failing
        assert {waiting[i].state for i in [*to_town, delivered]} == {MessageState.SENT}
        assert {waiting[i].attempts for i in to_town} == {0}
        # the other stores went on meanwhile
        done_elsewhere = await states(stores, elsewhere, among=up)
        assert set(done_elsewhere.values()) == {MessageState.ACKNOWLEDGED}
    # back: once the breaker lets a call through, everything arrives, once
    breaker_time.offset = 61
    await carry_all(nodes, clock)
    every = [*to_town, delivered, *elsewhere]
    assert set((await states(stores, every)).values()) == {MessageState.ACKNOWLEDGED}
    counts = await applied(stores)
    assert [counts[i] for i in every] == [1] * len(every)
    assert await nodes.breakers.state("town") is BreakerState.CLOSED
