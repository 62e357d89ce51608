"""A case referred then withdrawn on its way (转报, then 撤回) ends withdrawn at the
org it was referred to, exactly once, whatever the delivery order: the station's two
signed envelopes — the referral and the withdrawal that follows it — delivered shuffled
and duplicated (seeded permutations, several seeds), on every transport, with the real
handlers. A withdrawal delivered first waits for the referral.

The demo city: a 修文村 resident's 残疾人证核发 (decided by 榆次区, nobody reviews first)
is received at the village station and referred straight to the county."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from gateway.messaging.transport import Transport
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.enums import Level
from levels.outbox.models import OutboxMessage
from tests.auth.conftest import own_hub
from tests.conftest import DEMO_NOW
from tests.gateway.test_message_order import SEEDS, deliver, demo_city, shuffled, sign
from tests.scenarios.desk import Desk
from tests.scenarios.test_referral import DISABILITY_CARD
from tests.scenarios.test_withdraw_referred import referred_case

# an hour before the messenger's clock (DEMO_NOW) runs
RECEIVED = DEMO_NOW - dt.timedelta(hours=1)


@pytest.fixture(scope="module")
async def city(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    async with demo_city(tmp_path_factory, "withdrawal") as made:
        yield made


async def refer_then_withdraw(settings: Settings, nodes: NodeRegistry, seed: int) -> str:
    """The station receives and refers a case; its applicant withdraws it before the
    relay ran: the case number (both messages wait in the village's outbox)."""
    async with own_hub(settings, nodes) as hub:
        desk = Desk(hub)
        number = await referred_case(
            desk, DISABILITY_CARD, "000700400100", RECEIVED + dt.timedelta(minutes=seed)
        )
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
    deliveries = shuffled(envelopes, seed, least=2)  # each at least twice
    # the withdrawal comes first at least once: it waits for the referral
    withdrawal = envelopes[1][1].encode()
    first = next(i for i, d in enumerate(deliveries) if d[2] == withdrawal)
    deliveries.insert(0, deliveries.pop(first))
    await deliver(nodes, transport, deliveries, Level.VILLAGE, ids)

    # the county took the referral, then the withdrawal: withdrawn, once
    assert await county_actions(nodes, number) == ["RECEIVE_REFERRAL", "WITHDRAW"]
    async with nodes[Level.COUNTY].sessions() as session:
        held = await session.get(Case, number)
        assert held is not None and held.status is CaseStatus.WITHDRAWN
    # the station's row is where it left: REFERRED
    async with nodes[Level.VILLAGE].sessions() as session:
        left = await session.get(Case, number)
        assert left is not None and left.status is CaseStatus.REFERRED
