"""``govhub relay`` (the message worker over the in-process bus of the embedded
default), as an operator sees it: a message goes PENDING → SENT → ACKNOWLEDGED and its
change lands once in the target store; one that keeps failing comes again and becomes
FAILED (an incident) until someone retries it; a duplicate changes nothing; two workers
at once share the work and still apply each message once.

The messages here are of a test-only topic whose handler appends an audit event to the
target store, a change that would show twice if it were ever applied twice. The stores
are fresh ones of this module, not the demo's."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import purgatory.domain.model
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import resolvers.breakers
from gateway.breakers import BreakerOpen, BreakerState, NodeBreakers
from gateway.cli import main
from gateway.messaging.factory import embedded_messenger
from gateway.messaging.worker import REFUSED_ACTION, MessagePass, Messenger, run_forever
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditEvent
from levels.common.clock import FixedClock
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.outbox import service as outbox
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.service import Envelope, enqueue, handler
from resolvers.case_updates import case_channel
from resolvers.pubsub import MemoryBroker
from tests.conftest import BACKEND, DEMO_NOW, TEST_SECRET, make_registry
from tests.support import pg
from tests.support.messages import carry, carry_all

TOPIC = "test.relay"
APPLIED = "TEST_RELAY_APPLIED"
VILLAGE = "140702101201"  # 修文村
PAIRS = [(s, t) for s in LEVELS for t in LEVELS if s is not t]


@handler(TOPIC)
async def record_delivery(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """Append an audit event naming the message (or refuse, or break, as asked)."""
    mode = envelope.payload.get("fail")
    if mode == "refuse":
        raise DomainError(ErrorCode.LEVEL_MISMATCH, detail="refused by the test handler")
    if mode == "always":
        raise RuntimeError("the test handler broke")
    await append(
        EventDraft(
            actor_id="relay-test",
            actor_kind="SYSTEM",
            role=None,
            channel=None,
            org_code=None,
            level=envelope.target_level.value,
            action=APPLIED,
            detail={"message": envelope.id},
        ),
        session=session,
        now=now,
    )


@pytest.fixture(scope="module")
async def stores(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    """Fresh, migrated, empty level stores for this module."""
    if BACKEND == "postgres":
        await pg.require_services()
    _, nodes, created = await make_registry(
        tmp_path_factory.mktemp("relay"), f"relay_{uuid.uuid4().hex[:6]}"
    )
    yield nodes
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


def with_breakers(nodes: NodeRegistry, breakers: NodeBreakers) -> NodeRegistry:
    """The same stores behind breakers of their own."""
    return nodes.replacing(breakers=breakers)


async def send(
    nodes: NodeRegistry,
    clock: FixedClock,
    source: Level,
    target: Level,
    n: int = 1,
    **payload: object,
) -> list[str]:
    """Enqueue ``n`` test messages in the source store, committed; their ids."""
    async with nodes[source].sessions.begin() as session:
        messages = [
            await enqueue(
                session,
                topic=TOPIC,
                source=source,
                target=target,
                payload={"n": i, **payload},
                now=clock.now(),
                division_code=VILLAGE,
            )
            for i in range(n)
        ]
    return [m.id for m in messages]


async def messages(
    nodes: NodeRegistry, ids: Iterable[str], *, among: Iterable[Level] = LEVELS
) -> dict[str, OutboxMessage]:
    """These messages, from the outboxes of the stores ``among``."""
    wanted = list(ids)
    found: dict[str, OutboxMessage] = {}
    for level in among:
        async with nodes[level].sessions() as session:
            rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(wanted)))
            found.update({m.id: m for m in rows})
    return found


async def states(
    nodes: NodeRegistry, ids: Iterable[str], *, among: Iterable[Level] = LEVELS
) -> dict[str, MessageState]:
    return {i: m.state for i, m in (await messages(nodes, ids, among=among)).items()}


async def applied(nodes: NodeRegistry) -> Counter[str]:
    """How often each message's change is in its target store."""
    counts: Counter[str] = Counter()
    for node in nodes:
        async with node.sessions() as session:
            details = await session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == APPLIED)
            )
            counts.update(d["message"] for d in details)
    return counts


async def in_inbox(nodes: NodeRegistry, message_id: str) -> bool:
    for node in nodes:
        async with node.sessions() as session:
            if await session.get(InboxMessage, message_id) is not None:
                return True
    return False


def worker(nodes: NodeRegistry, clock: FixedClock, **options: object) -> Messenger:
    """A worker that lives across passes (its bus too), as the gateway's does."""
    options.setdefault("nak_delay", 0.0)
    return embedded_messenger(nodes, clock, TEST_SECRET.encode(), **options)


async def test_a_message_goes_pending_sent_acknowledged(stores: NodeRegistry) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    (mid,) = await send(stores, clock, Level.VILLAGE, Level.TOWN)
    assert await states(stores, [mid]) == {mid: MessageState.PENDING}
    seen: dict[str, MessageState] = {}

    async def look(step: str, message_id: str) -> None:
        if step == "applied":  # in the town, before its receipt went back
            seen.update(await states(stores, [message_id]))

    clock.advance(dt.timedelta(seconds=3))
    done = await carry(stores, clock, hook=look)
    assert (done.published, done.applied, done.receipts, done.failed) == (1, 1, 1, 0)
    assert seen == {mid: MessageState.SENT}
    message = (await messages(stores, [mid]))[mid]
    assert message.state is MessageState.ACKNOWLEDGED
    assert message.created_at < message.delivered_at == message.acknowledged_at
    assert message.attempts == 0 and message.last_error is None
    assert message.envelope and message.receipt
    assert (await applied(stores))[mid] == 1
    # a pass with nothing to do moves nothing
    assert not (await carry(stores, clock)).moved


async def test_every_pair_of_levels_is_carried_exactly_once(stores: NodeRegistry) -> None:
    clock = FixedClock(DEMO_NOW)
    ids = [i for s, t in PAIRS for i in await send(stores, clock, s, t, 2)]
    done = await carry_all(stores, clock, batch=5)
    assert done.applied == done.receipts == len(ids) == 24
    counts = await applied(stores)
    assert [counts[i] for i in ids] == [1] * len(ids)
    assert set((await states(stores, ids)).values()) == {MessageState.ACKNOWLEDGED}


async def test_nothing_is_sent_unless_the_source_commits(stores: NodeRegistry) -> None:
    clock = FixedClock(DEMO_NOW)
    async with stores[Level.COUNTY].sessions() as session, session.begin():
        message = await enqueue(
            session,
            topic=TOPIC,
            source=Level.COUNTY,
            target=Level.TOWN,
            payload={},
            now=clock.now(),
            division_code="140702000000",
        )
        await session.flush()
        await session.rollback()
    assert await messages(stores, [message.id]) == {}
    assert not (await carry_all(stores, clock)).moved


async def test_a_message_the_target_already_applied_is_only_marked(stores: NodeRegistry) -> None:
    clock = FixedClock(DEMO_NOW)
    (mid,) = await send(stores, clock, Level.TOWN, Level.COUNTY)
    envelope = outbox.envelope_of((await messages(stores, [mid]))[mid])
    # applied by an earlier worker that stopped before its receipt went back
    async with stores[Level.COUNTY].sessions.begin() as session:
        assert await outbox.apply(session, envelope, clock.now()) is True
    async with stores[Level.COUNTY].sessions.begin() as session:
        assert await outbox.apply(session, envelope, clock.now()) is False
    done = await carry_all(stores, clock)
    assert (done.applied, done.duplicates, done.receipts) == (0, 1, 1)
    assert (await applied(stores))[mid] == 1
    assert await states(stores, [mid]) == {mid: MessageState.ACKNOWLEDGED}


async def test_a_failing_message_comes_again_then_fails_and_is_retried(
    stores: NodeRegistry,
) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    (mid,) = await send(stores, clock, Level.CITY, Level.COUNTY, fail="always")
    messenger = worker(stores, clock, max_deliveries=3)
    await messenger.start()
    first = await messenger.once()
    # delivered, failed and sent back: still on its way, not an incident yet
    assert first.retrying >= 1 and first.applied == 0
    for _ in range(5):
        if (await states(stores, [mid]))[mid] is MessageState.FAILED:
            break
        await messenger.once()
    message = (await messages(stores, [mid]))[mid]
    assert message.state is MessageState.FAILED
    assert "RuntimeError: the test handler broke (after 3 deliveries)" in (message.last_error or "")
    # an incident: audited in the source store, the refusal in the target's
    async with stores[Level.CITY].sessions() as session:
        event = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == outbox.FAILED_ACTION)
            .order_by(AuditEvent.seq.desc())
        )
    assert event is not None and event.detail["message"] == mid
    async with stores[Level.COUNTY].sessions() as session:
        refused = await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == REFUSED_ACTION)
        )
        assert mid in [d["message"] for d in refused]
    # left alone by later passes
    clock.advance(dt.timedelta(hours=1))
    assert not (await messenger.once()).moved
    await messenger.transport.close()

    # the operator fixes the cause and retries: it goes, once
    async with stores[Level.CITY].sessions.begin() as session:
        row = await session.get(OutboxMessage, mid)
        assert row is not None
        row.payload = {"fixed": True}
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["relay", "retry", mid], env=cli_env(stores, clock)
    )
    assert result.exit_code == 0, result.output
    assert f"{mid}: PENDING again in the city store" in result.output
    retried = (await messages(stores, [mid]))[mid]
    assert (retried.state, retried.attempts) == (MessageState.PENDING, 0)
    await carry_all(stores, clock)
    assert await states(stores, [mid]) == {mid: MessageState.ACKNOWLEDGED}
    assert (await applied(stores))[mid] == 1


async def test_a_message_the_handler_refuses_fails_at_once(stores: NodeRegistry) -> None:
    clock = FixedClock(DEMO_NOW)
    (mid,) = await send(stores, clock, Level.VILLAGE, Level.CITY, fail="refuse")
    done = await carry_all(stores, clock)
    assert (done.refused, done.failed, done.retrying) == (1, 1, 0)
    message = (await messages(stores, [mid]))[mid]
    assert message.state is MessageState.FAILED
    assert "LEVEL_MISMATCH" in (message.last_error or "")
    assert not await in_inbox(stores, mid)


async def test_retry_refuses_what_is_not_failed(stores: NodeRegistry) -> None:
    clock = FixedClock(DEMO_NOW)
    (mid,) = await send(stores, clock, Level.VILLAGE, Level.TOWN)
    operator = outbox.Operator(id="test", kind="STAFF")
    async with stores[Level.VILLAGE].sessions.begin() as session:
        with pytest.raises(DomainError) as pending:
            await outbox.retry(session, mid, now=clock.now(), by=operator)
        with pytest.raises(DomainError) as missing:
            await outbox.retry(session, "0" * 32, now=clock.now(), by=operator)
    assert pending.value.code.value == "MESSAGE_NOT_FAILED"
    assert missing.value.code.value == "MESSAGE_NOT_FOUND"
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["relay", "retry", "0" * 32], env=cli_env(stores, clock)
    )
    assert result.exit_code == 1 and "MESSAGE_NOT_FOUND" in result.output
    await carry_all(stores, clock)


async def test_a_topic_without_a_handler_comes_again_and_is_not_applied(
    stores: NodeRegistry,
) -> None:
    clock = FixedClock(DEMO_NOW)
    async with stores[Level.TOWN].sessions.begin() as session:
        message = await enqueue(
            session,
            topic="test.nobody-handles-this",
            source=Level.TOWN,
            target=Level.VILLAGE,
            payload={},
            now=clock.now(),
            division_code=VILLAGE,
        )
    done = await carry(stores, clock)
    assert done.retrying >= 1 and (done.applied, done.refused) == (0, 0)
    row = (await messages(stores, [message.id]))[message.id]
    assert row.state is MessageState.SENT  # on its way again, not an incident yet
    assert not await in_inbox(stores, message.id)
    async with stores[Level.TOWN].sessions.begin() as session:
        await session.delete(await session.get(OutboxMessage, message.id))


async def test_two_workers_at_once_share_the_work_and_apply_each_message_once(
    stores: NodeRegistry, tmp_path: Path
) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    ids = [i for s, t in PAIRS for i in await send(stores, clock, s, t, 10)]
    # a second ``govhub relay --once`` process: engines (connections) of its own
    settings = Settings(var_dir=tmp_path, **{f"{n.name}_db_url": n.url for n in stores.stores()})
    other = NodeRegistry.from_settings(settings)
    try:
        passes: list[list[MessagePass]] = [[], []]

        async def relay(registry: NodeRegistry, done: list[MessagePass]) -> None:
            for _ in range(40):
                result = await carry(registry, clock, batch=7)
                done.append(result)
                if not result.moved:
                    return

        await asyncio.gather(relay(stores, passes[0]), relay(other, passes[1]))
    finally:
        await other.dispose()
    counts = await applied(stores)
    assert [counts[i] for i in ids] == [1] * len(ids) == [1] * 120
    assert set((await states(stores, ids)).values()) == {MessageState.ACKNOWLEDGED}
    work = [sum(p.applied for p in ps) for ps in passes]
    assert sum(work) == 120, work
    if BACKEND == "postgres":
        # FOR UPDATE SKIP LOCKED: each worker published messages the other did not hold
        assert all(work), work


class BreakerTime:
    """``time.time()`` and an offset: the breakers' time, moved on by a test instead of
    waited for (purgatory reads ``time.time()``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        monkeypatch.setattr(purgatory.domain.model, "time", self)
        monkeypatch.setattr(resolvers.breakers, "time", self)

    def time(self) -> float:
        return time.time() + self.offset


async def test_a_breaker_opens_after_k_failures_and_closes_when_the_node_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    breaker_time = BreakerTime(monkeypatch)
    breakers = NodeBreakers(failures=3, open_seconds=30)

    async def call(fail: Exception | None) -> None:
        async with breakers.guard("town"):
            if fail is not None:
                raise fail

    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            await call(ConnectionRefusedError())
    # a bug is not the node's fault: the node answered, the count starts again
    with pytest.raises(ValueError):
        await call(ValueError("bug"))
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            await call(ConnectionRefusedError())
    assert await breakers.state("town") is BreakerState.CLOSED
    with pytest.raises(TimeoutError):
        await call(TimeoutError())
    assert await breakers.state("town") is BreakerState.OPEN
    # open: the call is not even made
    with pytest.raises(BreakerOpen):
        await call(None)
    assert await breakers.state("city") is BreakerState.CLOSED
    breaker_time.offset = 31
    assert await breakers.state("town") is BreakerState.HALF_OPEN
    # the first call through finds the node back: closed again
    await call(None)
    assert await breakers.state("town") is BreakerState.CLOSED


def cli_env(nodes: NodeRegistry, clock: FixedClock) -> dict[str, str]:
    env = {f"GOVHUB_{n.name.upper()}_DB_URL": n.url for n in nodes.stores()}
    # the secret that opens the nodes' signing keys in their stores
    env["GOVHUB_SECRET_KEY"] = TEST_SECRET
    return env | {"GOVHUB_CLOCK_OVERRIDE": clock.now().isoformat()}


async def test_a_message_must_belong_somewhere_and_cross_levels(stores: NodeRegistry) -> None:
    async with stores[Level.TOWN].sessions() as session:
        with pytest.raises(ValueError, match="case_number or a division_code"):
            await enqueue(
                session,
                topic=TOPIC,
                source=Level.TOWN,
                target=Level.COUNTY,
                payload={},
                now=DEMO_NOW,
            )
        with pytest.raises(ValueError, match="crosses levels"):
            await enqueue(
                session,
                topic=TOPIC,
                source=Level.TOWN,
                target=Level.TOWN,
                payload={},
                now=DEMO_NOW,
                division_code=VILLAGE,
            )


async def test_the_relay_loop_tells_the_subscribers_of_a_case_it_changed(
    stores: NodeRegistry,
) -> None:
    clock = FixedClock(DEMO_NOW)
    await carry_all(stores, clock)
    case = "140702101201-20261120-00777"
    async with stores[Level.VILLAGE].sessions.begin() as session:
        await enqueue(
            session,
            topic=TOPIC,
            source=Level.VILLAGE,
            target=Level.TOWN,
            payload={},
            now=clock.now(),
            case_number=case,
        )
    broker = MemoryBroker()
    async with broker.subscribe(case_channel(case)) as updates:
        messenger = worker(stores, clock)
        loop = asyncio.create_task(run_forever(messenger, 0.01, broker=broker))
        try:
            assert await asyncio.wait_for(anext(updates), 30) == case
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
            await messenger.transport.close()
    await broker.close()
    assert set((await states(stores, await case_messages(stores, case))).values()) == {
        MessageState.ACKNOWLEDGED
    }


async def case_messages(nodes: NodeRegistry, case: str) -> list[str]:
    async with nodes[Level.VILLAGE].sessions() as session:
        ids = await session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.case_number == case)
        )
        return list(ids)
