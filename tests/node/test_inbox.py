"""A node's inbox over its API: a signed envelope from another node is applied in the
node's own transaction once — delivered twice, applied once — with a receipt the node
signs; an envelope that does not verify is refused and recorded."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditEvent
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.node.inbox import REFUSED_ACTION
from levels.outbox import signing
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.service import Envelope, handler
from tests.node.conftest import MakeClient

TOPIC = "test.node-inbox"
APPLIED = "TEST_NODE_INBOX_APPLIED"
VILLAGE = "140702101201"  # 修文村


@handler(TOPIC)
async def record(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    await append(
        EventDraft(
            actor_id="node-inbox-test",
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


async def signed_by_village(
    nodes: NodeRegistry,
    settings: Settings,
    now: dt.datetime,
    entity: str | None = None,
    seq: int | None = None,
) -> str:
    """An envelope the village node signs for the town node (the message is not kept in
    the village's outbox: only its signature is wanted here)."""
    message = OutboxMessage(
        id=uuid.uuid4().hex,
        topic=TOPIC,
        source_level=Level.VILLAGE,
        target_level=Level.TOWN,
        case_number=None,
        division_code=VILLAGE,
        entity=entity,
        entity_seq=seq,
        payload={"note": "hand-over"},
        state=MessageState.PENDING,
    )
    signer = signing.NodeSigner(settings.identity_secret())
    async with nodes[Level.VILLAGE].sessions.begin() as session:
        return await signer.envelope(session, "village", message, now)


async def count(nodes: NodeRegistry, action: str, message_id: str | None = None) -> int:
    """The town store's audit events of ``action`` (about ``message_id`` when given)."""
    async with nodes[Level.TOWN].sessions() as session:
        events = await session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return sum(1 for e in events if message_id in (None, e.detail.get("message")))


async def test_an_envelope_delivered_twice_is_applied_once(
    node_client: MakeClient, nodes: NodeRegistry, settings: Settings, clock: FixedClock
) -> None:
    envelope = await signed_by_village(nodes, settings, clock.now())
    town = node_client("town")
    first = await town.deliver(envelope)
    assert first["outcome"] == "APPLIED" and first["reason"] is None
    again = await town.deliver(envelope)
    assert again["outcome"] == "DUPLICATE"
    assert again["messageId"] == first["messageId"]
    mid = first["messageId"]
    assert await count(nodes, APPLIED, mid) == 1
    async with nodes[Level.TOWN].sessions() as session:
        held = await session.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.id == mid)
        )
    assert held == 1
    # the receipt is the town node's, over the envelope as received
    keys = signing.NodeKeys(
        {"town": signing.node_key_source(nodes[Level.TOWN].sessions, "town")},
        {"town": Level.TOWN},
    )
    receipt = await keys.open(first["receipt"])
    assert receipt["typ"] == signing.RECEIPT and receipt["iss"] == "town"
    assert receipt["mid"] == mid and receipt["outcome"] == signing.APPLIED
    assert receipt["sha256"] == signing.digest(envelope)


async def test_an_envelope_that_does_not_verify_is_refused_and_recorded(
    node_client: MakeClient, nodes: NodeRegistry, settings: Settings, clock: FixedClock
) -> None:
    envelope = await signed_by_village(nodes, settings, clock.now())
    head, payload, signature = envelope.split(".")
    tampered = f"{head}.{payload}.{signature[:-6]}AAAAAA"
    town = node_client("town")
    before = await count(nodes, REFUSED_ACTION)
    result = await town.deliver(tampered)
    assert result["outcome"] == "REFUSED"
    assert "signature" in result["reason"]
    assert await count(nodes, REFUSED_ACTION) == before + 1
    # the message itself was not applied
    assert await count(nodes, APPLIED, result["messageId"]) == 0


async def test_an_envelope_for_another_level_is_refused(
    node_client: MakeClient, nodes: NodeRegistry, settings: Settings, clock: FixedClock
) -> None:
    envelope = await signed_by_village(nodes, settings, clock.now())
    result = await node_client("county").deliver(envelope)  # it is the town's
    assert result["outcome"] == "REFUSED"
    assert result["reason"].startswith("DIVISION_NOT_OWNED")
    assert result["receipt"] is not None  # the sender learns it for good


async def test_an_entitys_later_message_waits_for_its_earlier_one(
    node_client: MakeClient, nodes: NodeRegistry, settings: Settings, clock: FixedClock
) -> None:
    entity = f"test:{uuid.uuid4().hex[:8]}"
    first = await signed_by_village(nodes, settings, clock.now(), entity, 1)
    second = await signed_by_village(nodes, settings, clock.now(), entity, 2)
    town = node_client("town")
    early = await town.deliver(second)
    assert early["outcome"] == "WAIT" and "came before" in early["reason"]
    assert (await town.deliver(first))["outcome"] == "APPLIED"
    assert (await town.deliver(second))["outcome"] == "APPLIED"
