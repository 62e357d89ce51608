"""A city node and two county nodes as processes of their own (``govhub node init`` and
``govhub node serve`` on free loopback ports, a SQLite store each), and a hub whose node
map gives their addresses: the hub's reads of cases and divisions come from the nodes'
APIs — a case written into a county node's store, which the hub's own store for that
node does not hold, is what the hub answers — and a county node that is stopped is
NODE_UNAVAILABLE naming it while the other county still answers.

The hub's stores for the three nodes are its own empty files: what still reads SQL
(docs/notes/federated.md) finds nothing there, so an answer with the node's rows came
through its API."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.messaging.factory import embedded_messenger, messenger_for
from gateway.messaging.keys import PATH, jwks_source
from gateway.messaging.worker import node_keys
from gateway.nodes import NodeRegistry
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.reads import table
from levels.outbox import signing
from resolvers.registry import count_statements
from tests.conftest import DEMO_NOW
from tests.support.federation import CITY, TAIGU, YUCI, Federation, sql_desk
from tests.support.outages import named, no_answer

# a case the test writes into 榆次区's node while it serves: received at the county
CREATED = "140702000000-20261120-99999"

CASE = "query($number: String!) { case(number: $number) { number status matterName level } }"
CASES = """
query($after: String) {
  cases(first: 5, after: $after) {
    edges { node { number } }
    pageInfo { hasNextPage endCursor }
  }
}"""
DIVISION = "query($code: String!) { division(code: $code) { code name } }"
IN_DIVISION = """
query($code: String!) {
  cases(first: 100, filter: {divisionCode: $code}) { edges { node { number } } }
}"""
XIUWEN_TOWN = "140702101000"


async def _write_case(stores: NodeRegistry) -> Case:
    """A case written straight into 榆次区's node store, as the node's own desk would:
    a copy of one of its demo cases under a number of its own."""
    async with stores[YUCI].sessions() as session:
        model = await session.scalar(
            select(Case)
            .where(Case.number.startswith("140702000000-"), Case.status == CaseStatus.ACCEPTED)
            .limit(1)
        )
        assert model is not None
        columns = {c.key: getattr(model, c.key) for c in table(Case).columns}
        row = Case(**{**columns, "number": CREATED})
        session.add(row)
        await session.commit()
    return row


async def _held(registry: NodeRegistry, node_id: str, number: str) -> Case | None:
    async with registry[node_id].sessions() as session:
        return await session.get(Case, number)


async def test_a_case_written_at_a_county_node_is_answered_by_the_hub(
    federation: Federation,
) -> None:
    written = await _write_case(federation.stores)
    assert await _held(federation.hub, YUCI, CREATED) is None  # not in the hub's store

    data = await federation.desk.run("yuci.auditor", CASE, number=CREATED)

    assert data["case"] == {
        "number": CREATED,
        "status": written.status.name,
        "matterName": written.matter_name,
        "level": written.level.name,
    }


async def test_a_county_auditors_list_is_the_county_nodes_cases(federation: Federation) -> None:
    # what 榆次区's node holds that its auditor lists: not referred on, by number
    async with federation.stores[YUCI].sessions() as session:
        expected = list(
            await session.scalars(
                select(Case.number).where(Case.status != CaseStatus.REFERRED).order_by(Case.number)
            )
        )
    listed: list[str] = []
    after = None
    while True:  # page by page, with the hub's cursor
        data = await federation.desk.run("yuci.auditor", CASES, after=after)
        listed += [edge["node"]["number"] for edge in data["cases"]["edges"]]
        if not data["cases"]["pageInfo"]["hasNextPage"]:
            break
        after = data["cases"]["pageInfo"]["endCursor"]

    assert len(expected) > 5  # more than one page
    assert listed == expected


async def test_a_filter_on_a_town_is_the_towns_cases_at_the_node(
    federation: Federation,
) -> None:
    town = XIUWEN_TOWN[:9]
    async with federation.stores[YUCI].sessions() as session:
        expected = list(
            await session.scalars(
                select(Case.number)
                .where(
                    Case.status != CaseStatus.REFERRED,
                    Case.number.startswith(town),
                    Case.division_code.startswith(town),
                )
                .order_by(Case.number)
            )
        )

    data = await federation.desk.run("yuci.auditor", IN_DIVISION, code=XIUWEN_TOWN)

    assert expected  # the demo has cases in 修文镇
    assert [e["node"]["number"] for e in data["cases"]["edges"]] == expected


async def test_divisions_come_from_the_node_that_owns_them(federation: Federation) -> None:
    data = await federation.desk.run("jz.auditor", DIVISION, code="140703000000")
    assert data["division"] == {"code": "140703000000", "name": "太谷区"}


async def _signed_by_each(federation: Federation) -> dict[str, str]:
    """A receipt signed by each node with its key (as its first message makes it)."""
    settings = federation.desk.hub.app.state.settings
    signer = signing.NodeSigner(settings.identity_secret())
    receipts: dict[str, str] = {}
    for node_id in (CITY, YUCI, TAIGU):
        async with federation.stores[node_id].sessions.begin() as session:
            receipts[node_id] = await signer.receipt(
                session, node_id, claims={"iss": CITY, "mid": f"m-{node_id}"},
                received=b"x", outcome="APPLIED", now=DEMO_NOW,
            )  # fmt: skip
    return receipts


def _keys_asked(federation: Federation, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The hub's clients' reads of each node's published keys, counted by node."""
    asked: Counter[str] = Counter()
    for node in federation.hub:
        client = node.client
        assert client is not None
        read = client.node_keys

        async def counted(*, _n: str = node.id, _r: Any = read) -> Any:
            asked[_n] += 1
            return await _r()

        monkeypatch.setattr(client, "node_keys", counted)
    return asked


async def test_the_hubs_node_keys_are_each_nodes_own_list(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub's ``/.well-known/node-keys.json`` merges each node's own list, read
    through its API (its store is not the hub's to read: the hub's own are empty) —
    the SQL path's list, one call per node — and a worker reading it verifies what a
    node signed. A node that does not answer leaves its keys out."""
    receipts = await _signed_by_each(federation)
    asked = _keys_asked(federation, monkeypatch)
    http = federation.desk.hub.gql.http

    served = (await http.get(PATH)).json()
    async with sql_desk(federation) as by_sql:
        local = (await by_sql.hub.gql.http.get(PATH)).json()

    assert served == local
    assert {k["node"] for k in served["keys"]} == {CITY, YUCI, TAIGU}, served
    assert asked == dict.fromkeys((CITY, YUCI, TAIGU), 1)
    async with httpx.AsyncClient() as own:
        for node_id in (CITY, YUCI, TAIGU):
            address = federation.hub[node_id].spec.address
            listed = (await own.get(address.rstrip("/") + PATH)).json()["keys"]
            assert listed and all(k in served["keys"] for k in listed), node_id
    # GOVHUB_NODE_KEYS_URL's reader: what each node signed verifies against the list
    keys = node_keys(federation.hub, source=jwks_source(f"http://govhub.test{PATH}", client=http))
    for node_id, receipt in receipts.items():
        assert (await keys.open(receipt))["iss"] == node_id

    no_answer(monkeypatch, federation.hub, TAIGU, "node_keys")
    partial = (await http.get(PATH)).json()
    assert {k["node"] for k in partial["keys"]} == {CITY, YUCI}, partial
    assert partial["keys"] == [k for k in served["keys"] if k["node"] != TAIGU]


async def test_a_worker_takes_an_addressed_node_s_keys_from_its_published_list(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message worker over the hub's map working in none of the nodes' stores (each
    node has an address) verifies what each node signed against that node's own list,
    read through the hub's client of it, one call per node: the hub's own stores for
    the nodes are empty, and not read. So does the hub's relay (``messenger_for``),
    which works in the stores of the nodes without an address: here none."""
    receipts = await _signed_by_each(federation)
    asked = _keys_asked(federation, monkeypatch)
    settings = federation.desk.hub.app.state.settings
    clock = federation.desk.hub.clock
    worker = embedded_messenger(
        federation.hub, clock, settings.identity_secret(), serves=frozenset()
    )
    relay = messenger_for(settings, federation.hub, clock)

    for messenger in (worker, relay):
        with count_statements(federation.hub) as statements:
            for node_id, receipt in receipts.items():
                assert (await messenger.keys.open(receipt))["iss"] == node_id
        assert not any(statements[node.id] for node in federation.hub), statements
    assert asked == dict.fromkeys((CITY, YUCI, TAIGU), 2)
    # a worker working in every store (the demo loader's) reads each from its store
    loader = embedded_messenger(federation.stores, clock, settings.identity_secret())
    with count_statements(federation.stores) as statements:
        assert (await loader.keys.open(receipts[YUCI]))["iss"] == YUCI
    assert all(statements[node.id] for node in federation.stores)


async def test_a_stopped_county_node_is_named_and_the_other_county_answers(
    federation: Federation,
) -> None:
    await federation.served[TAIGU].stop()
    desk = federation.desk

    down = await desk.ask("jz.auditor", DIVISION, code="140703000000")
    up = await desk.ask("jz.auditor", DIVISION, code="140702000000")
    listed = await desk.ask("jz.auditor", CASES, after=None)

    assert down["data"]["division"] is None
    assert named(down) == [("NODE_UNAVAILABLE", TAIGU)]
    assert up == {"data": {"division": {"code": "140702000000", "name": "榆次区"}}}
    # the city's list: partial, 太谷区 named, the rest there
    assert named(listed) == [("NODE_UNAVAILABLE", TAIGU)]
    numbers = [edge["node"]["number"] for edge in listed["data"]["cases"]["edges"]]
    assert numbers and not any(n.startswith("140703") for n in numbers)
    still = await desk.run("yuci.auditor", CASE, number=CREATED)
    assert still["case"]["number"] == CREATED
    # 太谷区 is outside 榆次区's auditor's jurisdiction: its node is not asked at all
    outside = await desk.ask("yuci.auditor", IN_DIVISION, code="140703000000")
    assert outside == {"data": {"cases": {"edges": []}}}
