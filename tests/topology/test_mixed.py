"""The mixed topology (DESIGN §2, Nodes): the per-county map plus 修文镇 (140702101, a
town of 榆次区) on a node of its own. A case received at the town and one received at
a village under it are kept by the town's node; what 榆次区 keeps at the county level —
its own division, the county-level row of a case referred up from 修文村 — stays on
the county node. One rule places every row: the node owning the division's ancestor at
the row's level (``NodeMap.owner_or_none``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.nodes import NodeRegistry
from levels.cases.models import Case
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.models import Division
from levels.outbox.models import OutboxMessage
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_referral import DISABILITY_CARD, RESIDENT3_ID, TIMELINE
from tests.scenarios.test_withdraw_referred import referred_case, seen
from tests.support.messages import carry_all
from tests.topology.conftest import COUNTIES, XIUWEN, YUCI, message_sources

TOWN_RELIEF = "12140702MB1010008W3000500100300"  # 临时救助, decided at 修文镇
XIUWEN_TOWN = "140702101000"
XIUWEN_VILLAGE = "140702101201"  # 修文村


async def _select(node_url: str, stmt: Any) -> list[Any]:
    """Rows read straight from a node's database (an engine of the test's own)."""
    engine = create_async_engine(node_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(stmt)).all())
    finally:
        await engine.dispose()


async def _cases(nodes: NodeRegistry, number: str) -> dict[str, tuple[str, str]]:
    """Each node's row of a case: node id → (level, status)."""
    found = {}
    for node in nodes:
        stmt = select(Case.level, Case.status).where(Case.number == number)
        for level, status in await _select(node.url, stmt):
            found[node.id] = (level.value, status.value)
    return found


async def test_the_mixed_map_places_each_level_by_the_ancestor(
    mixed_stores: tuple[Any, NodeRegistry],
) -> None:
    _settings, nodes = mixed_stores
    assert [n.id for n in nodes] == ["jinzhong", *COUNTIES, XIUWEN]
    assert nodes.owner(XIUWEN_TOWN).id == XIUWEN
    assert nodes.owner(XIUWEN_VILLAGE).id == XIUWEN
    assert nodes.owner("140702102000").id == YUCI  # another town of 榆次区
    # rows of upper levels about 修文村: its county's node, its city's
    assert nodes.owner_at(XIUWEN_VILLAGE, Level.COUNTY).id == YUCI
    assert nodes.owner_at(XIUWEN_VILLAGE, Level.CITY).id == "jinzhong"
    # the demo's divisions, each on one node: the town's own and 榆次区's
    placed: dict[str, list[str]] = {}
    for node in nodes:
        codes = await _select(node.url, select(Division.code).where(Division.code.in_(
            [XIUWEN_TOWN, XIUWEN_VILLAGE, "140702000000", "140702102000"]
        )))  # fmt: skip
        for (code,) in codes:
            placed.setdefault(code, []).append(node.id)
    assert placed == {
        XIUWEN_TOWN: [XIUWEN],
        XIUWEN_VILLAGE: [XIUWEN],
        "140702000000": [YUCI],
        "140702102000": [YUCI],
    }


async def test_every_demo_message_starts_from_its_sources_node(
    mixed_stores: tuple[Any, NodeRegistry],
) -> None:
    _settings, nodes = mixed_stores
    # a 修文镇 licence: published by the town node, used by a case of 榆次区's centre
    sources = await message_sources(nodes)
    licence = "licence:YYZZ.12140702MB1010008W.000002.1.3"
    assert sources[(licence, Level.TOWN)] == {XIUWEN}
    assert sources[(licence, Level.COUNTY)] == {YUCI}


async def test_a_case_received_at_the_town_is_kept_by_the_town_node(
    mixed_desk: Desk, mixed_stores: tuple[Any, NodeRegistry]
) -> None:
    _settings, nodes = mixed_stores
    desk = mixed_desk
    await desk.sign_in("xiuwen.receptionist")
    await desk.travel(at(dt.date(2025, 7, 15)))
    materials = await desk.materials("000500100300", XIUWEN_TOWN, "TOWN")
    submitted = await desk.submit(
        "xiuwen.receptionist",
        TOWN_RELIEF,
        materials,
        channel="COUNTER",
        applicantIdNumber=RESIDENT3_ID,
    )
    assert submitted["errors"] == [], submitted
    number = submitted["case"]["number"]
    assert number.startswith(XIUWEN_TOWN)
    assert await _cases(nodes, number) == {XIUWEN: ("TOWN", "SUBMITTED")}
    # and the hub reads it back from there
    case = (await desk.run("xiuwen.receptionist", TIMELINE, number=number))["case"]
    assert (case["number"], case["level"], case["status"]) == (number, "TOWN", "SUBMITTED")


async def test_a_village_case_referred_to_the_county_leaves_the_town_node(
    mixed_desk: Desk, mixed_stores: tuple[Any, NodeRegistry]
) -> None:
    """Received at 修文村's station (the town node's), referred straight to 榆次区: the
    county-level row is on the county node, the town node keeps the REFERRED one."""
    _settings, nodes = mixed_stores
    received = dt.date(2025, 7, 16)
    number = await referred_case(mixed_desk, DISABILITY_CARD, "000700400100", at(received))
    assert number.startswith(XIUWEN_VILLAGE)
    assert await _cases(nodes, number) == {XIUWEN: ("VILLAGE", "REFERRED")}
    moved = await carry_all(nodes, FixedClock(at(received, 11)))
    assert moved.failed == 0 and moved.refused == 0, moved
    assert await _cases(nodes, number) == {
        XIUWEN: ("VILLAGE", "REFERRED"),
        YUCI: ("COUNTY", "ACCEPTED"),
    }
    case = await seen(mixed_desk, number)
    assert (case["level"], case["status"]) == ("COUNTY", "ACCEPTED")
    # the referral went from the town node's outbox, and nowhere else
    stmt = select(OutboxMessage.topic).where(
        OutboxMessage.case_number == number, OutboxMessage.topic.like("case.%")
    )
    sent = {n.id: [t for (t,) in await _select(n.url, stmt)] for n in nodes}
    assert {i: t for i, t in sent.items() if t} == {XIUWEN: ["case.referred"]}
