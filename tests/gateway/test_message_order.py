"""An entity's messages apply in order whatever the delivery order, with the real
handlers, on every transport: a delegation granted then revoked (county → town) and a
licence issued then revoked (county → the city's library), their signed envelopes
delivered shuffled and duplicated (seeded permutations, several seeds), end revoked —
the town's item ABOLISHED after its RECEIVE_DELEGATION, the library's copy REVOKED.
(A case referred then withdrawn: ``test_withdrawal_order.py``.)

The demo city: 榆次区 hands 建设工程竣工验收备案 down to 修文镇, and reissues (换发) a
licence of its own, then revokes the new version."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from gateway.demo import load_demo
from gateway.messaging.transport import InProcessBus, Transport
from gateway.messaging.worker import Messenger, node_keys
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.cases.service import Actor
from levels.common.clock import FixedClock
from levels.common.enums import Level, MatterStatus
from levels.common.models import MatterImplementation
from levels.county.delegation import DelegationDraft, delegate_matter, revoke_delegation
from levels.licences.enums import LicenceStatus
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence
from levels.licences.service import change_status, reissue
from levels.outbox import service as outbox
from levels.outbox import signing
from levels.outbox.models import MessageState, OutboxMessage
from tests.conftest import BACKEND, DEMO_NOW, TEST_SECRET, make_registry
from tests.support import pg

YUCI_ORG = "12140702MB00000006"
XIUWEN = "140702101000"
XIUWEN_ORG = "12140702MB1010008W"
FILING = "001000900100"  # 建设工程竣工验收备案
COUNTY_ITEM = f"{YUCI_ORG}2{FILING}"
TOWN_ITEM = f"{XIUWEN_ORG}3{FILING}"
ADMIN = Actor(id="yuci.admin", kind="STAFF", role="ADMIN", channel="WEB", org_code=YUCI_ORG)
NAK = 0.02
SEEDS = (1, 2, 3)


@asynccontextmanager
async def demo_city(
    tmp_path_factory: pytest.TempPathFactory, tag: str
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """Stores of their own holding the demo city, its demo messages carried to the end."""
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp(tag), f"{tag}_{uuid.uuid4().hex[:6]}"
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


@pytest.fixture(scope="module")
async def city(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    async with demo_city(tmp_path_factory, "order") as (_settings, nodes):
        yield nodes


def _messenger(nodes: NodeRegistry, transport: Transport) -> Messenger:
    return Messenger(
        nodes,
        transport,
        FixedClock(DEMO_NOW),
        signing.NodeSigner(TEST_SECRET.encode()),
        node_keys(nodes),
        nak_delay=NAK,
        max_deliveries=200,
    )


async def grant_then_revoke(nodes: NodeRegistry, now: dt.datetime) -> tuple[str, list[str]]:
    """The county delegates the filing item to 修文镇 and revokes it: the delegation
    and the ids of its two messages."""
    async with nodes[Level.COUNTY].sessions.begin() as session:
        draft = DelegationDraft(
            COUNTY_ITEM, [XIUWEN], "《委托决定》（榆政发〔2026〕1号）", now.date()
        )
        view, granted = await delegate_matter(
            draft, towns_of_county=None, session=session, actor=ADMIN, now=now
        )
    async with nodes[Level.COUNTY].sessions.begin() as session:
        await revoke_delegation(
            view.row.id, "委托期满", towns_of_county=None, session=session, actor=ADMIN, now=now
        )
        revoked = await session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.entity == f"delegation:{view.row.id}:{XIUWEN}",
                OutboxMessage.id.not_in(granted),
            )
        )
        return view.row.id, [*granted, *revoked]


async def issue_then_revoke(
    nodes: NodeRegistry, seed: int, now: dt.datetime
) -> tuple[str, list[str]]:
    """The county reissues one of its licences (the new version is issued, the old one
    revoked as superseded) and revokes the new version: its id and the messages."""
    async with nodes[Level.COUNTY].sessions.begin() as session:
        valid = (
            await session.scalars(
                select(ELicence)
                .where(
                    ELicence.issuer_level == Level.COUNTY,
                    ELicence.status == LicenceStatus.VALID,
                    ELicence.superseded_by.is_(None),
                )
                .order_by(ELicence.id)
            )
        ).all()
        assert len(valid) > seed, "the demo has too few county licences for this seed"
        before = set(await session.scalars(select(OutboxMessage.id)))
        new = await reissue(
            session,
            valid[seed].id,
            reason="换发",
            fields={},
            until=None,
            signer=OrgSigner(TEST_SECRET.encode()),
            who=ADMIN,
            now=now,
        )
        await change_status(session, new.id, "REVOKE_LICENCE", "吊销", ADMIN, now)
        ids = set(await session.scalars(select(OutboxMessage.id))) - before
        return new.id, sorted(ids)


async def sign(nodes: NodeRegistry, source: Level, ids: list[str]) -> list[tuple[str, str]]:
    """Sign these messages as their publisher would, mark them SENT (the test delivers
    them itself): (target node, envelope) each."""
    keys = node_keys(nodes)
    signer = signing.NodeSigner(TEST_SECRET.encode())
    out: list[tuple[str, str]] = []
    async with nodes[source].sessions.begin() as session:
        for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
            row.envelope = await signer.envelope(session, nodes[source].name, row, DEMO_NOW)
            row.state = MessageState.SENT
            row.next_attempt_at = DEMO_NOW + dt.timedelta(hours=1)
            out.append((keys.owner(outbox.target_division(row), row.target_level), row.envelope))
    return out


def shuffled(
    envelopes: list[tuple[str, str]], seed: int, least: int = 1
) -> list[tuple[str, str, bytes]]:
    """Each envelope ``least`` to three times, under ids of its own, in a seeded order:
    (target node, transport message id, data) each."""
    rng = random.Random(seed)
    deliveries = [
        (target, f"{signing.digest(envelope)[:16]}.{copy}", envelope.encode())
        for target, envelope in envelopes
        for copy in range(rng.randint(least, 3))
    ]
    rng.shuffle(deliveries)
    return deliveries


async def deliver(
    nodes: NodeRegistry,
    transport: Transport,
    deliveries: list[tuple[str, str, bytes]],
    source: Level,
    ids: list[str],
) -> None:
    """Put ``deliveries`` on the transport and run the messenger until every message
    of ``ids`` is acknowledged in its ``source`` store, none refused."""
    messenger = _messenger(nodes, transport)
    await messenger.start()
    for target, msg_id, data in deliveries:
        assert await transport.publish(target, msg_id, data)
    for _ in range(200):
        done = await messenger.once()
        assert done.refused == 0
        if await states(nodes, ids, source) == {MessageState.ACKNOWLEDGED}:
            break
        await asyncio.sleep(NAK)
    assert await states(nodes, ids, source) == {MessageState.ACKNOWLEDGED}


async def states(
    nodes: NodeRegistry, ids: list[str], source: Level = Level.COUNTY
) -> set[MessageState]:
    async with nodes[source].sessions() as session:
        return set(
            await session.scalars(select(OutboxMessage.state).where(OutboxMessage.id.in_(ids)))
        )


async def town_actions(nodes: NodeRegistry, ids: list[str]) -> list[str]:
    async with nodes[Level.TOWN].sessions() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.action.in_(["RECEIVE_DELEGATION", "REVOKE_DELEGATION"]))
            .order_by(AuditEvent.seq)
        )
        return [action for action, detail in rows if detail.get("message") in ids]


@pytest.mark.parametrize("seed", SEEDS)
async def test_shuffled_duplicated_deliveries_end_revoked(
    city: NodeRegistry, transport: Transport, seed: int
) -> None:
    now = DEMO_NOW + dt.timedelta(days=seed)
    delegation, delegation_ids = await grant_then_revoke(city, now)
    licence, licence_ids = await issue_then_revoke(city, seed, now)
    ids = delegation_ids + licence_ids
    assert len(delegation_ids) == 2 and len(licence_ids) == 3
    envelopes = await sign(city, Level.COUNTY, ids)
    await deliver(city, transport, shuffled(envelopes, seed), Level.COUNTY, ids)

    # the town took the grant, then the revocation: its item is abolished
    assert await town_actions(city, delegation_ids) == ["RECEIVE_DELEGATION", "REVOKE_DELEGATION"]
    async with city[Level.TOWN].sessions() as session:
        item = await session.get(MatterImplementation, TOWN_ITEM)
        assert item is not None
        assert (item.delegation_id, item.status) == (delegation, MatterStatus.ABOLISHED)
    # the library holds the new version revoked, the old one superseded
    async with city[Level.CITY].sessions() as session:
        copy = await session.get(ELicence, licence)
        assert copy is not None and copy.status is LicenceStatus.REVOKED
        assert copy.supersedes is not None
        old = await session.get(ELicence, copy.supersedes)
        assert old is not None and old.status is LicenceStatus.REVOKED
