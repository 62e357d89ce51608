"""Delegation (委托/下放) over HTTP as the county's admin: 榆次区 hands 农机购置补贴 down
to 修文镇 → the town publishes its own item through the outbox → 修文村's route now
ends at the town → a new case is decided at the town → revocation → the route goes
back to the county, the case in flight stays and is finished at the town."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from gateway.demo.accounts import resident_id_number
from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.county.models import Delegation
from levels.outbox.models import OutboxMessage
from tests.scenarios.desk import CASE, YUCI_ORG, Desk, at
from tests.support.messages import carry

FARM_MACHINERY = f"{YUCI_ORG}2000500500100"  # 农机购置补贴, a county item
TOWN_ITEM = "12140702MB1010008W3000500500100"  # 修文镇's item once delegated
XIUWEN = "140702101000"
RESIDENT3_ID = resident_id_number(2)
INSTRUMENT = "《榆次区人民政府关于委托修文镇实施农机购置补贴审核的决定》（榆政发〔2025〕31号）"

DELEGATE = """
mutation($input: DelegateMatterInput!) {
  delegateMatter(input: $input) {
    delegation { id allTowns legalInstrument effectiveFrom inForce revokedAt towns { code } }
    errors { code field }
  }
}"""
REVOKE = """
mutation($input: RevokeDelegationInput!) {
  revokeDelegation(input: $input) { delegation { id inForce revokeReason } errors { code field } }
}"""
ROUTE = """
query {
  serviceRoutes(divisionCode: "140702101201", keyword: "农机购置补贴", first: 5) {
    edges { node { decidedAt { name level } implementation { implementationCode }
                   delegation { legalInstrument } } }
  }
}"""


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def delegate(desk: Desk, who: str, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await desk.run(who, DELEGATE, input=input))["delegateMatter"]
    return payload


async def route(desk: Desk) -> dict[str, Any]:
    (edge,) = (await desk.run("resident4", ROUTE))["serviceRoutes"]["edges"]
    node: dict[str, Any] = edge["node"]
    return node


async def test_delegate_decide_at_the_town_revoke(desk: Desk, nodes: NodeRegistry) -> None:
    today = dt.date(2026, 11, 20)
    await desk.travel(at(today, 9))
    before = await route(desk)
    assert before["decidedAt"]["level"] == "COUNTY"

    granted = await delegate(
        desk,
        "yuci.admin",
        implementationCode=FARM_MACHINERY,
        towns=[XIUWEN],
        legalInstrument=INSTRUMENT,
        effectiveFrom=today.isoformat(),
        townDepartment="农机补贴",
    )
    assert granted["errors"] == []
    made = granted["delegation"]
    assert made["allTowns"] is False and made["inForce"] is True
    assert [t["code"] for t in made["towns"]] == [XIUWEN]
    # the town publishes its item when the relay delivers the message
    await carry(nodes, FixedClock(at(today, 9)))
    after = await route(desk)
    assert after["decidedAt"] == {"name": "修文镇便民服务中心", "level": "TOWN"}
    assert after["implementation"]["implementationCode"] == TOWN_ITEM
    assert after["delegation"]["legalInstrument"] == INSTRUMENT

    # a new application is decided at the town
    materials = await desk.materials("000500500100", XIUWEN, "TOWN")
    number = (
        await desk.submit(
            "xiuwen.receptionist",
            TOWN_ITEM,
            materials,
            channel="COUNTER",
            applicantIdNumber=RESIDENT3_ID,
        )
    )["case"]["number"]
    await desk.act("xiuwen.receptionist", "acceptCase", number=number)
    await desk.act("xiuwen.reviewer", "startReview", number=number)

    # revoked: the route goes back to the county at once ...
    revoked = (
        await desk.run(
            "yuci.admin", REVOKE, input={"id": made["id"], "reason": "乡镇审核力量不足，收回实施"}
        )
    )["revokeDelegation"]
    assert revoked["errors"] == [] and revoked["delegation"]["inForce"] is False
    assert (await route(desk))["decidedAt"]["level"] == "COUNTY"
    await carry(nodes, FixedClock(at(today, 10)))
    assert (await route(desk))["decidedAt"]["level"] == "COUNTY"
    # ... and the case in flight is finished where it is
    decided = await desk.act("xiuwen.director", "decideCase", number=number, decision="APPROVED")
    assert decided["errors"] == [] and decided["case"]["level"] == "TOWN"
    delivered = await desk.act("xiuwen.output", "deliverCase", number=number, method="ELECTRONIC")
    assert delivered["case"]["status"] == "DELIVERED"
    # a new application at the town is refused now
    late = await desk.submit(
        "xiuwen.receptionist",
        TOWN_ITEM,
        materials,
        channel="COUNTER",
        applicantIdNumber=RESIDENT3_ID,
    )
    assert codes(late) == ["IMPLEMENTATION_NOT_IN_FORCE"]
    again = (await desk.run("yuci.admin", REVOKE, input={"id": made["id"], "reason": "再次收回"}))[
        "revokeDelegation"
    ]
    assert codes(again) == ["ALREADY_REVOKED"]
    assert (await desk.run("resident3", CASE, number=number))["case"]["status"] == "DELIVERED"


async def test_bad_delegations_write_and_send_nothing(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(dt.date(2026, 11, 20), 11))

    async def counts() -> tuple[int, int]:
        async with nodes[Level.COUNTY].sessions() as session:
            rows = await session.scalar(select(func.count()).select_from(Delegation))
            sent = await session.scalar(select(func.count()).select_from(OutboxMessage))
        return int(rows or 0), int(sent or 0)

    before = await counts()
    base = {
        "implementationCode": FARM_MACHINERY,
        "legalInstrument": INSTRUMENT,
        "effectiveFrom": "2026-12-01",
    }
    # a town of another county; an item the county does not hold (the town's own)
    assert codes(await delegate(desk, "yuci.admin", **base, towns=["140703101000"])) == [
        "TOWN_NOT_IN_COUNTY"
    ]
    town_item = {**base, "implementationCode": "12140702MB1010008W3000500100300"}
    assert codes(await delegate(desk, "yuci.admin", **town_item)) == ["NOT_HELD_BY_COUNTY"]
    # another county's admin; a reviewer; no instrument; a date in the past
    assert codes(await delegate(desk, "taigu.admin", **base)) == ["NOT_HELD_BY_COUNTY"]
    assert codes(await delegate(desk, "yuci.reviewer", **base)) == ["ROLE_NOT_ALLOWED"]
    assert codes(await delegate(desk, "yuci.admin", **{**base, "legalInstrument": " "})) == [
        "LEGAL_INSTRUMENT_REQUIRED"
    ]
    past = {**base, "effectiveFrom": "2026-11-19"}
    assert codes(await delegate(desk, "yuci.admin", **past)) == ["EFFECTIVE_DATE_PAST"]
    # 乡村建设规划许可 is already delegated to 修文镇 in the demo
    rural = {**base, "implementationCode": f"{YUCI_ORG}2000100600200", "towns": [XIUWEN]}
    assert codes(await delegate(desk, "yuci.admin", **rural)) == ["ALREADY_DELEGATED"]
    assert await counts() == before
