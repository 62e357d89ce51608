"""Operating cross-node messages: two workers on one JetStream durable consumer apply
each message exactly once; ``govhub messages dead`` lists the incidents and gives one
up, ``govhub messages retry`` sends it again; ``/metrics`` shows each node's backlog
and oldest waiting message, the stream's backlog, redeliveries and incidents."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.cli import main
from gateway.messaging.jetstream import JetStreamTransport
from gateway.messaging.worker import Messenger, node_keys
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.outbox import signing
from levels.outbox.models import MessageState, OutboxMessage
from levels.outbox.service import ABANDONED_ACTION
from tests.conftest import BACKEND, DEMO_NOW, TEST_SECRET, make_registry
from tests.gateway.test_message_transport import (
    APPLIED,
    NATS_URL,
    _nats_transport,
    send,
    sign_rows,
)
from tests.gateway.test_observability import value
from tests.support import pg


@pytest.fixture(scope="module")
async def made(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("msgops"), f"msgops_{uuid.uuid4().hex[:6]}"
    )
    yield settings, nodes
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


@pytest.fixture
def stores(made: tuple[Settings, NodeRegistry]) -> NodeRegistry:
    return made[1]


def messenger(nodes: NodeRegistry, transport: Any, **options: Any) -> Messenger:
    return Messenger(
        nodes,
        transport,
        FixedClock(DEMO_NOW),
        signing.NodeSigner(TEST_SECRET.encode()),
        node_keys(nodes),
        nak_delay=0.05,
        **options,
    )


async def applied_counts(nodes: NodeRegistry, level: Level, ids: list[str]) -> dict[str, int]:
    async with nodes[level].sessions() as session:
        details = await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == APPLIED)
        )
        counts = dict.fromkeys(ids, 0)
        for d in details:
            if d["message"] in counts:
                counts[d["message"]] += 1
        return counts


async def test_two_workers_on_one_durable_consumer_apply_each_message_once(
    stores: NodeRegistry,
) -> None:
    """Two replicas of ``govhub relay``: each its own NATS connection, the same stream
    and durable consumers; they publish and consume at once."""
    first = await _nats_transport(5.0)
    second = JetStreamTransport(NATS_URL, stream=first.stream, prefix=first.prefix, ack_wait=5.0)
    # small batches, so that both take part
    a, b = messenger(stores, first, batch=4), messenger(stores, second, batch=4)
    try:
        await a.start()
        await b.start()
        ids = []
        for n in range(6):  # three entities of four ordered messages, and loose ones
            ids += await send(
                stores,
                Level.VILLAGE,
                Level.TOWN,
                "grant",
                "revoke",
                "grant",
                "revoke",
                entity=f"delegation:{uuid.uuid4().hex[:8]}" if n % 2 else None,
            )
        ids += await send(stores, Level.TOWN, Level.COUNTY, *["grant"] * 8)
        for _ in range(100):
            await asyncio.gather(a.once(), b.once())
            async with stores[Level.VILLAGE].sessions() as s1, stores[Level.TOWN].sessions() as s2:
                states = set(
                    await s1.scalars(select(OutboxMessage.state).where(OutboxMessage.id.in_(ids)))
                ) | set(
                    await s2.scalars(select(OutboxMessage.state).where(OutboxMessage.id.in_(ids)))
                )
            if states == {MessageState.ACKNOWLEDGED}:
                break
            await asyncio.sleep(0.05)
        assert states == {MessageState.ACKNOWLEDGED}
        town = await applied_counts(stores, Level.TOWN, ids[:24])
        county = await applied_counts(stores, Level.COUNTY, ids[24:])
        assert set(town.values()) == {1} and set(county.values()) == {1}
        # between them the two applied each message once (the rest were duplicates)
        applied = [sum(m.stats.applied.get(n, 0) for m in (a, b)) for n in ("town", "county")]
        assert applied == [24, 8]
    finally:
        await first.delete_stream()
        await first.close()
        await second.close()


def cli(made: tuple[Settings, NodeRegistry], *args: str) -> Any:
    nodes = made[1]
    env = {f"GOVHUB_{n.name.upper()}_DB_URL": n.url for n in nodes.stores()}
    env |= {"GOVHUB_CLOCK_OVERRIDE": DEMO_NOW.isoformat(), "GOVHUB_SECRET_KEY": TEST_SECRET}
    return CliRunner().invoke(main, list(args), env=env)


async def test_messages_dead_lists_incidents_gives_one_up_and_retry_sends_it_again(
    made: tuple[Settings, NodeRegistry], stores: NodeRegistry
) -> None:
    entity = f"licence:{uuid.uuid4().hex[:8]}"
    ids = await send(stores, Level.TOWN, Level.CITY, "issue", entity=entity)
    async with stores[Level.TOWN].sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[0])
            .values(state=MessageState.FAILED, last_error="refused by its target: no handler")
        )
    listed = await asyncio.to_thread(cli, made, "messages", "dead")
    assert listed.exit_code == 0, listed.output
    (line,) = [x for x in listed.output.splitlines() if x.startswith(ids[0])]
    assert f"  town  test.transport  {entity}#1  " in line and "no handler" in line

    dead = await asyncio.to_thread(cli, made, "messages", "dead", ids[0])
    assert dead.exit_code == 0 and "DEAD in the town store" in dead.output
    assert ids[0] not in (await asyncio.to_thread(cli, made, "messages", "dead")).output
    async with stores[Level.TOWN].sessions() as session:
        row = await session.get(OutboxMessage, ids[0])
        assert row is not None and row.state is MessageState.DEAD
        audited = await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == ABANDONED_ACTION)
        )
        assert [d["message"] for d in audited] == [ids[0]]
    again = await asyncio.to_thread(cli, made, "messages", "dead", ids[0])
    assert again.exit_code == 1 and "MESSAGE_NOT_FAILED" in again.output

    retried = await asyncio.to_thread(cli, made, "messages", "retry", ids[0])
    assert retried.exit_code == 0 and "PENDING again in the town store" in retried.output
    # the old name still works (and says a PENDING message cannot be retried)
    alias = await asyncio.to_thread(cli, made, "relay", "retry", ids[0])
    assert alias.exit_code == 1 and "MESSAGE_NOT_FAILED" in alias.output
    unknown = await asyncio.to_thread(cli, made, "messages", "dead", "0" * 32)
    assert unknown.exit_code == 1 and "MESSAGE_NOT_FOUND" in unknown.output


@pytest.fixture
async def hub(made: tuple[Settings, NodeRegistry]) -> AsyncIterator[Starlette]:
    settings = made[0].model_copy(
        update={"message_max_deliveries": 2, "message_nak_delay_seconds": 0.05}
    )
    yield create_app(settings, nodes=made[1], clock=FixedClock(DEMO_NOW))


async def test_metrics_show_backlog_oldest_waiting_redeliveries_and_incidents(
    hub: Starlette, stores: NodeRegistry
) -> None:
    worker: Messenger = hub.state.messenger
    await worker.start()
    # message 2 of an entity whose message 1 never comes; and one not due for an hour,
    # written an hour ago
    entity = f"delegation:{uuid.uuid4().hex[:8]}"
    first, second = await send(stores, Level.VILLAGE, Level.TOWN, "grant", "revoke", entity=entity)
    envelopes = await sign_rows(stores, Level.VILLAGE, [first, second])
    (waiting,) = await send(stores, Level.VILLAGE, Level.COUNTY, "grant")
    async with stores[Level.VILLAGE].sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == waiting)
            .values(
                created_at=DEMO_NOW - dt.timedelta(hours=1),
                next_attempt_at=DEMO_NOW + dt.timedelta(hours=1),
            )
        )
    await worker.transport.publish("town", second, envelopes[second].encode())
    for _ in range(40):  # until the refusal receipt has made it FAILED at the village
        await worker.once()
        async with stores[Level.VILLAGE].sessions() as session:
            row = await session.get(OutboxMessage, second)
            assert row is not None
        if row.state is MessageState.FAILED:
            break
        await asyncio.sleep(0.06)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=hub), base_url="http://hub"
    ) as http:
        text = (await http.get("/metrics")).text
    assert value(text, "govhub_messages_redelivered_total", node="town") >= 1
    assert value(text, "govhub_messages_incidents_total", node="town") == 1
    assert value(text, "govhub_messages_applied_total", node="town") == 0
    # the village's first message waits SENT, its second FAILED, one PENDING an hour old
    assert value(text, "govhub_relay_backlog", node="village", state="SENT") >= 1
    assert value(text, "govhub_relay_backlog", node="village", state="FAILED") >= 1
    assert value(text, "govhub_relay_backlog", node="village", state="PENDING") >= 1
    assert value(text, "govhub_messages_oldest_pending_seconds", node="village") >= 3600
    assert value(text, "govhub_messages_stream_pending", stream="inprocess", node="town") == 0
