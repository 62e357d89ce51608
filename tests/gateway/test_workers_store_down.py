"""The workers with one level store down: ``govhub relay --once``, ``govhub timers
run`` and the timer pass go on with the stores that answer, name the one that does not,
and print their summary — no traceback, and nothing else stalls for the outage."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.cli import main
from gateway.nodes import NodeRegistry
from gateway.timers import fire_all
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.store import create_store_engine
from levels.idempotency.models import IdempotencyRecord
from levels.outbox.models import MessageState
from tests.conftest import BACKEND, DEMO_NOW
from tests.gateway.test_relay import cli_env, send, states, stores
from tests.support.messages import carry_all

__all__ = ["stores"]  # the fixture, shared with test_relay


def down_url(nodes: NodeRegistry, level: Level, tmp: Path) -> str:
    """Where ``level``'s store does not answer: a PostgreSQL server that refuses the
    connection, or an SQLite "file" that is a folder."""
    if BACKEND == "postgres":
        url = make_url(nodes[level].url).set(port=1)
        return url.render_as_string(hide_password=False)
    folder = tmp / "not-a-database"
    folder.mkdir(exist_ok=True)
    return f"sqlite+aiosqlite:///{folder}"


@pytest.fixture
async def town_down(stores: NodeRegistry, tmp_path: Path) -> AsyncIterator[NodeRegistry]:
    """The module's stores, the town's not answering."""
    url = down_url(stores, Level.TOWN, tmp_path)
    engine = create_store_engine(url)
    away = dataclasses.replace(
        stores[Level.TOWN], url=url, engine=engine, sessions=async_sessionmaker(engine)
    )
    yield stores.replacing(away)
    await engine.dispose()


async def test_relay_once_goes_on_without_a_store_that_is_down(
    stores: NodeRegistry, town_down: NodeRegistry
) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    elsewhere = await send(stores, clock, Level.VILLAGE, Level.COUNTY, 2)
    to_town = await send(stores, clock, Level.CITY, Level.TOWN)
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["relay", "--once"], env=cli_env(town_down, clock)
    )
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("2 applied") and summary.endswith("not answering: town")
    assert set((await states(stores, elsewhere)).values()) == {MessageState.ACKNOWLEDGED}
    # not applied: waiting in the outbox, or sent and waiting for the town's receipt (a
    # SENT message with no receipt is sent again: GOVHUB_MESSAGE_RESEND_SECONDS)
    assert set((await states(stores, to_town)).values()) <= {
        MessageState.PENDING,
        MessageState.SENT,
    }
    await carry_all(stores, clock)


async def test_timers_run_goes_on_without_a_store_that_is_down(
    stores: NodeRegistry, town_down: NodeRegistry
) -> None:
    clock = FixedClock(DEMO_NOW)
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["timers", "run"], env=cli_env(town_down, clock)
    )
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("city 0, county 0, village 0 timers fired")
    assert summary.endswith("not answering: town")


async def test_the_timer_pass_reaches_the_stores_after_the_one_that_is_down(
    stores: NodeRegistry, town_down: NodeRegistry
) -> None:
    now = DEMO_NOW
    async with stores[Level.VILLAGE].sessions.begin() as session:
        session.add(
            IdempotencyRecord(
                client="worker-test",
                operation="submitCase",
                key="past-its-retention",
                fingerprint="0" * 64,
                created_at=now - dt.timedelta(days=2),
                expires_at=now - dt.timedelta(days=1),
            )
        )
    done = await fire_all(town_down, FixedClock(now))
    assert done.down == ["town"]
    # the village comes after the town in a pass: its work was done all the same
    assert done.idempotency_purged["village"] == 1
    assert "town" not in done.timers
