"""With the town's store down, work that does not need it goes on, and work for the
town is written and waits in the outbox: a village refers a case past the town, to
the town for its review, or to the town that decides it; the county delegates to a
town it names. When the town is back the relay delivers each, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.cases.models import Case
from levels.common.clock import FixedClock
from levels.common.enums import Level, MatterStatus
from levels.common.models import MatterImplementation
from levels.outbox.models import MessageState, OutboxMessage
from tests.auth.conftest import own_hub
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_delegation import DELEGATE, INSTRUMENT, REVOKE, XIUWEN
from tests.scenarios.test_delegation_in_force import FOREST, county_item, town_item
from tests.scenarios.test_referral import (
    DISABILITY_CARD,
    REFER,
    RESIDENT4_ID,
    SUBSISTENCE,
    TIMELINE,
    codes,
)
from tests.support.messages import carry
from tests.support.outages import store_down

XIUWEN_ORG = "12140702MB1010008W"
FARMLAND = "000500500200"  # 耕地地力保护补贴, decided by 修文镇, handed in at its villages


@pytest.fixture
async def town_down(settings: Settings, nodes: NodeRegistry, tmp_path: Path) -> AsyncIterator[Desk]:
    """A hub over the demo stores whose town store does not answer (a PostgreSQL port
    nobody listens on, an SQLite "file" that is a folder)."""
    async with store_down(nodes, Level.TOWN, tmp_path) as down, own_hub(settings, down) as hub:
        yield Desk(hub)


async def received_at_village(desk: Desk, item: str, basic: str, **where: str) -> str:
    materials = await desk.materials(basic, **where)
    submitted = await desk.submit(
        "xiuwencun.receptionist", item, materials, channel="COUNTER", applicantIdNumber=RESIDENT4_ID
    )
    assert submitted["errors"] == [], submitted
    number: str = submitted["case"]["number"]
    return number


async def refer_while_down(down: Desk, number: str) -> dict[str, Any]:
    body = await down.ask("xiuwencun.receptionist", REFER, input={"number": number})
    assert "errors" not in body, body  # no NODE_UNAVAILABLE: the town is not needed now
    payload: dict[str, Any] = body["data"]["referCase"]
    assert payload["errors"] == [] and payload["case"]["status"] == "REFERRED"
    return payload


async def where(desk: Desk, number: str) -> tuple[str, str]:
    case = (await desk.run("resident4", TIMELINE, number=number))["case"]
    return case["level"], case["status"]


async def test_a_village_refers_past_the_town_while_it_is_down(
    desk: Desk, town_down: Desk, nodes: NodeRegistry
) -> None:
    day = dt.date(2025, 7, 1)
    await desk.travel(at(day))
    await town_down.travel(at(day))
    number = await received_at_village(desk, DISABILITY_CARD, "000700400100")
    await refer_while_down(town_down, number)
    await carry(nodes, FixedClock(at(day, 11)))
    assert await where(desk, number) == ("COUNTY", "ACCEPTED")


async def test_a_referral_to_the_town_waits_for_it_and_then_arrives(
    desk: Desk, town_down: Desk, nodes: NodeRegistry
) -> None:
    day = dt.date(2025, 7, 2)
    await desk.travel(at(day))
    await town_down.travel(at(day))
    # the town reviews first (初审); then a matter the town decides itself
    reviewed = await received_at_village(desk, SUBSISTENCE, "000500100100")
    decided = await received_at_village(
        desk,
        f"{XIUWEN_ORG}3{FARMLAND}",
        FARMLAND,
        division="140702101000",
        level="TOWN",
    )
    for number in (reviewed, decided):
        await refer_while_down(town_down, number)
    async with nodes[Level.VILLAGE].sessions() as session:
        waiting = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_number.in_([reviewed, decided]),
                    OutboxMessage.topic == "case.referred",
                )
            )
        ).all()
    assert [m.state for m in waiting] == [MessageState.PENDING] * 2

    await carry(nodes, FixedClock(at(day, 11)))
    assert await where(desk, reviewed) == ("TOWN", "SUBMITTED")
    assert await where(desk, decided) == ("TOWN", "ACCEPTED")
    async with nodes[Level.TOWN].sessions() as session:
        for number in (reviewed, decided):
            case = await session.get(Case, number)
            assert case is not None and case.org_code == XIUWEN_ORG


async def test_the_county_delegates_to_a_named_town_while_it_is_down(
    desk: Desk, town_down: Desk, nodes: NodeRegistry
) -> None:
    day = dt.date(2026, 12, 1)
    await desk.travel(at(day, 9))
    await town_down.travel(at(day, 9))
    base = {
        "implementationCode": county_item(FOREST),
        "legalInstrument": INSTRUMENT,
        "effectiveFrom": day.isoformat(),
        "townDepartment": "村镇建设",
    }
    # every town of the county: which they are, only the town store can say
    everywhere = (await town_down.run("yuci.admin", DELEGATE, input=base))["delegateMatter"]
    assert codes(everywhere) == ["NODE_UNAVAILABLE"]
    body = await town_down.ask("yuci.admin", DELEGATE, input={**base, "towns": [XIUWEN]})
    named = body["data"]["delegateMatter"]
    assert named["errors"] == [] and named["delegation"]["inForce"] is True
    # written; only the towns' names, read from the town store, are missing
    assert named["delegation"]["towns"] == []
    assert [e["extensions"]["level"] for e in body["errors"]] == ["TOWN"]
    async with nodes[Level.COUNTY].sessions() as session:
        grant = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.entity.endswith(f":{XIUWEN}"))
            .order_by(OutboxMessage.created_at.desc())
        )
    assert grant is not None and grant.state is MessageState.PENDING
    # the town is back: the relay delivers the grant
    await carry(nodes, FixedClock(at(day, 10)))
    async with nodes[Level.TOWN].sessions() as session:
        item = await session.get(MatterImplementation, town_item(FOREST))
        assert item is not None and item.status is MatterStatus.PUBLISHED
        assert item.department_id is not None
    revoked = (
        await desk.run(
            "yuci.admin", REVOKE, input={"id": named["delegation"]["id"], "reason": "收回"}
        )
    )["revokeDelegation"]
    assert revoked["errors"] == []
    await carry(nodes, FixedClock(at(day, 11)))
