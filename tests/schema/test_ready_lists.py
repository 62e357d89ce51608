"""The materials of a page of implementation items are loaded by the page (one
statement per store) and answered as ready lists: no resolver call and no awaitable per
item, so a page of 50 costs graphql-core as many awaitables as a page of 5. An item
that did not come from such a page answers its materials through its resolver, the
same ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.nodes import NodeRegistry, count_statements
from schema.execution import ReadyLeavesExecutionContext
from tests.conftest import GraphQLClient

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
ONE = """
query($id: ID!) {
  node(id: $id) { ... on MatterImplementation { materials { name form copies } } }
}"""


@pytest.fixture
def awaitables(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The field values graphql-core completes as awaitables (a future each)."""
    seen: list[str] = []
    original = ReadyLeavesExecutionContext.complete_awaitable_value

    def counting(self: Any, return_type: Any, *args: Any, **kw: Any) -> Any:
        seen.append(str(return_type))
        return original(self, return_type, *args, **kw)

    monkeypatch.setattr(ReadyLeavesExecutionContext, "complete_awaitable_value", counting)
    yield seen


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
