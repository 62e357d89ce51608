"""The per-county topology: the same answers as the embedded default, each county's
cases only in its own node's database, and a county node that is down named with its
prefixes next to the rest of the data (DESIGN §2, Nodes)."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.cases.models import Case
from levels.common.enums import Level
from levels.evaluations.models import Evaluation
from levels.notices.models import CaseNotice
from resolvers.globalid import decode_id
from tests.auth.conftest import own_hub
from tests.scenarios.desk import Desk
from tests.scenarios.test_cross_level_journey import (
    test_authorize_proxy_refer_review_accept_approve_and_see_it as journey,
)
from tests.topology.conftest import COUNTIES, YUCI, message_sources

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
    # a row of the city level about a village of 榆次区: the city node's
    assert county_nodes.owner_at(XIUWEN_VILLAGE, Level.CITY).id == "jinzhong"
    assert county_nodes[Level.CITY].id == "jinzhong"
    try:
        county_nodes[Level.COUNTY]
    except LookupError as exc:
        assert "COUNTY" in str(exc)
    else:
        raise AssertionError("several nodes hold the county level")


async def test_each_demo_message_starts_from_one_node(county_nodes: NodeRegistry) -> None:
    """The demo's messages, each in the outbox of its division's owner at its source
    level: 修文镇's licence published from the town level and used by a case of 榆次区's
    centre starts both sequences from 榆次区's node."""
    sources = await message_sources(county_nodes)
    licence = "licence:YYZZ.12140702MB1010008W.000002.1.3"
    assert sources[(licence, Level.TOWN)] == sources[(licence, Level.COUNTY)] == {YUCI}


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


async def _demo_numbers(embedded: NodeRegistry) -> set[str]:
    """The demo's cases: those of the embedded stores, which no test writes to."""
    numbers: set[str] = set()
    for node in embedded:
        async with node.sessions() as session:
            numbers |= set(await session.scalars(select(Case.number)))
    return numbers


def _demo_only(body: dict[str, Any], demo: set[str]) -> dict[str, Any]:
    """The answer without the cases tests wrote into the session's per-county stores
    (this module's journey, ``test_county_writes.py``'s): the embedded stores have none."""
    edges = body["data"]["cases"]["edges"]
    body["data"]["cases"]["edges"] = [e for e in edges if e["node"]["number"] in demo]
    return body


async def test_the_same_questions_get_the_same_answers_as_the_embedded_default(
    county_desk: Desk, embedded_desk: Desk, embedded_stores: tuple[Settings, NodeRegistry]
) -> None:
    demo = await _demo_numbers(embedded_stores[1])
    asked: list[tuple[str, str, dict[str, Any]]] = [
        ("resident1", DIVISION, {"code": XIUWEN_VILLAGE}),
        ("resident1", DIVISION, {"code": "140702000000"}),
        ("resident1", DIVISION, {"code": "140700000000"}),
        ("resident1", ROUTES, {"code": XIUWEN_VILLAGE}),
        ("jz.auditor", AUDITOR_CASES, {}),
        ("yuci.auditor", AUDITOR_CASES, {}),
    ]
    for who, query, variables in asked:
        county = await county_desk.ask(who, query, **variables)
        embedded = await embedded_desk.ask(who, query, **variables)
        if query is AUDITOR_CASES:
            county = _demo_only(county, demo)
            assert county["data"]["cases"]["edges"], who
        assert "errors" not in county, county
        assert county == embedded, (who, query, variables)


COUNTIES_LIST = "query { divisions(level: COUNTY, first: 50) { edges { node { code } } } }"


async def test_a_county_node_that_is_down_is_named_with_its_prefixes(
    county_stores: tuple[Settings, NodeRegistry],
) -> None:
    settings, nodes = county_stores
    yuci = nodes[YUCI]
    # a database that cannot be opened: an SQLite file in a folder that is not there
    # (PostgreSQL: a server that does not listen)
    url = (
        "postgresql+asyncpg://govhub:secret@127.0.0.1:1/govhub"
        if yuci.url.startswith("postgresql")
        else "sqlite+aiosqlite:////nonexistent-govhub-folder/store.db"
    )
    engine = create_async_engine(url)
    down = nodes.replacing(
        dataclasses.replace(yuci, url=url, engine=engine, sessions=async_sessionmaker(engine))
    )
    try:
        async with own_hub(settings, down) as hub:
            response = await hub.gql.post(COUNTIES_LIST)
    finally:
        await engine.dispose()
    assert response.status_code == 200
    body = response.json()
    codes = {e["node"]["code"] for e in body["data"]["divisions"]["edges"]}
    assert len(codes) == len(COUNTIES) - 1 and "140702000000" not in codes
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "NODE_UNAVAILABLE",
        "node": YUCI,
        "prefixes": ["140702"],
    }


OLD_RATING = "query($id: ID!) { node(id: $id) { id ... on Evaluation { caseNumber } } }"
APPEAL = """
mutation($input: AppealRatingInput!) {
  appealRating(input: $input) { evaluation { id } errors { code field } }
}"""


async def test_an_old_rating_id_is_looked_up_in_every_county_store(
    county_desk: Desk, county_nodes: NodeRegistry
) -> None:
    """Eleven nodes hold the county level, none at an address: each county's store is
    asked by SQL for the rating of that number; the one that gives it is the row."""
    held: dict[str, dict[int, str]] = {}
    for node in county_nodes.holding(Level.COUNTY):
        async with node.sessions() as session:
            rows = await session.execute(select(Evaluation.id, Evaluation.public_id))
            held[node.id] = {int(n): str(k) for n, k in rows.all()}
    assert len(held) == len(COUNTIES)
    # the demo's ratings are 榆次区's: its numbers are given by no other county's store
    assert [node for node, rows in held.items() if 1 in rows] == [YUCI]
    old = base64.urlsafe_b64encode(b"Evaluation:COUNTY:1").decode().rstrip("=")
    missing = base64.urlsafe_b64encode(b"Evaluation:COUNTY:2147483647").decode().rstrip("=")

    found = await county_desk.ask("jz.auditor", OLD_RATING, id=old)
    appeal = await county_desk.ask(
        "yuci.receptionist", APPEAL, input={"id": missing, "reason": "故障"}
    )

    assert "errors" not in found, found
    assert decode_id(found["data"]["node"]["id"]).key == held[YUCI][1]
    assert appeal["data"]["appealRating"]["errors"] == [
        {"code": "RATING_NOT_FOUND", "field": ["input", "id"]}
    ]
