"""The materials of a page of implementation items, and its items' matter, org,
division, department, delegation and delegatedFrom, are loaded by the page (one
statement per store) and answered as ready values: no resolver call and no awaitable
per item, so a page of 50 costs graphql-core as many awaitables as a page of 5. An item
that did not come from such a page answers them through its resolvers, the same ones;
the READ guard hides or refuses the same objects either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import resolvers.catalogue
import resolvers.routing
from auth.policy import Resource, Target
from gateway.nodes import NodeRegistry, count_statements
from gateway.settings import Settings
from levels.common.enums import Level
from schema.divisions import ServiceOrg
from schema.matters import Matter
from tests.auth.conftest import own_hub
from tests.conftest import GraphQLClient
from tests.support.outages import store_down

ITEMS = """
query($first: Int) {
  matterImplementations(first: $first, filter: {level: COUNTY, status: PUBLISHED}) {
    edges { node { id implementationCode materials { name form copies } } }
  }
}"""
ITEMS_BY_FRAGMENT = """
query($first: Int) {
  matterImplementations(first: $first, filter: {level: COUNTY, status: PUBLISHED}) {
    nodes { ...guide }
  }
}
fragment guide on MatterImplementation { implementationCode materials { name } }"""
ROUTES = """
query($first: Int) {
  serviceRoutes(divisionCode: "140702101201", first: $first) {
    edges { node { implementation { implementationCode materials { name form } } } }
  }
}"""
RELATIONS = """
query($first: Int) {
  matterImplementations(first: $first, filter: {level: COUNTY, status: PUBLISHED}) {
    edges { node { implementationCode
      org { code name } department { name } matter { basicCode name } division { name }
      materials { name } } }
  }
}"""
TOWN_RELATIONS = """
query($first: Int) {
  matterImplementations(first: $first, filter: {level: TOWN}) {
    nodes { ...item }
  }
}
fragment item on MatterImplementation {
  implementationCode org { name } department { name } matter { name } division { code }
  delegation { legalInstrument } delegatedFrom { implementationCode status }
}"""
ROUTE_RELATIONS = """
query($first: Int) {
  serviceRoutes(divisionCode: "140702101201", first: $first) {
    edges { node { matter { name } decidedAt { name } path { name }
      implementation { implementationCode org { name } department { name }
        matter { name } division { name } materials { name } } } }
  }
}"""
ONE = """
query($id: ID!) {
  node(id: $id) { ... on MatterImplementation { materials { name form copies } } }
}"""


async def _run(
    gql: GraphQLClient, nodes: NodeRegistry, seen: list[str], query: str, first: int
) -> tuple[dict[str, Any], dict[str, int], int]:
    seen.clear()
    with count_statements(nodes) as log:
        body = await gql(query, {"first": first})
    assert "errors" not in body, body
    return body["data"], dict(log), len(seen)


async def test_a_page_of_items_answers_materials_without_a_future_per_item(
    gql: GraphQLClient, nodes: NodeRegistry, awaitables: list[str]
) -> None:
    small, small_sql, small_waits = await _run(gql, nodes, awaitables, ITEMS, 5)
    large, large_sql, large_waits = await _run(gql, nodes, awaitables, ITEMS, 50)
    edges = large["matterImplementations"]["edges"]
    assert len(small["matterImplementations"]["edges"]) == 5 and len(edges) == 50
    assert sum(1 for e in edges if e["node"]["materials"]) > 10
    # the page and its materials: one statement each, whatever the page's length
    assert small_sql == large_sql and large_sql["county"] == 2
    assert large_waits == small_waits
    # the resolver's answer for one of them, asked alone, is the same list
    listed = next(e["node"] for e in edges if len(e["node"]["materials"]) > 1)
    alone = await gql(ONE, {"id": listed["id"]})
    assert alone["data"]["node"]["materials"] == listed["materials"]


async def test_materials_asked_through_a_fragment_are_ready_too(
    gql: GraphQLClient, nodes: NodeRegistry, awaitables: list[str]
) -> None:
    plain, _, _ = await _run(gql, nodes, awaitables, ITEMS, 50)
    data, statements, waits = await _run(gql, nodes, awaitables, ITEMS_BY_FRAGMENT, 50)
    _, _, small_waits = await _run(gql, nodes, awaitables, ITEMS_BY_FRAGMENT, 5)
    names = [[m["name"] for m in n["materials"]] for n in data["matterImplementations"]["nodes"]]
    expected = [
        [m["name"] for m in e["node"]["materials"]] for e in plain["matterImplementations"]["edges"]
    ]
    assert names == expected
    assert statements["county"] == 2 and waits == small_waits


async def test_a_page_of_routes_answers_materials_without_a_future_per_route(
    gql: GraphQLClient, nodes: NodeRegistry, awaitables: list[str]
) -> None:
    _, small_sql, small_waits = await _run(gql, nodes, awaitables, ROUTES, 5)
    large, large_sql, large_waits = await _run(gql, nodes, awaitables, ROUTES, 50)
    assert len(large["serviceRoutes"]["edges"]) > 30
    assert any(e["node"]["implementation"]["materials"] for e in large["serviceRoutes"]["edges"])
    assert large_waits == small_waits
    # per store: the items, their materials and the chain's orgs; the catalogue (city);
    # delegations and their towns (county); the village itself
    assert large_sql == {"city": 4, "county": 5, "town": 3, "village": 4, "identity": 0}
    assert all(small_sql[store] <= large_sql[store] for store in large_sql)


def resolve_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, pages load nothing for their items: every relation through its
    resolver."""

    async def nothing(*_args: Any) -> None:
        return None

    monkeypatch.setattr(resolvers.catalogue, "ready_items", nothing)
    monkeypatch.setattr(resolvers.routing, "ready_items", nothing)


@pytest.mark.parametrize(
    ("query", "statements"),
    [
        # county: the page, materials, orgs, departments, divisions; city: the matters
        (RELATIONS, {"city": 1, "county": 5, "town": 0, "village": 0, "identity": 0}),
        # town: the page, orgs, departments, divisions; county: the delegations, their
        # towns and the county items they come from; city: the matters
        (TOWN_RELATIONS, {"city": 1, "county": 3, "town": 4, "village": 0, "identity": 0}),
        # the routes' own (above), and per store the items' orgs, departments, divisions
        (ROUTE_RELATIONS, {"city": 7, "county": 8, "town": 6, "village": 6, "identity": 0}),
    ],
    ids=["county-items", "town-items", "routes"],
)
async def test_a_page_answers_its_items_relations_without_a_future_per_item(
    gql: GraphQLClient,
    nodes: NodeRegistry,
    awaitables: list[str],
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    statements: dict[str, int],
) -> None:
    _, small_sql, small_waits = await _run(gql, nodes, awaitables, query, 5)
    large, large_sql, large_waits = await _run(gql, nodes, awaitables, query, 50)
    # one awaitable (the page's own field), whatever the page's length
    assert small_waits == large_waits == 1
    assert large_sql == statements
    assert all(small_sql[store] <= large_sql[store] for store in large_sql)
    # the same answers, and statements, as every relation through its resolver
    resolve_all(monkeypatch)
    plain, plain_sql, plain_waits = await _run(gql, nodes, awaitables, query, 50)
    assert large == plain and large_sql == plain_sql
    assert plain_waits > 100  # the resolvers: a future per item and field


async def test_the_town_items_relations_are_all_there(
    gql: GraphQLClient, nodes: NodeRegistry, awaitables: list[str]
) -> None:
    data, _, _ = await _run(gql, nodes, awaitables, TOWN_RELATIONS, 50)
    items = data["matterImplementations"]["nodes"]
    delegated = [i for i in items if i["delegation"] is not None]
    assert delegated and all(i["delegatedFrom"] for i in delegated)
    assert all(i["delegatedFrom"] is None for i in items if i["delegation"] is None)
    assert all(i["org"]["name"] and i["matter"]["name"] for i in items)


def _hidden(self: object) -> Target:
    """A catalogue object nobody outside the county's staff may read."""
    return Target(Resource.DRAFT_ITEM, division_code="140702000000")


async def test_the_guard_hides_and_refuses_the_same_objects_on_a_page(
    gql: GraphQLClient,
    nodes: NodeRegistry,
    awaitables: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Matter, "authz_target", _hidden)
    monkeypatch.setattr(ServiceOrg, "authz_target", _hidden)
    matters = """
    query {
      matterImplementations(first: 5, filter: {level: COUNTY, status: PUBLISHED}) {
        nodes { implementationCode matter { name } }
      }
    }"""
    orgs = """
    query {
      matterImplementations(first: 3, filter: {level: COUNTY, status: PUBLISHED}) {
        nodes { implementationCode org { name } }
      }
    }"""

    def answer(body: dict[str, Any]) -> tuple[Any, list[Any]]:
        errors = sorted(
            (tuple(e["path"]), e["message"], e["extensions"].get("code"))
            for e in body.get("errors", [])
        )
        return body["data"], errors

    ready = [answer(await gql(matters)), answer(await gql(orgs))]
    resolve_all(monkeypatch)
    assert ready == [answer(await gql(matters)), answer(await gql(orgs))]
    (hidden, no_errors), (refused, errors) = ready
    # one object or null: hidden, as for a key nobody holds
    items = hidden["matterImplementations"]["nodes"]
    assert [n["matter"] for n in items] == [None] * 5 and not no_errors
    # non-null: refused at each item's org, the page nulled with it
    assert refused is None
    assert errors and {code for _, _, code in errors} == {"UNAUTHENTICATED"}
    assert {path[-1] for path, _, _ in errors} == {"org"}


@pytest.fixture
async def city_down(
    settings: Settings, nodes: NodeRegistry, tmp_path: Path
) -> AsyncIterator[GraphQLClient]:
    """A hub over the demo stores whose city store (the catalogue) does not answer."""
    async with store_down(nodes, Level.CITY, tmp_path) as down, own_hub(settings, down) as hub:
        yield hub.gql


async def test_a_relation_whose_store_is_down_is_reported_per_item_as_before(
    city_down: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """
    query {
      matterImplementations(first: 4, filter: {level: COUNTY, status: PUBLISHED}) {
        nodes { implementationCode org { name } matter { name } }
      }
    }"""

    def answer(body: dict[str, Any]) -> tuple[Any, list[Any]]:
        errors = sorted(
            (tuple(e["path"]), e["extensions"].get("code")) for e in body.get("errors", [])
        )
        return body["data"], errors

    ready = answer(await city_down(query))
    resolve_all(monkeypatch)
    assert ready == answer(await city_down(query))
    data, errors = ready
    items = data["matterImplementations"]["nodes"]
    # the county's orgs arrive; each matter is null, with the city's error at its path
    assert len(items) == 4 and all(i["org"]["name"] and i["matter"] is None for i in items)
    assert [path for path, _ in errors] == [
        ("matterImplementations", "nodes", n, "matter") for n in range(4)
    ]
    assert {code for _, code in errors} == {"NODE_UNAVAILABLE"}


LEAVES = """
query($first: Int) {
  matterImplementations(first: $first, filter: {level: COUNTY, status: PUBLISHED}) {
    edges { node { implementationCode materials { %s } } }
  }
}"""


async def test_a_list_of_leaves_answers_as_graphql_core_completes_it(gql: GraphQLClient) -> None:
    """Materials whose selected fields are all plain attributes are answered in one
    loop; with ``__typename`` (not a ready leaf) or a nullable leaf that is null
    (``satisfiedByLicenceType``), graphql-core completes them: the same values, aliases
    and order either way."""
    fields = "n: name form copies name tolerable"
    fast = await gql(LEAVES % fields, {"first": 50})
    slow = await gql(LEAVES % f"__typename {fields} satisfiedByLicenceType", {"first": 50})
    assert "errors" not in fast and "errors" not in slow, (fast, slow)
    fast_items = [e["node"]["materials"] for e in fast["data"]["matterImplementations"]["edges"]]
    slow_items = [e["node"]["materials"] for e in slow["data"]["matterImplementations"]["edges"]]
    assert sum(len(m) for m in fast_items) > 20
    for listed, completed in zip(fast_items, slow_items, strict=True):
        for answer, full in zip(listed, completed, strict=True):
            assert list(answer) == ["n", "form", "copies", "name", "tolerable"]
            assert answer == {k: full[k] for k in answer}
            assert full["__typename"] == "Material"
    assert any(m["satisfiedByLicenceType"] is None for ms in slow_items for m in ms)
