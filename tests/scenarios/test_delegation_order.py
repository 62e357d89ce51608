"""A delegation granted and at once revoked: the town applies the grant, then the
revocation, whatever the delivery timing — a grant whose first delivery fails and comes
again, or two message workers sharing the work — so the town's item ends ABOLISHED, never
PUBLISHED for a revoked delegation. The town's inbox itself refuses a revocation that
comes before its grant.

榆次区 hands down 建设工程竣工验收备案 (no other scenario uses it) to 修文镇."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from levels.common.enums import Level, MatterStatus
from levels.common.models import MatterImplementation
from levels.county.delegation import GRANTED, delegation_entity
from levels.outbox import service as outbox
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.registry import HANDLERS, Envelope
from resolvers.globalid import decode_id
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_delegation import XIUWEN
from tests.scenarios.test_delegation_in_force import delegate, revoke, town_item
from tests.support.messages import carry, carry_all

FILING = "001000900100"  # 建设工程竣工验收备案


async def grant_then_revoke(
    desk: Desk, nodes: NodeRegistry, day: dt.date
) -> tuple[str, FixedClock]:
    """Delegate and, a minute later, revoke — before any message is carried; the
    delegation's id and a clock after both."""
    clock = FixedClock(at(day, 9))
    await carry_all(nodes, clock)  # nothing else in the way
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
    # a pass in which what failed does not come again (its delay outlasts the pass)
    first = await carry(nodes, clock, nak_delay=600)
    assert failed == [grant.id] and first.retrying == 2 and first.failed == 0
    assert first.early == 1  # the revocation came right after its failed grant
    # the revocation waits behind its grant: nothing reached the town yet
    async with nodes[Level.TOWN].sessions() as session:
        got = await session.scalars(
            select(InboxMessage.id).where(InboxMessage.id.in_([grant.id, revocation.id]))
        )
        assert list(got) == []
    await carry_all(nodes, clock)
    assert [m.state for m in await stream(nodes, delegation)] == [MessageState.ACKNOWLEDGED] * 2
    assert await town_item_status(nodes) is MatterStatus.ABOLISHED


async def test_two_relays_sharing_the_work_apply_the_grant_first(
    desk: Desk, nodes: NodeRegistry
) -> None:
    delegation, clock = await grant_then_revoke(desk, nodes, dt.date(2026, 11, 27))
    grant, _revocation = await stream(nodes, delegation)
    ran: list[str] = []

    async def second_worker(step: str, message_id: str) -> None:
        # the first worker has published the grant (one message a batch), not yet
        # marked it SENT; another carries everything meanwhile
        if step == "published" and message_id == grant.id and not ran:
            ran.append(message_id)
            await carry(nodes, clock)

    await carry(nodes, clock, batch=1, hook=second_worker)
    assert ran == [grant.id]
    await carry_all(nodes, clock)
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
    await carry_all(nodes, clock)
    assert [m.state for m in await stream(nodes, delegation)] == [MessageState.ACKNOWLEDGED] * 2
    assert await town_item_status(nodes) is MatterStatus.ABOLISHED
