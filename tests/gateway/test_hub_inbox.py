"""A node served on its own hands a message for a node the map gives no address to the
hub, which holds that node's store: the node's relay (``InboxTransport`` given the
hub's address, ``GOVHUB_HUB_URL``) posts the envelope to the hub's
``POST /nodes/<id>/inbox`` (gateway/messaging/hub_inbox.py), which applies it there
once, signs that node's receipt, and refuses what its sender did not sign.

Fresh stores of the embedded map (a node per level, none with an address at the hub);
the village node plays the sender served on its own, the town node the one the hub
holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.messaging.inbox import InboxTransport
from gateway.messaging.worker import MessagePass, Messenger, node_keys
from gateway.node_app import keys_of_nodes
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.licences.keys import PublicKey
from levels.node.inbox import REFUSED_ACTION
from levels.outbox import service as outbox
from levels.outbox import signing
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from tests.conftest import BACKEND, DEMO_NOW, TEST_SECRET, make_registry

# the node inbox tests' topic: its handler records an APPLIED event in the target
from tests.node.test_inbox import APPLIED, TOPIC
from tests.support import pg

VILLAGE = "140702101201"  # 修文村
HUB = "http://hub.test"
CLOCK = FixedClock(DEMO_NOW)


class Hub:
    """The hub's app over the stores, and clients of it: one that reaches it, one that
    does not (the hub down)."""

    def __init__(self, settings: Settings, nodes: NodeRegistry) -> None:
        self.nodes = nodes
        self.app = create_app(settings, nodes=nodes, clock=CLOCK)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=HUB)

    @staticmethod
    def down() -> httpx.AsyncClient:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        return httpx.AsyncClient(transport=httpx.MockTransport(refuse))


@pytest.fixture(scope="module")
async def hub(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hub]:
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("hub-inbox"), f"hubinbox_{uuid.uuid4().hex[:6]}"
    )
    made = Hub(settings, nodes)
    try:
        yield made
    finally:
        await made.app.state.broker.close()
        await made.app.state.identity.close()
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


async def queued(nodes: NodeRegistry, entity: str | None = None) -> str:
    """A message from the village's outbox to the town (PENDING): its id."""
    async with nodes[Level.VILLAGE].sessions.begin() as session:
        message = await outbox.enqueue(
            session,
            topic=TOPIC,
            source=Level.VILLAGE,
            target=Level.TOWN,
            payload={"note": "for the town the hub holds"},
            now=DEMO_NOW,
            division_code=VILLAGE,
            entity=entity,
        )
    return message.id


async def relay_pass(
    nodes: NodeRegistry, client: httpx.AsyncClient, hub: str | None = HUB
) -> MessagePass:
    """One pass of the village's own relay: its outbox alone, a target without an
    address reached at ``hub``'s inbox for it through ``client``."""
    relay = Messenger(
        nodes,
        InboxTransport(nodes.map, 5.0, hub=hub, client=client),
        CLOCK,
        signing.NodeSigner(TEST_SECRET.encode()),
        node_keys(nodes),
        serves=frozenset({"village"}),
    )
    await relay.start()
    try:
        return await relay.once()
    finally:
        await relay.transport.close()


async def state_of(nodes: NodeRegistry, mid: str) -> tuple[MessageState, str | None]:
    async with nodes[Level.VILLAGE].sessions() as session:
        row = await session.get(OutboxMessage, mid)
        assert row is not None
        return row.state, row.envelope


async def applied(nodes: NodeRegistry, action: str, mid: str) -> int:
    """The town store's audit events of ``action`` about message ``mid``."""
    async with nodes[Level.TOWN].sessions() as session:
        events = await session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return sum(1 for e in events if e.detail.get("message") == mid)


async def post(hub: Hub, node: str, envelope: str) -> httpx.Response:
    async with hub.client() as client:
        return await client.post(f"/nodes/{node}/inbox", content=envelope)


async def test_a_message_goes_through_the_hubs_inbox_once(hub: Hub) -> None:
    nodes = hub.nodes
    mid = await queued(nodes)
    done = await relay_pass(nodes, hub.client())
    assert done.published == 1 and done.receipts == 1 and done.failed == 0, done
    state, envelope = await state_of(nodes, mid)
    assert state is MessageState.ACKNOWLEDGED and envelope is not None
    assert await applied(nodes, APPLIED, mid) == 1
    # sent again (a receipt lost on its way back): a duplicate, applied once
    again = await post(hub, "town", envelope)
    assert again.status_code == 200 and again.json()["outcome"] == "DUPLICATE"
    assert await applied(nodes, APPLIED, mid) == 1
    async with nodes[Level.TOWN].sessions() as session:
        held = await session.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.id == mid)
        )
    assert held == 1


async def test_the_hub_down_leaves_the_message_in_the_outbox_until_it_is_back(hub: Hub) -> None:
    nodes = hub.nodes
    mid = await queued(nodes)
    done = await relay_pass(nodes, hub.down())
    assert done.published == 0 and done.down == {"inbox"}
    assert (await state_of(nodes, mid))[0] is MessageState.PENDING
    assert await applied(nodes, APPLIED, mid) == 0
    # the hub back: the next pass takes it
    done = await relay_pass(nodes, hub.client())
    assert done.published == 1 and not done.down
    assert (await state_of(nodes, mid))[0] is MessageState.ACKNOWLEDGED
    assert await applied(nodes, APPLIED, mid) == 1


async def signed(nodes: NodeRegistry, entity: str | None = None) -> str:
    """A village envelope for the town, signed with the village's key, posted by the
    test itself (its row marked acknowledged, out of the relay's way)."""
    mid = await queued(nodes, entity)
    async with nodes[Level.VILLAGE].sessions.begin() as session:
        row = await session.get(OutboxMessage, mid)
        assert row is not None
        envelope = await signing.NodeSigner(TEST_SECRET.encode()).envelope(
            session, "village", row, DEMO_NOW
        )
        row.state = MessageState.ACKNOWLEDGED
    return envelope


async def refusals(nodes: NodeRegistry, level: Level) -> int:
    async with nodes[level].sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == REFUSED_ACTION)
        )
    return int(count or 0)


async def test_what_its_sender_did_not_sign_is_refused_with_nothing_applied(hub: Hub) -> None:
    nodes = hub.nodes
    envelope = await signed(nodes)
    head, payload, signature = envelope.split(".")
    tampered = f"{head}.{payload}.{signature[:-6]}AAAAAA"
    mid = jwt.decode(envelope, options={"verify_signature": False})["mid"]
    for body in (tampered, "not a token"):
        answer = await post(hub, "town", body)
        assert answer.status_code == 400 and answer.json()["outcome"] == "REFUSED"
    assert await applied(nodes, APPLIED, mid) == 0
    # signed, but for a node it is not: refused for good, audited where it came
    before = await refusals(nodes, Level.COUNTY)
    answer = (await post(hub, "county", envelope)).json()
    assert answer["outcome"] == "REFUSED" and answer["reason"].startswith("DIVISION_NOT_OWNED")
    assert answer["receipt"] is not None
    assert await refusals(nodes, Level.COUNTY) == before + 1
    assert await applied(nodes, APPLIED, mid) == 0
    # a node the hub does not hold
    assert (await post(hub, "nowhere", envelope)).status_code == 404


async def test_an_entitys_later_message_waits_for_its_earlier_one(hub: Hub) -> None:
    entity = f"test:{uuid.uuid4().hex[:8]}"
    first = await signed(hub.nodes, entity)
    second = await signed(hub.nodes, entity)
    outcomes: list[Any] = []
    for envelope in (second, first, second):
        outcomes.append((await post(hub, "town", envelope)).json()["outcome"])
    assert outcomes == ["WAIT", "APPLIED", "APPLIED"]


async def test_without_the_hubs_address_a_message_for_a_held_node_waits(hub: Hub) -> None:
    nodes = hub.nodes
    mid = await queued(nodes)
    done = await relay_pass(nodes, hub.client(), hub=None)
    assert done.published == 0 and done.down == {"inbox"}
    assert (await state_of(nodes, mid))[0] is MessageState.PENDING


async def test_a_node_takes_from_the_hubs_keys_only_those_of_the_nodes_it_holds() -> None:
    """The hub's JWKS lists every node's keys it reads; a node served on its own takes
    from it the keys of the nodes the hub holds, never one for a peer with an address
    (whose keys are its own to publish)."""
    listed = [
        PublicKey(
            f"{node}-1",
            signing.node_org(node),
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            {},
        )
        for node in ("town", "county")
    ]

    async def hub_jwks() -> list[PublicKey]:
        return listed

    taken = await keys_of_nodes(hub_jwks, frozenset({"town"}))()
    assert [k.kid for k in taken] == ["town-1"]
