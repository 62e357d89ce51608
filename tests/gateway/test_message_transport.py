"""One conformance suite for every message transport (the in-process bus of the
embedded default, and NATS JetStream): signed envelopes go from a node's outbox to its
target's inbox exactly once, an entity's messages apply in order whatever the delivery
order, a bad signature or a sender that does not own its source is refused and
recorded, and a consumer that dies between the apply and the ack applies nothing twice.

The NATS runs use the server at GOVHUB_TEST_NATS_URL (default nats://127.0.0.1:4222)
with a stream and subjects of their own; without a server they are skipped, and under
CI=true they fail."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.breakers import NodeBreakers
from gateway.cli import main
from gateway.messaging.jetstream import JetStreamTransport
from gateway.messaging.transport import InProcessBus, Transport
from gateway.messaging.worker import REFUSED_ACTION, Messenger, node_keys
from gateway.nodes import NodeRegistry
from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditEvent
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.store import create_store_engine
from levels.outbox import signing
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.service import Envelope, enqueue, handler
from tests.conftest import BACKEND, DEMO_NOW, TEST_SECRET, make_registry
from tests.gateway.test_workers_store_down import down_url
from tests.support import pg
from tests.support.served import unavailable

TOPIC = "test.transport"
APPLIED = "TEST_TRANSPORT_APPLIED"
VILLAGE = "140702101201"  # 修文村
NATS_URL = os.environ.get("GOVHUB_TEST_NATS_URL", "nats://127.0.0.1:4222")
NAK = 0.05  # seconds an early message waits before it comes again


@handler(TOPIC)
async def record(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """Append an audit event naming the message and what it does (grant, revoke…)."""
    await append(
        EventDraft(
            actor_id="transport-test",
            actor_kind="SYSTEM",
            role=None,
            channel=None,
            org_code=None,
            level=envelope.target_level.value,
            action=APPLIED,
            detail={"message": envelope.id, "op": envelope.payload.get("op")},
        ),
        session=session,
        now=now,
    )


@pytest.fixture(scope="module")
async def stores(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    if BACKEND == "postgres":
        await pg.require_services()
    _, nodes, created = await make_registry(
        tmp_path_factory.mktemp("transport"), f"transport_{uuid.uuid4().hex[:6]}"
    )
    yield nodes
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


async def _nats_transport(ack_wait: float) -> JetStreamTransport:
    tag = uuid.uuid4().hex[:10]
    transport = JetStreamTransport(
        NATS_URL, stream=f"GOVHUB_TEST_{tag}", prefix=f"govhub_test_{tag}", ack_wait=ack_wait
    )
    try:
        await transport.connect()
    except Exception as exc:
        unavailable(f"no NATS server at {NATS_URL} ({exc!r})", "start nats-server -js")
    return transport


MakeMessenger = Callable[..., Any]


@pytest.fixture(params=["inprocess", "nats"])
async def make(
    request: pytest.FixtureRequest, stores: NodeRegistry
) -> AsyncIterator[MakeMessenger]:
    """Messengers over one transport of the kind under test (a fresh stream for NATS);
    every message left over by an earlier test is settled first."""
    for node in stores:
        async with node.sessions.begin() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state.in_([MessageState.PENDING, MessageState.SENT]))
                .values(state=MessageState.FAILED)
            )
    ack_wait = 1.0
    transport: Transport
    if request.param == "nats":
        transport = await _nats_transport(ack_wait)
    else:
        transport = InProcessBus(ack_wait=ack_wait)
    made: list[Messenger] = []

    async def messenger(**options: Any) -> Messenger:
        m = Messenger(
            stores,
            transport,
            FixedClock(DEMO_NOW),
            signing.NodeSigner(TEST_SECRET.encode()),
            node_keys(stores),
            nak_delay=NAK,
            **options,
        )
        await m.start()
        made.append(m)
        return m

    yield messenger
    if isinstance(transport, JetStreamTransport):
        await transport.delete_stream()
    await transport.close()


async def send(
    nodes: NodeRegistry, source: Level, target: Level, *ops: str, entity: str | None = None
) -> list[str]:
    """Enqueue one test message per op in the source store, committed; their ids."""
    async with nodes[source].sessions.begin() as session:
        rows = [
            await enqueue(
                session,
                topic=TOPIC,
                source=source,
                target=target,
                payload={"op": op},
                now=DEMO_NOW,
                division_code=VILLAGE,
                entity=entity,
            )
            for op in ops
        ]
    return [r.id for r in rows]


async def rows(nodes: NodeRegistry, ids: list[str]) -> dict[str, OutboxMessage]:
    found: dict[str, OutboxMessage] = {}
    for node in nodes:
        async with node.sessions() as session:
            got = await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            found.update({r.id: r for r in got})
    return found


async def events(nodes: NodeRegistry, level: Level, action: str) -> list[dict[str, Any]]:
    async with nodes[level].sessions() as session:
        got = await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return list(got)


async def applied_ops(nodes: NodeRegistry, level: Level, ids: list[str]) -> list[str]:
    return [d["op"] for d in await events(nodes, level, APPLIED) if d["message"] in ids]


async def settle(messenger: Messenger, nodes: NodeRegistry, ids: list[str]) -> None:
    """Passes until every one of these messages has its receipt or failed."""
    for _ in range(80):
        await messenger.once()
        states = {r.state for r in (await rows(nodes, ids)).values()}
        if states <= {MessageState.ACKNOWLEDGED, MessageState.FAILED}:
            return
        await asyncio.sleep(NAK)
    raise AssertionError(f"never settled: {states}")


async def sign_rows(nodes: NodeRegistry, source: Level, ids: list[str]) -> dict[str, str]:
    """Sign these PENDING messages as their publisher would, and mark them SENT (the
    test then publishes them in an order of its own)."""
    signer = signing.NodeSigner(TEST_SECRET.encode())
    out: dict[str, str] = {}
    async with nodes[source].sessions.begin() as session:
        for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
            row.envelope = await signer.envelope(session, nodes[source].name, row, DEMO_NOW)
            row.state = MessageState.SENT
            row.next_attempt_at = DEMO_NOW + dt.timedelta(hours=1)
            out[row.id] = row.envelope
    return out


async def test_a_message_is_applied_once_and_its_signed_receipt_kept(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    messenger = await make()
    ids = await send(stores, Level.VILLAGE, Level.TOWN, "grant")
    await settle(messenger, stores, ids)
    assert await applied_ops(stores, Level.TOWN, ids) == ["grant"]
    row = (await rows(stores, ids))[ids[0]]
    assert row.state is MessageState.ACKNOWLEDGED and row.envelope and row.receipt
    receipt = await messenger.keys.open(row.receipt)
    assert receipt["iss"] == "town" and receipt["mid"] == ids[0]
    assert receipt["outcome"] == signing.APPLIED
    assert receipt["sha256"] == signing.digest(row.envelope)
    # the envelope the village signed verifies as the village's
    assert (await messenger.keys.open(row.envelope))["iss"] == "village"
    # nothing left to move
    assert not (await messenger.once()).moved


async def test_a_duplicate_publish_is_applied_once(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    messenger = await make()
    ids = await send(stores, Level.TOWN, Level.COUNTY, "grant")
    envelopes = await sign_rows(stores, Level.TOWN, ids)
    data = envelopes[ids[0]].encode()
    # the same id twice (a publisher that died before marking it SENT): dropped by
    # the transport; under another id (past the duplicate window): dropped by the inbox
    assert await messenger.transport.publish("county", f"{ids[0]}.a", data)
    assert not await messenger.transport.publish("county", f"{ids[0]}.a", data)
    assert await messenger.transport.publish("county", f"{ids[0]}.b", data)
    done = await messenger.once()
    assert (done.applied, done.duplicates) == (1, 1)
    await settle(messenger, stores, ids)
    assert await applied_ops(stores, Level.COUNTY, ids) == ["grant"]
    assert (await rows(stores, ids))[ids[0]].state is MessageState.ACKNOWLEDGED


async def test_grant_then_revoke_delivered_revoke_first_ends_revoked(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    messenger = await make()
    entity = f"delegation:{uuid.uuid4().hex[:8]}"
    ids = await send(stores, Level.COUNTY, Level.TOWN, "grant", "revoke", entity=entity)
    envelopes = await sign_rows(stores, Level.COUNTY, ids)
    grant, revoke = ids
    # revoke first, each twice under distinct ids
    for mid, tag in ((revoke, "1"), (revoke, "2"), (grant, "1"), (grant, "2")):
        await messenger.transport.publish("town", f"{mid}.{tag}", envelopes[mid].encode())
    await settle(messenger, stores, ids)
    assert await applied_ops(stores, Level.TOWN, ids) == ["grant", "revoke"]
    assert {r.state for r in (await rows(stores, ids)).values()} == {MessageState.ACKNOWLEDGED}


async def test_a_message_whose_predecessor_never_comes_becomes_an_incident(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    messenger = await make(max_deliveries=3)
    entity = f"licence:{uuid.uuid4().hex[:8]}"
    ids = await send(stores, Level.TOWN, Level.CITY, "issue", "revoke", entity=entity)
    envelopes = await sign_rows(stores, Level.TOWN, ids)
    await messenger.transport.publish("city", ids[1], envelopes[ids[1]].encode())
    await settle(messenger, stores, [ids[1]])
    row = (await rows(stores, ids))[ids[1]]
    assert row.state is MessageState.FAILED
    assert "after 3 deliveries" in (row.last_error or "")
    assert await applied_ops(stores, Level.CITY, ids) == []
    assert any(d["message"] == ids[1] for d in await events(stores, Level.CITY, REFUSED_ACTION))


def _forged(claims: dict[str, Any], kid: str) -> bytes:
    """Claims signed with a key that is not the one ``kid`` names."""
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid}).encode()


async def test_a_bad_signature_is_refused_and_recorded(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    messenger = await make()
    ids = await send(stores, Level.VILLAGE, Level.TOWN, "grant")
    envelope = (await sign_rows(stores, Level.VILLAGE, ids))[ids[0]]
    claims = jwt.decode(envelope, options={"verify_signature": False})
    kid = jwt.get_unverified_header(envelope)["kid"]
    claims["payload"] = {"op": "tampered"}
    await messenger.transport.publish("town", ids[0], _forged(claims, kid))
    done = await messenger.once()
    assert done.refused == 1 and done.applied == 0
    refusals = [
        d for d in await events(stores, Level.TOWN, REFUSED_ACTION) if d["message"] == ids[0]
    ]
    assert len(refusals) == 1 and "bad signature" in refusals[0]["error"]
    async with stores[Level.TOWN].sessions() as session:
        assert await session.get(InboxMessage, ids[0]) is None
    # the refusal names bytes the village did not send: its message is not failed by it
    assert (await rows(stores, ids))[ids[0]].state is MessageState.SENT
    # the genuine envelope still goes through
    await messenger.transport.publish("town", f"{ids[0]}.ok", envelope.encode())
    await settle(messenger, stores, ids)
    assert await applied_ops(stores, Level.TOWN, ids) == ["grant"]


async def test_a_sender_that_does_not_own_the_source_is_refused(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    messenger = await make()
    ids = await send(stores, Level.COUNTY, Level.TOWN, "grant")
    # the village signs (with its own, genuine key) a message claiming to be the county's
    signer = signing.NodeSigner(TEST_SECRET.encode())
    async with stores[Level.COUNTY].sessions() as session:
        row = await session.get(OutboxMessage, ids[0])
        assert row is not None
    async with stores[Level.VILLAGE].sessions.begin() as session:
        token = await signer.envelope(session, "village", row, DEMO_NOW)
    await messenger.transport.publish("town", f"{ids[0]}.forged", token.encode())
    await settle(messenger, stores, ids)
    (refusal,) = [
        d for d in await events(stores, Level.TOWN, REFUSED_ACTION) if d["message"] == ids[0]
    ]
    assert "does not own the source division" in refusal["error"]
    # the county's own envelope is applied, once; the refusal of the forged bytes does
    # not fail it
    assert await applied_ops(stores, Level.TOWN, ids) == ["grant"]
    assert (await rows(stores, ids))[ids[0]].state is MessageState.ACKNOWLEDGED


async def test_a_consumer_dying_between_apply_and_ack_applies_nothing_twice(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    class Died(Exception):
        pass

    async def die(step: str, _mid: str) -> None:
        if step == "applied":
            raise Died

    dying = await make(hook=die)
    ids = await send(stores, Level.VILLAGE, Level.COUNTY, "grant")
    with pytest.raises(Died):
        await dying.once()
    assert await applied_ops(stores, Level.COUNTY, ids) == ["grant"]
    # another worker: the delivery comes again once its ack wait is over
    await asyncio.sleep(1.2)
    survivor = await make()
    await settle(survivor, stores, ids)
    assert await applied_ops(stores, Level.COUNTY, ids) == ["grant"]
    row = (await rows(stores, ids))[ids[0]]
    assert row.state is MessageState.ACKNOWLEDGED and row.receipt


@pytest.mark.parametrize("kind", ["inprocess", "nats"])
async def test_govhub_relay_once_carries_over_the_transport_the_settings_name(
    kind: str, stores: NodeRegistry
) -> None:
    """``govhub relay --once`` with GOVHUB_MESSAGE_TRANSPORT: one publish and consume
    pass, the receipts back."""
    env = {f"GOVHUB_{n.name.upper()}_DB_URL": n.url for n in stores.stores()}
    env |= {
        "GOVHUB_CLOCK_OVERRIDE": DEMO_NOW.isoformat(),
        "GOVHUB_SECRET_KEY": TEST_SECRET,
        "GOVHUB_MESSAGE_TRANSPORT": kind,
    }
    for node in stores:  # settle what earlier tests left
        async with node.sessions.begin() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state.in_([MessageState.PENDING, MessageState.SENT]))
                .values(state=MessageState.FAILED)
            )
    transport = None
    if kind == "nats":
        transport = await _nats_transport(1.0)
        env |= {
            "GOVHUB_NATS_URL": NATS_URL,
            "GOVHUB_NATS_STREAM": transport.stream,
            "GOVHUB_NATS_SUBJECT_PREFIX": transport.prefix,
        }
    ids = await send(stores, Level.COUNTY, Level.VILLAGE, "grant", "revoke")
    try:
        result = await asyncio.to_thread(CliRunner().invoke, main, ["relay", "--once"], env=env)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("2 applied, 0 already there, 2 acknowledged")
    finally:
        if transport is not None:
            await transport.delete_stream()
            await transport.close()
    # each applied once (no entity here, so no order between them: the order tests above)
    assert sorted(await applied_ops(stores, Level.VILLAGE, ids)) == ["grant", "revoke"]
    found = await rows(stores, ids)
    assert {r.state for r in found.values()} == {MessageState.ACKNOWLEDGED}
    # signed both ways: the row keeps its envelope and its target's receipt
    assert all(r.envelope and r.receipt for r in found.values())


async def test_govhub_messages_show_verifies_the_envelope_and_its_receipt(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    """``govhub messages show <id>``: the message, its envelope and its receipt, each
    checked against the nodes' keys; a receipt tampered with in the store is shown as
    not verifying, and an unknown id is one line and exit 1."""
    messenger = await make()
    ids = await send(stores, Level.VILLAGE, Level.COUNTY, "grant")
    await settle(messenger, stores, ids)
    env = {f"GOVHUB_{n.name.upper()}_DB_URL": n.url for n in stores.stores()}
    env |= {"GOVHUB_CLOCK_OVERRIDE": DEMO_NOW.isoformat(), "GOVHUB_SECRET_KEY": TEST_SECRET}

    async def show(message_id: str) -> Any:
        return await asyncio.to_thread(
            CliRunner().invoke, main, ["messages", "show", message_id], env=env
        )

    shown = await show(ids[0])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert (body["id"], body["store"], body["state"]) == (ids[0], "village", "ACKNOWLEDGED")
    assert body["envelope"]["verified"] and body["envelope"]["claims"]["iss"] == "village"
    receipt = body["receipt"]
    assert receipt["verified"] and receipt["claims"]["iss"] == "county"
    assert receipt["claims"]["mid"] == ids[0] and receipt["matches_envelope"]

    # a receipt whose signature no longer matches: shown, not verified
    async with stores[Level.VILLAGE].sessions.begin() as session:
        row = await session.get(OutboxMessage, ids[0])
        assert row is not None and row.receipt is not None
        head, payload, signature = row.receipt.split(".")
        row.receipt = f"{head}.{payload}.{signature[:-4]}AAAA"
    tampered = json.loads((await show(ids[0])).output)
    assert tampered["receipt"]["verified"] is False
    assert "bad signature" in tampered["receipt"]["refusal"]

    missing = await show("0" * 32)
    assert missing.exit_code == 1 and "MESSAGE_NOT_FOUND" in missing.output


async def test_a_message_to_a_division_this_node_does_not_own_is_refused(
    make: MakeMessenger, stores: NodeRegistry
) -> None:
    """By the node map: the village node does not own the town of a town-bound
    message, so a copy published to it is refused and recorded there."""
    messenger = await make()
    ids = await send(stores, Level.COUNTY, Level.TOWN, "grant")
    envelope = (await sign_rows(stores, Level.COUNTY, ids))[ids[0]]
    await messenger.transport.publish("village", f"{ids[0]}.astray", envelope.encode())
    await messenger.transport.publish("town", ids[0], envelope.encode())
    await settle(messenger, stores, ids)
    (refusal,) = [
        d for d in await events(stores, Level.VILLAGE, REFUSED_ACTION) if d["message"] == ids[0]
    ]
    assert "is node 'town''s, not 'village''s" in refusal["error"]
    assert await applied_ops(stores, Level.TOWN, ids) == ["grant"]
    assert await applied_ops(stores, Level.VILLAGE, ids) == []
    assert (await rows(stores, ids))[ids[0]].state is MessageState.ACKNOWLEDGED


async def test_a_target_store_that_is_down_waits_without_becoming_an_incident(
    make: MakeMessenger, stores: NodeRegistry, tmp_path: Path
) -> None:
    """Delivered more often than the incident bound while the town's store does not
    answer: every pass names the town, nothing is refused; back, it applies once."""
    messenger = await make(max_deliveries=2)
    ids = await send(stores, Level.VILLAGE, Level.TOWN, "grant")
    url = down_url(stores, Level.TOWN, tmp_path)
    engine = create_store_engine(url)
    away = dataclasses.replace(
        stores[Level.TOWN], url=url, engine=engine, sessions=async_sessionmaker(engine)
    )
    messenger.nodes = stores.replacing(away, breakers=NodeBreakers(failures=100))
    try:
        for _ in range(4):
            done = await messenger.once()
            assert "town" in done.down and (done.refused, done.failed) == (0, 0)
            await asyncio.sleep(NAK)
    finally:
        await engine.dispose()
        messenger.nodes = stores
    assert (await rows(stores, ids))[ids[0]].state is MessageState.SENT
    await settle(messenger, stores, ids)
    assert await applied_ops(stores, Level.TOWN, ids) == ["grant"]
    assert (await rows(stores, ids))[ids[0]].state is MessageState.ACKNOWLEDGED
    assert ids[0] not in [d["message"] for d in await events(stores, Level.TOWN, REFUSED_ACTION)]
