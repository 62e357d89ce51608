"""The per-county topology: the same answers as the embedded default, each county's
cases only in its own node's database, and a county node that is down named with its
prefixes next to the rest of the data (DESIGN §2, Nodes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.cases.models import Case
from levels.common.enums import Level
from levels.notices.models import CaseNotice
from tests.scenarios.desk import Desk
from tests.scenarios.test_cross_level_journey import (
    test_authorize_proxy_refer_review_accept_approve_and_see_it as journey,
)
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


async def _count(node_url: str, model: Any, prefix: str) -> int:
    """Rows of ``model`` whose case number starts with ``prefix``, read straight from a
    node's database (an engine of the test's own, not the hub's)."""
    engine = create_async_engine(node_url)
    try:
        async with engine.connect() as conn:
            column = model.number if model is Case else model.case_number
            return (
                await conn.scalar(
                    select(func.count()).select_from(model).where(column.startswith(prefix))
                )
            ) or 0
    finally:
        await engine.dispose()


async def test_a_county_keeps_its_cases_in_its_own_database(
    county_desk: Desk, county_nodes: NodeRegistry
) -> None:
    # a resident's case handed in at a 榆次区 village station, referred up, decided
    await journey(county_desk, county_nodes)
    for model in (Case, AuditEvent, CaseNotice):
        counts = {n.id: await _count(n.url, model, "140702") for n in county_nodes}
        assert counts[YUCI] > 0, (model, counts)
        elsewhere = {node_id: n for node_id, n in counts.items() if node_id != YUCI and n}
        assert elsewhere == {}, (model.__tablename__, elsewhere)
