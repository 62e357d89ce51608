"""One window (一窗受理) and joint handling (联办) at the 榆次区 centre, over HTTP as the
real posts: the front desk receives, the department takes the case up within two
working days (the clock crosses the Spring Festival of 2025), the output window hands
the result over; a farm-supply shop, by its legal representative, applies for two
licences of two departments at once, each department decides its part and the lead
decides last."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from auth.enums import RepresentativeRole
from auth.models import Account
from auth.representation import add_representation
from gateway.demo.accounts import resident_id_number
from gateway.demo.plan import org_code_for
from gateway.nodes import NodeRegistry
from gateway.timers import fire_all
from levels.cases.models import Case
from levels.common.clock import FixedClock
from levels.common.codes import parse_division
from levels.common.enums import Level
from resolvers.case_updates import case_channel
from resolvers.pubsub import MemoryBroker
from tests.scenarios.desk import (
    CASE,
    DISABILITY_CARD,
    DISABILITY_LICENCE,
    YUCI_ORG,
    Desk,
    actions,
    add_working_days,
    at,
    fire_timers,
)

FOOD_BUSINESS = f"{YUCI_ORG}2000100200100"  # 食品经营许可, 市场监督管理局 (D03)
PESTICIDE_BUSINESS = f"{YUCI_ORG}2000100500200"  # 农药经营许可, 农业农村局 (D06)
FIRM2_NAME = "榆次区德顺食品店"
RESIDENT1_ID = resident_id_number(0)

WINDOWS = """
query($code: String!) {
  division(code: $code) { serviceOrg { windows { id number kind } } }
}"""
MY_CASES = "query { cases(first: 100) { edges { node { number applicantName } } } }"
ME = "query { me { represents { name creditCode role } } }"
FIRM = "query { me { creditCode } }"
OVERDUE = """
query { cases(filter: {pushOverdue: true, orgCode: "12140702MB00000006"}, first: 100) {
  edges { node { number } } } }"""


async def windows(desk: Desk, division: str = "140702000000") -> dict[str, str]:
    data = await desk.run("yuci.receptionist", WINDOWS, code=division)
    return {w["number"]: w["id"] for w in data["division"]["serviceOrg"]["windows"]}


async def guide(desk: Desk, *basic_codes: str) -> list[str]:
    names: list[str] = []
    for code in basic_codes:
        names += [n for n in await desk.materials(code) if n not in names]
    return names


async def count_cases(nodes: NodeRegistry) -> int:
    async with nodes[Level.COUNTY].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Case)) or 0)


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_front_desk_receives_department_takes_up_output_window_hands_over(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 1, 27)  # the Monday before the Spring Festival holiday
    await desk.travel(at(received))
    w = await windows(desk)
    resident = await desk.run("resident1", "query { me { idNumberMasked } }")
    assert resident["me"]["idNumberMasked"]
    materials = await desk.materials("000700400100")
    submitted = await desk.submit(
        "yuci.receptionist",
        DISABILITY_CARD,
        materials,
        channel="COUNTER",
        applicantIdNumber=RESIDENT1_ID,
        windowId=w["A01"],
    )
    assert submitted["errors"] == []
    case = submitted["case"]
    number = case["number"]
    assert case["receivedAtWindow"] == {"number": "A01", "kind": "COMPREHENSIVE_RECEPTION"}
    assert case["department"]["name"] == "残疾人联合会"
    # two working days, and the eight days of the holiday do not count
    due = add_working_days(received, 2)
    assert case["pushDueOn"] == due.isoformat() == "2025-02-06"
    assert case["pushOverdue"] is False

    # the front desk does not take it up itself: the department does
    refused = await desk.act("yuci.receptionist", "acceptCase", number=number)
    assert codes(refused) == ["NOT_THIS_DEPARTMENT"] and refused["case"] is None
    assert (await desk.run("resident1", CASE, number=number))["case"]["status"] == "SUBMITTED"

    await fire_timers(nodes, at(due, 23))
    assert (await desk.run("resident1", CASE, number=number))["case"]["pushOverdue"] is False
    # the timer worker tells whoever follows the case (caseUpdated)
    broker = MemoryBroker()
    async with broker.subscribe(case_channel(number)) as changes:
        # several workers at once flag it once
        late = FixedClock(at(due + dt.timedelta(days=1), 0))
        await asyncio.gather(*(fire_all(nodes, late, broker=broker) for _ in range(3)))
        assert await asyncio.wait_for(anext(changes), timeout=5) == number
    flagged = (await desk.run("yuci.supervisor", CASE, number=number))["case"]
    assert flagged["pushOverdue"] is True and flagged["status"] == "SUBMITTED"
    assert actions(flagged)[-1] == "PUSH_OVERDUE"
    assert actions(flagged).count("PUSH_OVERDUE") == 1
    listed = await desk.run("yuci.supervisor", OVERDUE)
    assert number in [e["node"]["number"] for e in listed["cases"]["edges"]]

    # late, but the department takes it up; from then on the case runs as any other
    await desk.travel(at(due + dt.timedelta(days=1), 11))
    accepted = await desk.act("yuci.cl.receptionist", "acceptCase", number=number)
    assert accepted["errors"] == [] and accepted["case"]["status"] == "ACCEPTED"
    await desk.act("yuci.reviewer", "startReview", number=number)
    decided = await desk.act(
        "yuci.director",
        "decideCase",
        number=number,
        decision="APPROVED",
        licenceFields=DISABILITY_LICENCE,
    )
    assert decided["case"]["status"] == "APPROVED"

    # handed over at the output window (综合出件), not at the reception window
    pickup = {"number": number, "method": "PICKUP", "reference": "R-2025-0001"}
    assert codes(await desk.act("yuci.output", "deliverCase", **pickup)) == [
        "OUTPUT_WINDOW_REQUIRED"
    ]
    assert codes(await desk.act("yuci.output", "deliverCase", **pickup, windowId=w["A01"])) == [
        "WINDOW_CANNOT_DELIVER"
    ]
    delivered = await desk.act("yuci.output", "deliverCase", **pickup, windowId=w["B01"])
    assert delivered["errors"] == []
    assert delivered["case"]["status"] == "DELIVERED"
    assert delivered["case"]["deliveredAtWindow"] == {
        "number": "B01",
        "kind": "COMPREHENSIVE_OUTPUT",
    }


async def test_a_case_taken_up_in_time_is_never_flagged(desk: Desk, nodes: NodeRegistry) -> None:
    received = dt.date(2025, 2, 10)
    await desk.travel(at(received))
    w = await windows(desk)
    materials = await desk.materials("000700400100")
    number = (
        await desk.submit(
            "yuci.receptionist",
            DISABILITY_CARD,
            materials,
            channel="COUNTER",
            applicantIdNumber=RESIDENT1_ID,
            windowId=w["A01"],
        )
    )["case"]["number"]
    await desk.travel(at(add_working_days(received, 2), 16))
    notice = await desk.act(
        "yuci.cl.receptionist",
        "issueSupplementNotice",
        number=number,
        materials=[{"name": materials[0], "note": "照片不清晰"}],
    )
    assert notice["case"]["status"] == "AWAITING_SUPPLEMENT"
    await fire_timers(nodes, at(add_working_days(received, 3), 9))
    case = (await desk.run("resident1", CASE, number=number))["case"]
    assert case["pushOverdue"] is False and "PUSH_OVERDUE" not in actions(case)


async def test_windows_that_cannot_receive_this_case_change_nothing(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.travel(at(dt.date(2025, 2, 11)))
    yuci, taigu = await windows(desk), await windows(desk, "140703000000")
    materials = await desk.materials("000700400100")
    before = await count_cases(nodes)

    async def at_window(who: str, window: str) -> list[str]:
        payload = await desk.submit(
            who,
            DISABILITY_CARD,
            materials,
            channel="COUNTER",
            applicantIdNumber=RESIDENT1_ID,
            windowId=window,
        )
        assert payload["case"] is None
        return codes(payload)

    # 企业开办 window: not the disabled persons' federation's matters
    assert await at_window("yuci.receptionist", yuci["A02"]) == ["WINDOW_DOES_NOT_SERVE"]
    assert await at_window("yuci.receptionist", yuci["C01"]) == ["WINDOW_CANNOT_RECEIVE"]
    assert await at_window("yuci.receptionist", taigu["A01"]) == ["WINDOW_NOT_AT_THIS_ORG"]
    assert await at_window("yuci.receptionist", "not-an-id") == ["INVALID_ID"]
    # a resident is not at a window
    own = await desk.submit("resident1", DISABILITY_CARD, materials, windowId=yuci["A01"])
    assert codes(own) == ["ROLE_NOT_ALLOWED"]
    assert await count_cases(nodes) == before


async def test_joint_application_by_a_legal_representative(desk: Desk) -> None:
    received = dt.date(2025, 9, 29)  # before National Day and the Mid-Autumn Festival
    await desk.travel(at(received))
    represents = (await desk.run("resident2", ME))["me"]["represents"]
    assert [(r["name"], r["role"]) for r in represents] == [(FIRM2_NAME, "LEGAL_REPRESENTATIVE")]
    credit_code = represents[0]["creditCode"]
    assert (await desk.run("firm2", FIRM))["me"]["creditCode"] == credit_code

    materials = await guide(desk, "000100200100", "000100500200")
    submitted = await desk.submit(
        "resident2",
        FOOD_BUSINESS,
        materials,
        channel="WEB",
        jointImplementationCodes=[PESTICIDE_BUSINESS],
        onBehalfOf=credit_code,
    )
    assert submitted["errors"] == []
    case = submitted["case"]
    number = case["number"]
    assert case["applicantKind"] == "ENTERPRISE" and case["applicantName"] == FIRM2_NAME
    assert case["joint"] is True
    assert [(p["matterName"], p["lead"], p["decision"]) for p in case["parts"]] == [
        ("食品经营许可", True, None),
        ("农药经营许可", False, None),
    ]
    assert [p["department"]["name"] for p in case["parts"]] == ["市场监督管理局", "农业农村局"]
    # one list of materials: the business licence both guides ask for is asked for once
    names = [m["name"] for m in case["materials"]]
    assert len(names) == len(set(names)) == len(materials)
    assert names.count("营业执照") == 1
    assert case["clock"]["promisedLimitDays"] == 10  # the longer of the two promises

    # the firm and its representative see it; another resident does not
    for who in ("firm2", "resident2"):
        mine = await desk.run(who, MY_CASES)
        assert number in [e["node"]["number"] for e in mine["cases"]["edges"]]
    # to anyone else it does not exist
    assert (await desk.run("resident1", CASE, number=number))["case"] is None

    await desk.act("yuci.scj.receptionist", "acceptCase", number=number)
    await desk.act("yuci.reviewer", "startReview", number=number)

    # the lead decides last
    early = await desk.act("yuci.scj.director", "decideCase", number=number, decision="APPROVED")
    assert codes(early) == ["PARTS_UNDECIDED"]
    part = {"number": number, "implementationCode": PESTICIDE_BUSINESS, "decision": "APPROVED"}
    lead_part = {**part, "implementationCode": FOOD_BUSINESS}
    assert codes(await desk.act("yuci.scj.director", "recordPartDecision", **part)) == [
        "NOT_THIS_DEPARTMENT"
    ]
    assert codes(await desk.act("yuci.ny.director", "recordPartDecision", **lead_part)) == [
        "LEAD_DECIDES_LAST"
    ]
    assert codes(await desk.act("yuci.ny.receptionist", "recordPartDecision", **part)) == [
        "ROLE_NOT_ALLOWED"
    ]
    await desk.travel(at(dt.date(2025, 10, 9)))  # the first working day after the holiday
    recorded = await desk.act("yuci.ny.director", "recordPartDecision", **part)
    assert recorded["errors"] == []
    assert recorded["case"]["status"] == "UNDER_REVIEW"
    assert [p["decision"] for p in recorded["case"]["parts"]] == [None, "APPROVED"]
    assert actions(recorded["case"])[-1] == "DECIDE_PART"
    assert codes(await desk.act("yuci.ny.director", "recordPartDecision", **part)) == [
        "PART_ALREADY_DECIDED"
    ]
    # the lead is the market regulator's: a director of another department cannot decide
    other = await desk.act("yuci.director", "decideCase", number=number, decision="APPROVED")
    assert codes(other) == ["NOT_THIS_DEPARTMENT"]
    final = await desk.act("yuci.scj.director", "decideCase", number=number, decision="APPROVED")
    assert final["errors"] == []
    assert final["case"]["status"] == "APPROVED"
    assert [p["decision"] for p in final["case"]["parts"]] == ["APPROVED", "APPROVED"]

    # the applicant sees one case with its parts
    seen = (await desk.run("firm2", CASE, number=number))["case"]
    assert seen["status"] == "APPROVED" and len(seen["parts"]) == 2


async def test_a_part_denied_means_the_case_is_denied(desk: Desk) -> None:
    await desk.travel(at(dt.date(2025, 10, 13)))
    materials = await guide(desk, "000100200100", "000100500200")
    number = (
        await desk.submit(
            "firm2",
            FOOD_BUSINESS,
            materials,
            channel="WEB",
            jointImplementationCodes=[PESTICIDE_BUSINESS],
        )
    )["case"]["number"]
    await desk.act("yuci.scj.receptionist", "acceptCase", number=number)
    await desk.act("yuci.reviewer", "startReview", number=number)
    part = {"number": number, "implementationCode": PESTICIDE_BUSINESS, "decision": "DENIED"}
    assert codes(await desk.act("yuci.ny.director", "recordPartDecision", **part)) == [
        "REASONS_REQUIRED"
    ]
    reasons = "经营场所与居住场所未有效隔离，不符合农药经营条件"
    await desk.act("yuci.ny.director", "recordPartDecision", **part, reasons=reasons)
    approve = await desk.act("yuci.scj.director", "decideCase", number=number, decision="APPROVED")
    assert codes(approve) == ["JOINT_PART_DENIED"]
    denied = await desk.act(
        "yuci.scj.director",
        "decideCase",
        number=number,
        decision="DENIED",
        reasons="农药经营许可不予许可，联办事项一并不予许可",
    )
    assert denied["case"]["status"] == "DENIED" and denied["case"]["remedy"]
    assert [(p["decision"], p["reasons"]) for p in denied["case"]["parts"]][1] == (
        "DENIED",
        reasons,
    )


async def test_joint_and_representation_mistakes_are_typed_and_change_nothing(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.travel(at(dt.date(2025, 10, 14)))
    materials = await guide(desk, "000100200100", "000100500200")
    firm2 = (await desk.run("firm2", FIRM))["me"]["creditCode"]
    before = await count_cases(nodes)

    async def submit(who: str, **extra: Any) -> list[str]:
        payload = await desk.submit(who, FOOD_BUSINESS, materials, channel="WEB", **extra)
        assert payload["case"] is None
        return codes(payload)

    # not their firm; a firm for another firm; a code that fails its checksum
    assert await submit("resident1", onBehalfOf=firm2) == ["NOT_A_REPRESENTATIVE"]
    assert await submit("firm1", onBehalfOf=firm2) == ["NOT_A_REPRESENTATIVE"]
    assert await submit("resident2", onBehalfOf=firm2[:-1] + "0") == ["INVALID_ORG_CODE"]
    # the same department twice, another org's item, itself again, a malformed code
    same_department = f"{YUCI_ORG}2000100200300"  # 营业执照变更, also 市场监督管理局
    assert await submit("firm2", jointImplementationCodes=[same_department]) == [
        "JOINT_SAME_DEPARTMENT"
    ]
    taigu = f"{org_code_for(parse_division('140703000000'))}2000100500200"
    assert await submit("firm2", jointImplementationCodes=[taigu]) == ["JOINT_NOT_SAME_ORG"]
    assert await submit("firm2", jointImplementationCodes=[FOOD_BUSINESS]) == [
        "JOINT_SAME_DEPARTMENT"
    ]
    assert await submit("firm2", jointImplementationCodes=["12345"]) == [
        "INVALID_IMPLEMENTATION_CODE"
    ]
    assert await count_cases(nodes) == before


async def test_a_representation_can_lapse(desk: Desk, nodes: NodeRegistry) -> None:
    """An authorization that has expired no longer lets the person apply for the firm."""
    firm3 = (await desk.run("firm3", FIRM))["me"]["creditCode"]
    async with nodes.identity.sessions.begin() as session:
        accounts = {
            a.username: a
            for a in await session.scalars(
                select(Account).where(Account.username.in_(["firm3", "resident3"]))
            )
        }
        await add_representation(
            accounts["firm3"],
            accounts["resident3"],
            RepresentativeRole.AUTHORIZED_AGENT,
            session=session,
            now=at(dt.date(2025, 1, 1)),
            valid_until=at(dt.date(2025, 10, 31), 18),
        )
    await desk.travel(at(dt.date(2025, 10, 31)))
    me = (await desk.run("resident3", ME))["me"]["represents"]
    assert [(r["creditCode"], r["role"]) for r in me] == [(firm3, "AUTHORIZED_AGENT")]
    await desk.travel(at(dt.date(2025, 11, 3)))
    assert (await desk.run("resident3", ME))["me"]["represents"] == []
    materials = await desk.materials("000100200100")
    late = await desk.submit("resident3", FOOD_BUSINESS, materials, channel="WEB", onBehalfOf=firm3)
    assert codes(late) == ["NOT_A_REPRESENTATIVE"]
