"""A town's delegated item takes applications only while the county's delegation is in
force: revoked, or not yet effective, it refuses at once — before the relay has told
the town anything. And a delegation names a department the towns have.

榆次区 hands down matters no other scenario uses (林木林地权属争议裁决, 土地权属争议调处)
and revokes each before the test ends, so the demo stores are as they were."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.county.models import Delegation
from levels.outbox.models import OutboxMessage
from tests.scenarios.desk import YUCI_ORG, Desk, at
from tests.scenarios.test_delegation import (
    DELEGATE,
    INSTRUMENT,
    RESIDENT3_ID,
    REVOKE,
    XIUWEN,
    codes,
)
from tests.support.messages import carry

FOREST = "000900600100"  # 林木林地权属争议裁决
LAND = "000900600200"  # 土地权属争议调处
XIUWEN_ORG = "12140702MB1010008W"


def county_item(basic: str) -> str:
    return f"{YUCI_ORG}2{basic}"


def town_item(basic: str) -> str:
    return f"{XIUWEN_ORG}3{basic}"


async def delegate(desk: Desk, basic: str, effective: dt.date, **extra: Any) -> dict[str, Any]:
    input = {
        "implementationCode": county_item(basic),
        "towns": [XIUWEN],
        "legalInstrument": INSTRUMENT,
        "effectiveFrom": effective.isoformat(),
        "townDepartment": "村镇建设",
        **extra,
    }
    payload: dict[str, Any] = (await desk.run("yuci.admin", DELEGATE, input=input))[
        "delegateMatter"
    ]
    return payload


async def revoke(desk: Desk, delegation_id: str) -> None:
    input = {"id": delegation_id, "reason": "收回实施"}
    payload = (await desk.run("yuci.admin", REVOKE, input=input))["revokeDelegation"]
    assert payload["errors"] == [], payload


async def submit_at_town(desk: Desk, basic: str) -> dict[str, Any]:
    materials = await desk.materials(basic, XIUWEN, "TOWN")
    return await desk.submit(
        "xiuwen.receptionist",
        town_item(basic),
        materials,
        channel="COUNTER",
        applicantIdNumber=RESIDENT3_ID,
    )


async def test_a_revoked_delegation_takes_no_case_even_before_the_town_hears_of_it(
    desk: Desk, nodes: NodeRegistry
) -> None:
    today = dt.date(2026, 11, 24)
    await desk.travel(at(today, 9))
    granted = await delegate(desk, FOREST, today)
    assert granted["errors"] == []
    await carry(nodes, FixedClock(at(today, 9)))
    taken = await submit_at_town(desk, FOREST)
    assert taken["errors"] == [] and taken["case"]["level"] == "TOWN"

    await revoke(desk, granted["delegation"]["id"])
    # the town's item is still PUBLISHED (the revocation has not been relayed) …
    late = await submit_at_town(desk, FOREST)
    # … but the county's row says the delegation is over
    assert codes(late) == ["IMPLEMENTATION_NOT_IN_FORCE"]
    await carry(nodes, FixedClock(at(today, 10)))
    assert codes(await submit_at_town(desk, FOREST)) == ["IMPLEMENTATION_NOT_IN_FORCE"]


async def test_a_delegation_takes_cases_from_its_effective_date_on(
    desk: Desk, nodes: NodeRegistry
) -> None:
    today = dt.date(2026, 11, 24)
    tomorrow = today + dt.timedelta(days=1)
    await desk.travel(at(today, 9))
    granted = await delegate(desk, LAND, tomorrow)
    assert granted["errors"] == [] and granted["delegation"]["inForce"] is False
    # delivered today: the town's item exists, the delegation is not in force yet
    await carry(nodes, FixedClock(at(today, 9)))
    assert codes(await submit_at_town(desk, LAND)) == ["IMPLEMENTATION_NOT_IN_FORCE"]

    await desk.travel(at(tomorrow, 9))
    taken = await submit_at_town(desk, LAND)
    assert taken["errors"] == [] and taken["case"]["level"] == "TOWN"
    await revoke(desk, granted["delegation"]["id"])
    await carry(nodes, FixedClock(at(tomorrow, 10)))


async def test_a_department_the_town_does_not_have_is_refused(
    desk: Desk, nodes: NodeRegistry
) -> None:
    today = dt.date(2026, 11, 24)
    await desk.travel(at(today, 11))

    async def counts() -> tuple[int, int]:
        async with nodes[Level.COUNTY].sessions() as session:
            rows = await session.scalar(select(func.count()).select_from(Delegation))
            sent = await session.scalar(select(func.count()).select_from(OutboxMessage))
        return int(rows or 0), int(sent or 0)

    before = await counts()
    refused = await delegate(desk, FOREST, today, townDepartment="不存在的科室")
    assert codes(refused) == ["TOWN_DEPARTMENT_NOT_FOUND"]
    assert refused["errors"][0]["field"] == ["input", "townDepartment"]
    # every town of the county must have it when no town is named
    everywhere = await delegate(desk, FOREST, today, towns=None, townDepartment="不存在的科室")
    assert codes(everywhere) == ["TOWN_DEPARTMENT_NOT_FOUND"]
    assert await counts() == before
