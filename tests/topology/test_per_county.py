"""The per-county topology: the same answers as the embedded default, each county's
cases only in its own node's database, and a county node that is down named with its
prefixes next to the rest of the data (DESIGN §2, Nodes)."""

from __future__ import annotations

from typing import Any

from gateway.nodes import NodeRegistry
from levels.common.enums import Level
from tests.scenarios.desk import Desk
from tests.topology.conftest import COUNTIES, YUCI

DIVISION = "query($code: String!) { division(code: $code) { code name level } }"
ROUTES = """
query($code: String!) {
  serviceRoutes(divisionCode: $code, first: 100) {
    edges { node { implementation { implementationCode } decidedAt { level } } }
  }
}"""
AUDITOR_CASES = "query { cases(first: 100) { edges { node { number status level } } } }"
XIUWEN_VILLAGE = "140702101201"


async def _ask(desk: Desk, who: str | None, query: str, **variables: Any) -> dict[str, Any]:
    if who is None:
        return await desk.hub.gql(query, variables)
    return await desk.ask(who, query, **variables)


async def test_the_per_county_map_routes_by_prefix(county_nodes: NodeRegistry) -> None:
    assert [n.id for n in county_nodes] == ["jinzhong", *COUNTIES]
    assert county_nodes.owner(XIUWEN_VILLAGE).id == YUCI
    assert county_nodes.owner("140703000000").id == "county-140703"
    assert county_nodes.owner("140700000000").id == "jinzhong"
    assert county_nodes[Level.CITY].id == "jinzhong"
    try:
        county_nodes[Level.COUNTY]
    except LookupError as exc:
        assert "COUNTY" in str(exc)
    else:
        raise AssertionError("several nodes hold the county level")
