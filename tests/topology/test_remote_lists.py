"""Lists the hub reads through the nodes' APIs (the processes of
``tests/support/federation.py``, the hub's own stores for the nodes left empty),
compared with the same queries answered by SQL over the nodes' own stores: the
children of a division, and the orgs, departments and windows of an org known by its
credit code (asked of the one node its code's area names)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from gateway.demo.plan import org_code_for
from levels.common.codes import parse_division
from tests.scenarios.desk import Desk
from tests.support.federation import (
    CITY,
    TAIGU,
    YUCI,
    Federation,
    counted_calls,
    every_page,
    sql_desk,
)

CHILDREN = """
query($code: String!) {
  division(code: $code) {
    children(first: 100) {
      edges { node { code name level children(first: 100) { edges { node { code name } } } } }
      pageInfo { hasNextPage }
    }
  }
}"""

ORGS = """
query($code: String!) {
  division(code: $code) {
    serviceOrg { code departments { id name org { code name } } windows { id name org { code } } }
  }
}"""


def _call_key(document: str, given: dict[str, Any]) -> tuple[str, Any]:
    typed = given.get("representations") or [{}]
    return document.split("(", 1)[0].split()[-1], given.get("of") or typed[0].get("__typename")


def calls(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> AbstractContextManager[Counter[Any]]:
    """The hub's calls to the nodes while the block runs: by node, operation and kind
    (a list's ``of``, an ``_entities`` call's type)."""
    return counted_calls(federation, monkeypatch, _call_key)


@pytest.fixture(scope="module")
async def by_sql(federation: Federation) -> AsyncIterator[Desk]:
    async with sql_desk(federation) as desk:
        yield desk


def _codes(data: dict[str, Any]) -> list[str]:
    return [e["node"]["code"] for e in data["division"]["children"]["edges"]]


async def test_children_of_a_division_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who, code, nodes in (
        # the counties (the city node's and the two), then the towns of each
        ("jz.auditor", "140700000000", {CITY, YUCI, TAIGU}),
        ("yuci.auditor", "140702000000", {YUCI}),  # 榆次区's towns, and their villages
        ("jz.auditor", "140703000000", {TAIGU}),
    ):
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run(who, CHILDREN, code=code)
        assert remote == await by_sql.run(who, CHILDREN, code=code), code
        assert _codes(remote), code
        # one call per node holding a level of the tree under the division, for the
        # whole batch of parents of that level: two levels, two calls
        asked = {n: k for (n, op, _), k in counted.items() if op == "Children"}
        assert asked == dict.fromkeys(nodes, 2), (code, counted)
    counties = _codes(await federation.desk.run("jz.auditor", CHILDREN, code="140700000000"))
    assert {"140702000000", "140703000000"} < set(counties)


async def test_an_orgs_departments_and_windows_ask_the_node_of_its_credit_code(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who, code in (
        ("yuci.auditor", "140702000000"),
        ("jz.auditor", "140700000000"),
        ("jz.auditor", "140703000000"),
    ):
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run(who, ORGS, code=code)
        assert remote == await by_sql.run(who, ORGS, code=code), code
        assert remote["division"]["serviceOrg"]["departments"], code
        owner = {"140702000000": YUCI, "140703000000": TAIGU}.get(code, CITY)
        # the division, its org; the org's departments and windows, the departments'
        # org: every call at the node the credit code names
        assert {n for n, _, _ in counted} == {owner}, counted
        assert sum(counted.values()) == 5, counted


DIBAO = "000500100100"  # 最低生活保障, implemented by the counties
VILLAGE = "140702101201"  # 修文镇's first village, in 榆次区
ROUTES = """
query($division: String!) {
  serviceRoutes(divisionCode: $division, first: 100) {
    edges { cursor node {
      matter { basicCode name }
      implementation {
        level implementationCode department { name }
        materials { name }
      }
      decidedAt { code level division { code } }
      receivableAt { level }
      path { level division { code } }
      preliminaryReviewAt { division { code } }
      delegation { id inForce }
      villageModes maxVisits onlineLevel
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
IMPLEMENTATIONS = """
query($division: String!) {
  serviceRoutes(divisionCode: $division, first: 3) { edges { node { matter {
    basicCode
    implementations(first: 100) {
      edges { node { implementationCode level divisionCode status materials { name } } }
    }
  } } } }
}"""


async def test_service_routes_and_a_matters_items_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    with calls(federation, monkeypatch) as counted:
        routes = await federation.desk.run("resident1", ROUTES, division=VILLAGE)
    assert routes == await by_sql.run("resident1", ROUTES, division=VILLAGE)
    edges = routes["serviceRoutes"]["edges"]
    assert edges and any(e["node"]["implementation"]["materials"] for e in edges)
    # the chain's items: one call at the city node (the city's) and one at 榆次区's
    # (its county, town and village), beside the loaders' batches
    items = {n: k for (n, op, of), k in counted.items() if of == "IMPLEMENTATIONS_OF_DIVISION"}
    assert items == {CITY: 1, YUCI: 1}, counted
    # every node once per kind of read, but the divisions: the route's own, then its
    # path's (two batches, as by SQL)
    assert counted.pop((YUCI, "Entities", "Division")) <= 2
    assert set(counted.values()) == {1}, counted

    with calls(federation, monkeypatch) as counted:
        found = await federation.desk.run("jz.auditor", IMPLEMENTATIONS, division=VILLAGE)
    assert found == await by_sql.run("jz.auditor", IMPLEMENTATIONS, division=VILLAGE)
    listed = [
        e["node"]
        for route in found["serviceRoutes"]["edges"]
        for e in route["node"]["matter"]["implementations"]["edges"]
    ]
    assert {e["divisionCode"][:6] for e in listed} >= {"140702", "140703"}
    assert any(e["materials"] for e in listed)
    # the matters' items asked of every node once
    assert {n for n, _, of in counted if of == "IMPLEMENTATIONS_OF_MATTER"} == {CITY, YUCI, TAIGU}
    counted.pop((YUCI, "Entities", "Division"), None)
    # the items from every node at once, then their materials at the nodes of their orgs
    assert set(counted.values()) == {1}, counted


MATTERS = """
query($filter: MatterFilter, $after: String) {
  matters(filter: $filter, first: 7, after: $after) {
    edges { node { basicCode name type status } }
    pageInfo { hasNextPage endCursor }
  }
}"""
MATTER_FILTERS: list[dict[str, Any]] = [
    {},
    {"keyword": "证"},
    {"type": "ADMINISTRATIVE_LICENSE"},
    {"status": "PUBLISHED"},
    {"divisionCode": "140702000000"},
    {"divisionCode": "140702101000", "onlineLevel": "FULLY_ONLINE"},
    {"level": "TOWN", "maxVisits": 0},
    {"keyword": "证", "divisionCode": "140703000000"},
]


async def _matters(desk: Desk, given: dict[str, Any]) -> list[dict[str, Any]]:
    return await every_page(desk, "jz.auditor", MATTERS, "matters", filter=given)


async def test_the_catalogues_matters_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for given in MATTER_FILTERS:
        listed = await _matters(federation.desk, given)
        assert listed == await _matters(by_sql, given), given
        assert listed, given
    # a page: one call at the city node; with a division, one more at each node
    # holding a level under it, for the basic codes its items implement
    with calls(federation, monkeypatch) as counted:
        await federation.desk.run("jz.auditor", MATTERS, filter={}, after=None)
    assert counted == {(CITY, "Matters", None): 1}
    with calls(federation, monkeypatch) as counted:
        given = {"divisionCode": "140702000000"}
        await federation.desk.run("jz.auditor", MATTERS, filter=given, after=None)
    assert counted == {(CITY, "Matters", None): 1, (YUCI, "Implemented", None): 1}


ITEMS = """
query($filter: ImplementationFilter, $after: String) {
  matterImplementations(filter: $filter, first: 9, after: $after) {
    edges { node { implementationCode divisionCode status handlingKind materials { name } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ITEM_FILTERS: list[dict[str, Any]] = [
    {},
    {"keyword": "证"},
    {"basicCode": DIBAO},
    {"divisionCode": "140702000000"},
    {"orgCode": org_code_for(parse_division("140702000000"))},
    {"handlingKind": "IMMEDIATE", "divisionCode": "140703000000"},
    {"onlineLevel": "FULLY_ONLINE"},
    {"maxVisits": 0, "level": "COUNTY"},
    {"delegatedOnly": True},
    {"status": "PUBLISHED", "keyword": "证", "divisionCode": "140702101000"},
]


async def _items(desk: Desk, who: str, given: dict[str, Any]) -> list[dict[str, Any]]:
    return await every_page(desk, who, ITEMS, "matterImplementations", filter=given)


async def test_the_lists_of_implementation_items_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who in ("jz.auditor", "resident1"):
        for given in ITEM_FILTERS:
            listed = await _items(federation.desk, who, given)
            assert listed == await _items(by_sql, who, given), (who, given)
            assert listed, (who, given)
    # a page: one call a node for the items, one for their materials
    with calls(federation, monkeypatch) as counted:
        await federation.desk.run("jz.auditor", ITEMS, filter={}, after=None)
    assert {op for _, op, _ in counted} == {"ItemsWhere", "OrgRecords"}
    assert set(counted.values()) == {1}, counted


async def test_a_stopped_node_leaves_the_others_children_and_items_and_is_named(
    federation: Federation, by_sql: Desk
) -> None:
    expected = _codes(await by_sql.run("jz.auditor", CHILDREN, code="140700000000"))
    items = await by_sql.run("jz.auditor", IMPLEMENTATIONS, division=VILLAGE)
    listed = await _items(by_sql, "jz.auditor", {"handlingKind": "IMMEDIATE"})
    await federation.served[TAIGU].stop()

    # the list of items: the others' in order, 太谷区 named
    page = ITEMS.replace("first: 9", "first: 100")
    body = await federation.desk.ask("jz.auditor", page, filter={"handlingKind": "IMMEDIATE"})
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
    others = [i for i in listed if not i["divisionCode"].startswith("140703")]
    assert [e["node"] for e in body["data"]["matterImplementations"]["edges"]] == others[:100]

    # a matter's items: those of the nodes that answer, 太谷区 named
    body = await federation.desk.ask("jz.auditor", IMPLEMENTATIONS, division=VILLAGE)
    for route, expected_route in zip(
        body["data"]["serviceRoutes"]["edges"], items["serviceRoutes"]["edges"], strict=True
    ):
        listed = route["node"]["matter"]["implementations"]["edges"]
        assert listed == [
            e
            for e in expected_route["node"]["matter"]["implementations"]["edges"]
            if not e["node"]["divisionCode"].startswith("140703")
        ]
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
    # once per field (the node holds several levels of none of them: asked once)
    assert len(body["errors"]) == len(items["serviceRoutes"]["edges"])

    body = await federation.desk.ask("jz.auditor", CHILDREN, code="140700000000")

    listed = _codes(body["data"])
    assert listed == [c for c in expected if c != "140703000000"]
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
