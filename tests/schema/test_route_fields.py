"""A page of service routes loads its chain's orgs and its matters once for the page:
a route's ``matter``, ``decidedAt`` and ``path`` resolve from them without a loader
call (a future) each, and a node that does not answer still fails only those fields."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.loaders import MatterByCodeLoader, ServiceOrgByDivisionLoader
from tests.conftest import GraphQLClient

ROUTES = """
{ serviceRoutes(divisionCode: "140702101201", first: 50) {
    edges { node {
      matter { name } decidedAt { name } path { name } receivableAt { name }
      preliminaryReviewAt { name }
    } }
} }"""


async def test_a_page_of_routes_loads_orgs_and_matters_once(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: dict[str, int] = {"orgs": 0, "matters": 0}
    for name, loader in (("orgs", ServiceOrgByDivisionLoader), ("matters", MatterByCodeLoader)):
        original = loader.load

        def counting(self: Any, key: Any, _original: Any = original, _name: str = name) -> Any:
            loads[_name] += 1
            return _original(self, key)

        monkeypatch.setattr(loader, "load", counting)
    body = await gql(ROUTES)
    assert "errors" not in body, body
    edges = body["data"]["serviceRoutes"]["edges"]
    assert len(edges) > 30
    assert all(e["node"]["decidedAt"]["name"] and e["node"]["path"] for e in edges)
    # the chain's four orgs, and each listed matter once — not one load per route field
    assert loads["orgs"] == 4
    assert loads["matters"] <= len(edges)
