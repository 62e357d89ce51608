"""A delegation granted and at once revoked: the town applies the grant, then the
revocation, whatever the delivery timing — a grant whose first delivery fails and backs
off, or two relays sharing the work — so the town's item ends ABOLISHED, never
PUBLISHED for a revoked delegation. The town's inbox itself refuses a revocation that
comes before its grant.

榆次区 hands down 建设工程竣工验收备案 (no other scenario uses it) to 修文镇."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.nodes import NodeRegistry
from gateway.relay import relay_once
from levels.common.clock import FixedClock
from levels.common.enums import Level, MatterStatus
from levels.common.models import MatterImplementation
from levels.county.delegation import GRANTED, delegation_entity
from levels.outbox import service as outbox
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.registry import HANDLERS, Envelope
from resolvers.globalid import decode_id
from tests.gateway.test_relay import drain
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_delegation import XIUWEN
from tests.scenarios.test_delegation_in_force import delegate, revoke, town_item

FILING = "001000900100"  # 建设工程竣工验收备案


async def grant_then_revoke(
    desk: Desk, nodes: NodeRegistry, day: dt.date
) -> tuple[str, FixedClock]:
    """Delegate and, a minute later, revoke — before any relay runs; the delegation's id
    and a relay clock after both."""
    clock = FixedClock(at(day, 9))
    await drain(nodes, clock)  # nothing else in the way
    await desk.travel(at(day, 9))
    granted = await delegate(desk, FILING, day)
    assert granted["errors"] == []
    delegation = granted["delegation"]["id"]
    await desk.travel(at(day, 9) + dt.timedelta(minutes=1))
    await revoke(desk, delegation)
    clock.advance(dt.timedelta(minutes=2))
    return decode_id(delegation).key, clock


async def stream(nodes: NodeRegistry, delegation: str) -> list[OutboxMessage]:
    """The delegation's messages to 修文镇, in the order they were written."""
    async with nodes[Level.COUNTY].sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.entity == delegation_entity(delegation, XIUWEN))
            .order_by(OutboxMessage.entity_seq)
        )
        return list(rows)


async def town_item_status(nodes: NodeRegistry) -> MatterStatus:
    async with nodes[Level.TOWN].sessions() as session:
        row = await session.get(MatterImplementation, town_item(FILING))
    assert row is not None
    return row.status


async def test_a_grant_that_fails_once_still_applies_before_its_revocation(
    desk: Desk, nodes: NodeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    delegation, clock = await grant_then_revoke(desk, nodes, dt.date(2026, 11, 26))
    grant, revocation = await stream(nodes, delegation)
    assert (grant.topic, grant.entity_seq, revocation.entity_seq) == (GRANTED, 1, 2)
    real = HANDLERS[GRANTED]
    failed: list[str] = []

    async def flaky(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
        if not failed:
            failed.append(envelope.id)
            raise RuntimeError("the town store hiccuped")
        await real(session, envelope, now)

    monkeypatch.setitem(HANDLERS, GRANTED, flaky)
    first = await relay_once(nodes, clock)
    assert failed == [grant.id] and first.retrying == 1
    # the revocation waits behind its grant: nothing reached the town yet
    assert [m.state for m in await stream(nodes, delegation)] == [MessageState.PENDING] * 2
    clock.advance(dt.timedelta(minutes=5))  # past the back-off
    await drain(nodes, clock)
    assert [m.state for m in await stream(nodes, delegation)] == [MessageState.ACKNOWLEDGED] * 2
    assert await town_item_status(nodes) is MatterStatus.ABOLISHED


async def test_two_relays_sharing_the_work_apply_the_grant_first(
    desk: Desk, nodes: NodeRegistry
) -> None:
    delegation, clock = await grant_then_revoke(desk, nodes, dt.date(2026, 11, 27))
    grant, _revocation = await stream(nodes, delegation)
    ran: list[str] = []

    async def second_relay(step: str, message_id: str) -> None:
        # the first relay holds the grant (one message a batch); another runs meanwhile
        if step == "claimed" and message_id == grant.id and not ran:
            ran.append(message_id)
            await relay_once(nodes, clock)

    await relay_once(nodes, clock, batch=1, on_step=second_relay)
    assert ran == [grant.id]
    await drain(nodes, clock)
    assert [m.state for m in await stream(nodes, delegation)] == [MessageState.ACKNOWLEDGED] * 2
    assert await town_item_status(nodes) is MatterStatus.ABOLISHED


async def test_the_town_inbox_defers_a_revocation_that_comes_before_its_grant(
    desk: Desk, nodes: NodeRegistry
) -> None:
    delegation, clock = await grant_then_revoke(desk, nodes, dt.date(2026, 11, 30))
    _grant, revocation = await stream(nodes, delegation)
    with pytest.raises(outbox.OutOfOrder):
        async with nodes[Level.TOWN].sessions.begin() as session:
            await outbox.apply(session, outbox.envelope_of(revocation), clock.now())
    async with nodes[Level.TOWN].sessions() as session:
        assert await session.get(InboxMessage, revocation.id) is None
    await drain(nodes, clock)
    assert [m.state for m in await stream(nodes, delegation)] == [MessageState.ACKNOWLEDGED] * 2
    assert await town_item_status(nodes) is MatterStatus.ABOLISHED
