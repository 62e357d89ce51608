"""A case referred then withdrawn on its way (转报, then 撤回) ends withdrawn at the
org it was referred to, exactly once, whatever the delivery order: the station's two
signed envelopes — the referral and the withdrawal that follows it — delivered shuffled
and duplicated (seeded permutations, several seeds), on every transport, with the real
handlers. A withdrawal delivered first waits for the referral.

The demo city: a 修文村 resident's 残疾人证核发 (decided by 榆次区, nobody reviews first)
is received at the village station and referred straight to the county."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from gateway.demo import load_demo
from gateway.messaging.transport import InProcessBus, Transport
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.enums import Level
from levels.outbox import signing
from levels.outbox.models import MessageState, OutboxMessage
from tests.auth.conftest import own_hub
from tests.conftest import BACKEND, DEMO_NOW, make_registry
from tests.gateway.test_message_order import NAK, SEEDS, _messenger, sign
from tests.scenarios.desk import Desk
from tests.scenarios.test_referral import DISABILITY_CARD, RESIDENT4_ID, refer
from tests.support import pg

# an hour before the messenger's clock (DEMO_NOW) runs
RECEIVED = DEMO_NOW - dt.timedelta(hours=1)


@pytest.fixture(scope="module")
async def city(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """The demo city of this module, its demo messages carried to the end."""
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("withdrawal"), f"withdrawal_{uuid.uuid4().hex[:6]}"
    )
    await load_demo(nodes, secret=settings.identity_secret())
    messenger = _messenger(nodes, InProcessBus())
    await messenger.start()
    for _ in range(10):
        if not (await messenger.once()).moved:
            break
    yield settings, nodes
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


async def refer_then_withdraw(settings: Settings, nodes: NodeRegistry, seed: int) -> str:
    """The station receives and refers a case; its applicant withdraws it before the
    relay ran: the case number (both messages wait in the village's outbox)."""
    async with own_hub(settings, nodes) as hub:
        desk = Desk(hub)
        await desk.travel(RECEIVED + dt.timedelta(minutes=seed))
        submitted = await desk.submit(
            "xiuwencun.receptionist",
            DISABILITY_CARD,
            await desk.materials("000700400100"),
            channel="COUNTER",
            applicantIdNumber=RESIDENT4_ID,
        )
        assert submitted["errors"] == [], submitted
        number: str = submitted["case"]["number"]
        assert (await refer(desk, "xiuwencun.receptionist", number))["errors"] == []
        assert (await desk.act("resident4", "withdrawCase", number=number))["errors"] == []
    return number


async def messages_of(nodes: NodeRegistry, number: str) -> list[OutboxMessage]:
    async with nodes[Level.VILLAGE].sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.case_number == number,
                    OutboxMessage.topic.in_(["case.referred", "case.withdrawn"]),
                )
                .order_by(OutboxMessage.entity_seq)
            )
        )


async def county_actions(nodes: NodeRegistry, number: str) -> list[str]:
    async with nodes[Level.COUNTY].sessions() as session:
        return list(
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.case_number == number)
                .order_by(AuditEvent.at, AuditEvent.seq)
            )
        )


@pytest.mark.parametrize("seed", SEEDS)
async def test_shuffled_duplicated_deliveries_end_withdrawn_once(
    city: tuple[Settings, NodeRegistry], transport: Transport, seed: int
) -> None:
    settings, nodes = city
    number = await refer_then_withdraw(settings, nodes, seed)
    messages = await messages_of(nodes, number)
    assert [(m.topic, m.entity_seq) for m in messages] == [
        ("case.referred", 1),
        ("case.withdrawn", 2),
    ]
    ids = [m.id for m in messages]
    envelopes = await sign(nodes, Level.VILLAGE, ids)
    # each envelope one to three times, under ids of its own, in a seeded order; the
    # withdrawal comes first at least once
    rng = random.Random(seed)
    deliveries: list[tuple[str, str, bytes]] = [
        (target, f"{signing.digest(envelope)[:16]}.{copy}", envelope.encode())
        for target, envelope in envelopes
        for copy in range(rng.randint(1, 3))
    ]
    rng.shuffle(deliveries)
    withdrawal = envelopes[1][1].encode()
    first = next(i for i, d in enumerate(deliveries) if d[2] == withdrawal)
    deliveries.insert(0, deliveries.pop(first))

    messenger = _messenger(nodes, transport)
    await messenger.start()
    for target, msg_id, data in deliveries:
        assert await transport.publish(target, msg_id, data)
    for _ in range(200):
        done = await messenger.once()
        assert done.refused == 0
        if await states(nodes, ids) == {MessageState.ACKNOWLEDGED}:
            break
        await asyncio.sleep(NAK)
    assert await states(nodes, ids) == {MessageState.ACKNOWLEDGED}

    # the county took the referral, then the withdrawal: withdrawn, once
    assert await county_actions(nodes, number) == ["RECEIVE_REFERRAL", "WITHDRAW"]
    async with nodes[Level.COUNTY].sessions() as session:
        held = await session.get(Case, number)
        assert held is not None and held.status is CaseStatus.WITHDRAWN
    # the station's row is where it left: REFERRED
    async with nodes[Level.VILLAGE].sessions() as session:
        left = await session.get(Case, number)
        assert left is not None and left.status is CaseStatus.REFERRED


async def states(nodes: NodeRegistry, ids: list[str]) -> set[MessageState]:
    async with nodes[Level.VILLAGE].sessions() as session:
        return set(
            await session.scalars(select(OutboxMessage.state).where(OutboxMessage.id.in_(ids)))
        )
