"""A node runs its own timers and its own relay (DESIGN §2: a node is one deployment,
with its own timers): a city node and two county nodes as ``govhub node serve``
processes (a SQLite file each; with ``GOVHUB_TEST_BACKEND=postgres`` a PostgreSQL
database each), the demo loaded, each with a short timer and relay interval and the
demo's fixed clock (``GOVHUB_CLOCK_OVERRIDE``, which the test moves by restarting a
node with a later one).

* a referral deadline (转报时限) that fell due at 榆次区's node is carded by that node's
  own process; a hub's pass leaves that store alone (its map gives the node an
  address), and a hub's pass told ``--node`` at the same time as the node's fires
  nothing twice;
* a node that was down fires what fell due meanwhile when it comes back;
* a licence 榆次区 publishes reaches the city node's library with only the node
  processes running (no hub): the county's relay hands the envelope to the city's
  ``/inbox``, whose receipt comes back;
* the hub's relay works for the nodes its map gives no address alone (none here: the
  gateway starts no relay, ``govhub relay`` says so); with 榆次区 given none, a pass
  hands its message to the city's ``/inbox`` once and opens no SQL to the other
  nodes' stores;
* on the mixed map without NATS (the city the hub's, 榆次区 serving itself), 榆次区's
  relay hands the city's message to the hub's ``/nodes/jinzhong/inbox``
  (``GOVHUB_HUB_URL``); while the hub is down it waits in 榆次区's outbox.

Nothing here asserts a time: each waits, bounded, for the rows to appear."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from click.testing import CliRunner
from sqlalchemy import func, select

from auth.hub_tokens import HubKey
from auth.keys import KeyRing
from gateway.app import create_app
from gateway.cli import main
from gateway.demo import load_demo
from gateway.messaging.factory import NOTHING_TO_RELAY, carry_once, messenger_for
from gateway.nodes import NodeRegistry, build_registry, count_statements
from gateway.settings import Settings
from gateway.timers import fire_all
from levels.audit.chain import verify_chain
from levels.audit.models import AuditEvent, AuditHead
from levels.cases.enums import CardClock, CardColor, CaseStatus
from levels.cases.models import Case, SupervisionCard
from levels.cases.service import china_date
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.nodemap import IN_PROCESS, NodeMap
from levels.licences.models import ELicence
from levels.licences.service import _publish
from levels.node.timers import head_keys
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from tests.conftest import (
    BACKEND,
    DEMO_NOW,
    TEST_SECRET,
    fresh_databases,
    migrate_registry,
    suite_settings,
)
from tests.support import pg
from tests.support.node_process import NodeProcess, free_port, govhub_env, init_node, serve_node

CITY, YUCI, TAIGU = "jinzhong", "county-140702", "county-140703"
PREFIXES = {CITY: "1407", YUCI: "140702", TAIGU: "140703"}
# how long a test waits for a node's worker to do what it should (a bound, not a time
# asserted: on a loaded machine a pass may take seconds)
WAIT = 60.0


def node_map(ports: dict[str, int], databases: dict[str, str], held: str | None = None) -> str:
    """The map of the three nodes, each at its port but ``held`` (the hub's: no address)."""
    text = ""
    for node_id, prefix in PREFIXES.items():
        text += f'[[nodes]]\nid = "{node_id}"\nprefixes = ["{prefix}"]\n'
        if node_id != held:
            text += f'address = "http://127.0.0.1:{ports[node_id]}"\n'
        if node_id in databases:
            text += f'database = "{databases[node_id]}"\n'
        text += "\n"
    return text


@dataclass
class Served:
    tmp: Path
    env: dict[str, str]
    ports: dict[str, int]
    processes: dict[str, NodeProcess]
    stores: NodeRegistry  # the nodes' own stores, by SQL, as the test reads them
    settings: Settings  # a hub's settings over this map
    databases: dict[str, str]  # the nodes' databases (none: their SQLite files)

    async def restart(self, node_id: str, **settings: str) -> None:
        await self.processes[node_id].stop()
        env = {**self.env, **settings}
        self.processes[node_id] = await serve_node(node_id, env, self.tmp, port=self.ports[node_id])


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    if BACKEND == "postgres":
        await pg.require_services()
    tmp = tmp_path_factory.mktemp("node-timers")
    databases, created = await fresh_databases(uuid.uuid4().hex[:8], (*PREFIXES, "identity"))
    identity = databases.pop("identity", None)
    key_file = tmp / "hub-key.pem"
    key_file.write_bytes(HubKey.generate().pem())
    ports = {node_id: free_port() for node_id in PREFIXES}
    (tmp / "nodes.toml").write_text(node_map(ports, databases), encoding="utf-8")
    settings = suite_settings(
        tmp, nodes=str(tmp / "nodes.toml"), hub_key_file=key_file, identity_db_url=identity
    )
    env = govhub_env(
        GOVHUB_VAR_DIR=str(tmp),
        GOVHUB_NODES=str(tmp / "nodes.toml"),
        GOVHUB_HUB_KEY_FILE=str(key_file),
        GOVHUB_SECRET_KEY=TEST_SECRET,
        GOVHUB_CLOCK_OVERRIDE=DEMO_NOW.isoformat(),
        GOVHUB_NODE_TIMER_INTERVAL_SECONDS="0.3",
        GOVHUB_NODE_RELAY_INTERVAL_SECONDS="0.3",
    )
    for node_id in PREFIXES:
        init_node(node_id, env, tmp)
    stores = build_registry(settings)
    await migrate_registry(stores)
    await load_demo(stores, secret=settings.identity_secret())
    processes: dict[str, NodeProcess] = {}
    try:
        for node_id, port in ports.items():
            processes[node_id] = await serve_node(node_id, env, tmp, port=port)
        yield Served(tmp, env, ports, processes, stores, settings, databases)
    finally:
        for process in processes.values():
            await process.stop()
        await stores.dispose()
        for name in created:
            await pg.drop_database(name)


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """``check()``'s first truthy answer, polled within ``WAIT`` seconds."""
    async with asyncio.timeout(WAIT):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.2)
    raise AssertionError(what)  # pragma: no cover (the timeout raises first)


async def waiting_case(stores: NodeRegistry, node_id: str, due_on: dt.date, skip: int) -> str:
    """A case of ``node_id``'s store made to wait below its deciding level (SUBMITTED)
    with its referral deadline (转报时限) on ``due_on`` (yellow two days before), its
    referral cards taken away."""
    async with stores[node_id].sessions.begin() as session:
        numbers = (
            await session.scalars(
                select(Case.number)
                .where(Case.status.in_([CaseStatus.SUBMITTED, CaseStatus.ACCEPTED]))
                .order_by(Case.status.desc(), Case.number)
                .offset(skip)
                .limit(1)
            )
        ).all()
        assert numbers, f"the demo has a case waiting at {node_id}"
        case = await session.get(Case, numbers[0])
        assert case is not None
        case.status = CaseStatus.SUBMITTED
        case.referral_due_on = due_on
        case.referral_yellow_on = due_on - dt.timedelta(days=2)
        cards = await session.scalars(
            select(SupervisionCard).where(
                SupervisionCard.case_number == case.number,
                SupervisionCard.clock == CardClock.REFERRAL,
            )
        )
        for card in cards:
            await session.delete(card)
        return case.number


async def referral_cards(stores: NodeRegistry, node_id: str, number: str) -> set[CardColor]:
    async with stores[node_id].sessions() as session:
        return set(
            await session.scalars(
                select(SupervisionCard.color).where(
                    SupervisionCard.case_number == number,
                    SupervisionCard.clock == CardClock.REFERRAL,
                )
            )
        )


async def card_events(stores: NodeRegistry, node_id: str, number: str) -> dict[str, int]:
    async with stores[node_id].sessions() as session:
        rows = await session.execute(
            select(AuditEvent.action, func.count())
            .where(AuditEvent.case_number == number, AuditEvent.action.like("%_CARD"))
            .group_by(AuditEvent.action)
        )
        return {action: int(n) for action, n in rows.all()}


async def health(served: Served, node_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=served.processes[node_id].base) as client:
        answer = (await client.get("/health", timeout=10)).json()
    assert isinstance(answer, dict)
    return answer


TODAY = china_date(DEMO_NOW)


async def test_a_county_nodes_own_process_cards_its_overdue_referral(served: Served) -> None:
    number = await waiting_case(served.stores, YUCI, TODAY - dt.timedelta(days=1), skip=0)

    async def carded() -> bool:
        return await referral_cards(served.stores, YUCI, number) == {
            CardColor.YELLOW,
            CardColor.RED,
        }

    await eventually(carded, f"{YUCI}'s process cards {number}")
    # once each, audited at the node
    assert await card_events(served.stores, YUCI, number) == {"YELLOW_CARD": 1, "RED_CARD": 1}
    report = (await health(served, YUCI))["workers"]
    assert report["timers"]["enabled"] and report["timers"]["runs"] >= 1
    assert report["timers"]["lastRun"] is not None
    assert report["timers"]["lagSeconds"] >= 0 and report["relay"]["lagSeconds"] >= 0
    assert report["relay"]["enabled"] and report["relay"]["lastError"] is None


async def test_the_hubs_pass_leaves_a_served_nodes_store_alone(served: Served) -> None:
    later = FixedClock(DEMO_NOW + dt.timedelta(days=30))
    with count_statements(served.stores) as counted:
        done = await fire_all(served.stores, later)
    # every node of this map has an address: the hub's pass walks none of them
    assert done.timers == {} and done.cards == {}
    assert {node_id: counted[node_id] for node_id in PREFIXES} == dict.fromkeys(PREFIXES, 0)


async def test_a_hub_told_the_node_and_the_node_fire_nothing_twice(served: Served) -> None:
    number = await waiting_case(served.stores, YUCI, TODAY - dt.timedelta(days=3), skip=1)
    clock = FixedClock(DEMO_NOW)
    # three `govhub timers run --node` at once, racing the node's own process
    with count_statements(served.stores) as counted:
        await asyncio.gather(*(fire_all(served.stores, clock, only=[YUCI]) for _ in range(3)))
    assert counted[YUCI] > 0 and counted[TAIGU] == 0

    async def carded() -> bool:
        return len(await referral_cards(served.stores, YUCI, number)) == 2

    await eventually(carded, f"{number} carded")
    await asyncio.sleep(1.0)  # the node's next passes find nothing more to do
    assert await card_events(served.stores, YUCI, number) == {"YELLOW_CARD": 1, "RED_CARD": 1}


async def test_a_node_that_was_down_fires_what_fell_due_when_it_is_back(served: Served) -> None:
    # due after the demo's today: green while the node serves at the demo's clock
    number = await waiting_case(served.stores, YUCI, TODAY + dt.timedelta(days=3), skip=2)
    await asyncio.sleep(1.0)  # the node's passes at the demo's clock find it green
    await served.processes[YUCI].stop()
    assert await referral_cards(served.stores, YUCI, number) == set()

    # back a week later: the deadline fell due while it was down
    later = DEMO_NOW + dt.timedelta(days=7)
    await served.restart(YUCI, GOVHUB_CLOCK_OVERRIDE=later.isoformat())
    try:

        async def carded() -> bool:
            return CardColor.RED in await referral_cards(served.stores, YUCI, number)

        await eventually(carded, f"{YUCI} fires {number} once back")
    finally:
        await served.restart(YUCI)  # the demo's clock again, for the tests after


async def revise_a_licence(stores: NodeRegistry, reason: str) -> tuple[str, int, str]:
    """A licence issued at 榆次区 revised there: its id, new revision and the id of the
    outbox message that publishes it to the city's library."""
    async with stores[YUCI].sessions.begin() as session:
        licence = await session.scalar(
            select(ELicence)
            .where(ELicence.issuer_level != Level.CITY)
            .order_by(ELicence.id)
            .limit(1)
        )
        assert licence is not None, "the demo has a licence issued at 榆次区"
        licence.revision += 1
        licence.status_reason = reason
        await _publish(session, licence, DEMO_NOW)
        sent = await session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.entity == f"licence:{licence.id}",
                OutboxMessage.target_level == Level.CITY,
            )
            # each revision is written at the demo's clock: the entity's sequence orders them
            .order_by(OutboxMessage.entity_seq.desc())
            .limit(1)
        )
        assert sent is not None
        return licence.id, licence.revision, sent


async def test_a_message_reaches_the_city_node_with_only_the_nodes_running(
    served: Served,
) -> None:
    licence_id, revision, sent = await revise_a_licence(served.stores, "revised at the county node")

    async def in_library() -> bool:
        async with served.stores[CITY].sessions() as session:
            row = await session.get(ELicence, licence_id)
            return row is not None and row.revision == revision

    async def acknowledged() -> bool:
        async with served.stores[YUCI].sessions() as session:
            row = await session.get(OutboxMessage, sent)
            return row is not None and row.state is MessageState.ACKNOWLEDGED

    await eventually(in_library, "the city's library has the licence's revision")
    await eventually(acknowledged, "the city's receipt came back to the county")
    async with served.stores[CITY].sessions() as session:
        row = await session.get(ELicence, licence_id)
        assert row is not None and row.status_reason == "revised at the county node"


def hub_serving(stores: NodeRegistry, node_id: str) -> NodeRegistry:
    """A hub's registry over these stores whose map gives ``node_id`` no address (the
    hub relays for it) and the others theirs."""
    nodes = [
        replace(n, spec=replace(n.spec, address=IN_PROCESS)) if n.id == node_id else n
        for n in stores
    ]
    return NodeRegistry(NodeMap([n.spec for n in nodes]), nodes, stores.identity)


async def test_the_hubs_relay_hands_a_message_to_an_addressed_nodes_inbox(
    served: Served,
) -> None:
    # 榆次区 is the hub's to relay here: its own process serves its API and keys alone
    await served.restart(YUCI, GOVHUB_NODE_RELAY_INTERVAL_SECONDS="0")
    try:
        hub = hub_serving(served.stores, YUCI)
        licence_id, revision, sent = await revise_a_licence(hub, "revised, relayed by the hub")
        messenger = messenger_for(served.settings, hub, FixedClock(DEMO_NOW))
        assert messenger.serves == {YUCI}
        with count_statements(hub) as counted:
            done = await carry_once(messenger)
            again = await carry_once(messenger_for(served.settings, hub, FixedClock(DEMO_NOW)))
        # the city's store is its node's: the hub neither published nor consumed there
        assert counted[CITY] == 0 and counted[TAIGU] == 0 and counted[YUCI] > 0
        assert done.published >= 1 and done.receipts >= 1 and done.failed == 0
        assert again.published == 0 and again.applied == 0
        async with hub[YUCI].sessions() as session:
            row = await session.get(OutboxMessage, sent)
            assert row is not None and row.state is MessageState.ACKNOWLEDGED
        async with served.stores[CITY].sessions() as session:
            licence = await session.get(ELicence, licence_id)
            assert licence is not None and licence.revision == revision
            applied = await session.scalar(
                select(func.count()).select_from(InboxMessage).where(InboxMessage.id == sent)
            )
            assert applied == 1
    finally:
        await served.restart(YUCI)


async def outbox_state(stores: NodeRegistry, mid: str) -> MessageState:
    async with stores[YUCI].sessions() as session:
        row = await session.get(OutboxMessage, mid)
        assert row is not None
        return row.state


async def test_a_message_for_a_node_the_hub_holds_goes_to_the_hubs_inbox(
    served: Served,
) -> None:
    """The mixed map without NATS: the city is the hub's (no address), 榆次区 serves
    itself. 榆次区's relay hands the licence's message to the hub's
    ``/nodes/jinzhong/inbox`` (GOVHUB_HUB_URL), which applies it in the city's store;
    while the hub is down the message waits in 榆次区's outbox."""
    hub_url = f"http://127.0.0.1:{free_port()}"
    mixed = served.tmp / "nodes-city-at-hub.toml"
    mixed.write_text(node_map(served.ports, served.databases, held=CITY), encoding="utf-8")
    await served.restart(YUCI, GOVHUB_NODES=str(mixed), GOVHUB_HUB_URL=hub_url)
    try:
        licence_id, revision, sent = await revise_a_licence(served.stores, "through the hub")

        async def relay_runs() -> int:
            return int((await health(served, YUCI))["workers"]["relay"]["runs"])

        before = await relay_runs()

        async def passed() -> bool:
            return await relay_runs() >= before + 3

        await eventually(passed, f"{YUCI}'s relay runs with the hub down")
        assert await outbox_state(served.stores, sent) is MessageState.PENDING
        async with served.stores[CITY].sessions() as session:
            held = await session.get(ELicence, licence_id)
            assert held is None or held.revision < revision

        settings = served.settings.model_copy(
            update={"relay_interval_seconds": 0, "timer_interval_seconds": 0}
        )
        app = create_app(
            settings, nodes=hub_serving(served.stores, CITY), clock=FixedClock(DEMO_NOW)
        )
        port = int(hub_url.rsplit(":", 1)[1])
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        try:

            async def acknowledged() -> bool:
                return await outbox_state(served.stores, sent) is MessageState.ACKNOWLEDGED

            await eventually(acknowledged, "the hub's receipt for the city came back")
        finally:
            server.should_exit = True
            await serving
        async with served.stores[CITY].sessions() as session:
            licence = await session.get(ELicence, licence_id)
            assert licence is not None and licence.revision == revision
            assert licence.status_reason == "through the hub"
            applied = await session.scalar(
                select(func.count()).select_from(InboxMessage).where(InboxMessage.id == sent)
            )
            assert applied == 1
    finally:
        await served.restart(YUCI)


async def test_the_hubs_relay_starts_only_for_nodes_without_an_address(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    settings = served.settings.model_copy(update={"relay_interval_seconds": 0.2})
    clock = FixedClock(DEMO_NOW)
    for nodes, serves in ((served.stores, None), (hub_serving(served.stores, YUCI), {YUCI})):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="govhub.messaging"):
            app = create_app(settings, nodes=nodes, clock=clock)
        await app.state.broker.close()
        await app.state.identity.close()
        messenger = app.state.messenger
        assert (messenger and messenger.serves) == serves
        said = [r for r in caplog.records if NOTHING_TO_RELAY in r.getMessage()]
        assert len(said) == (1 if serves is None else 0)
    # nor does `govhub relay`: every node of this map serves itself
    result = await asyncio.to_thread(CliRunner().invoke, main, ["relay", "--once"], env=served.env)
    assert result.exit_code == 0, result.output
    assert NOTHING_TO_RELAY in result.output


async def test_the_heads_a_node_signs_verify_with_its_own_key(served: Served) -> None:
    # a card moved a head of 榆次区's node (the first test): its pass signed it again
    async def node_signed() -> bool:
        async with served.stores[YUCI].sessions() as session:
            kids = set(await session.scalars(select(AuditHead.kid)))
        return any(k and k.startswith(f"node:{YUCI}-") for k in kids)

    await eventually(node_signed, f"{YUCI} signs its heads with its own key")
    ring = KeyRing(served.stores.identity, secret=TEST_SECRET.encode(), clock=FixedClock(DEMO_NOW))
    keys = head_keys(served.stores[YUCI].sessions, YUCI, ring.public_key)
    async with served.stores[YUCI].sessions() as session:
        # heads are signed at the node's first level (gateway/timers.py does the same)
        report = await verify_chain(session=session, level="COUNTY", public_key_for=keys)
    assert report.valid, report
    assert all(part.head_signed for part in report.divisions)


async def test_an_inbox_post_signed_by_no_node_is_refused_unaudited(served: Served) -> None:
    async def refusals() -> int:
        async with served.stores[CITY].sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "MESSAGE_REFUSED")
            )
            return int(count or 0)

    before = await refusals()
    forged = HubKey.generate()  # a key of no node's
    token = jwt.encode({"typ": "msg", "iss": YUCI}, forged.private, "ES256", {"kid": "node:x"})
    async with httpx.AsyncClient(base_url=served.processes[CITY].base) as client:
        for body in ("not a token", token):
            answer = await client.post("/inbox", content=body, timeout=10)
            assert answer.status_code == 400
            assert answer.json()["outcome"] == "REFUSED"
    assert await refusals() == before
