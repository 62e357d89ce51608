"""Referral completeness and deadline, over HTTP as the real posts (seed 000 衔接办理:
"在上级行政机关规定期限内完成代办转报", "上级行政机关不得要求申请人重复提供申请材料";
seed 003: the village agent "收集、审核、上报"):

* a station (or a town) refers only a whole file — the refusal names every material
  still missing, and the station completes the file first;
* a case waiting below its deciding level runs a referral deadline from receipt, with
  yellow and red cards like any clock — on the timer pass and on the write;
* the deciding org may tell the station, once, what the file lacks; the station
  supplies it, the resident does not come again, and the case says so."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from gateway.timers import fire_all
from levels.cases.models import Case, CaseMaterial
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.outbox.models import OutboxMessage
from tests.auth.conftest import own_hub
from tests.scenarios.desk import DISABILITY_LICENCE, Desk, add_working_days, at
from tests.scenarios.test_referral import (
    DISABILITY_CARD,
    FARM_MACHINERY,
    RESIDENT3_ID,
    RESIDENT4_ID,
    SUBSISTENCE,
    codes,
    relay,
)
from tests.scenarios.test_village_proxy import AGENT, OTHER_AGENT, STATION

STATION_CLERK = "xiuwencun.receptionist"  # 修文村便民服务站
VIEW = """
query($number: String!) {
  case(number: $number) {
    number status level version
    referralClock { state dueOn }
    clock { state acceptedOn }
    supervisionCards { color clock dueOn }
    stationNotices {
      station materials { name note } orgCode supplementedAt residentCameAgain
    }
    materials { name state source note }
    implementation { referralLimitDays }
    timeline { action level }
  }
}"""
FIGURES = """
query($day: Date!) {
  supervision(divisionCode: "140702101201", from: $day, to: $day) {
    byOrg { orgCode figures { yellowCards redCards } }
  }
}"""
COMPLETE = """
mutation($input: SupplementInput!) {
  completeReferralFile(input: $input) {
    case { number status version materials { name state } } errors { code field message }
  }
}"""
NOTIFY = """
mutation($input: StationNoticeInput!) {
  notifyStation(input: $input) {
    case { number status materials { name state note } } errors { code field message }
  }
}"""
SUPPLY = """
mutation($input: SupplementInput!) {
  supplementAtStation(input: $input) {
    case { number status stationNotices { supplementedAt residentCameAgain } }
    errors { code field message }
  }
}"""


REFER = """
mutation($input: ReferCaseInput!) {
  referCase(input: $input) { case { number status level } errors { code field message } }
}"""


async def refer(desk: Desk, who: str, number: str, **extra: Any) -> dict[str, Any]:
    return await mutate(desk, who, REFER, number=number, **extra)


def paper(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "source": "PAPER"} for n in names]


async def view(desk: Desk, who: str, number: str) -> dict[str, Any]:
    case: dict[str, Any] = (await desk.run(who, VIEW, number=number))["case"]
    return case


async def mutate(desk: Desk, who: str, query: str, **input: Any) -> dict[str, Any]:
    data = await desk.run(who, query, input=input)
    (payload,) = data.values()
    result: dict[str, Any] = payload
    return result


async def at_the_station(
    desk: Desk,
    day: dt.date,
    item: str = DISABILITY_CARD,
    basic: str = "000700400100",
    keep: int = 0,
) -> tuple[str, list[str]]:
    """A 修文村 resident's application received at the station's counter with the whole
    guide (or only its first ``keep`` materials); its number and the guide."""
    await desk.travel(at(day, 9))
    guide = await desk.materials(basic)
    given = guide[:keep] if keep else guide
    submitted = await desk.submit(
        STATION_CLERK, item, given, channel="COUNTER", applicantIdNumber=RESIDENT4_ID
    )
    assert submitted["errors"] == [], submitted
    return submitted["case"]["number"], guide


async def overdue(desk: Desk, received: dt.date) -> list[str]:
    """The 修文村 cases received on ``received`` whose referral deadline has passed, as
    the county's supervisor lists them."""
    data = await desk.run(
        "yuci.supervisor",
        """query($f: CaseFilter) { cases(filter: $f, first: 50) { edges { node { number } } } }""",
        f={
            "divisionCode": "140702101201",
            "referralClockState": "RED",
            "submittedFrom": received.isoformat(),
            "submittedTo": received.isoformat(),
        },
    )
    return [e["node"]["number"] for e in data["cases"]["edges"]]


async def outbox(nodes: NodeRegistry, level: Level) -> int:
    async with nodes[level].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_an_incomplete_file_is_not_referred_and_the_refusal_names_each_missing_material(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """收集、审核、上报: 3 of 4 materials missing, the station cannot refer the file; the
    refusal names the three; the station collects them and refers the whole file."""
    day = dt.date(2025, 9, 1)
    number, guide = await at_the_station(desk, day, keep=1)
    sent_before = await outbox(nodes, Level.VILLAGE)

    # what the station must collect: the guide less what was handed in and what the
    # library or the verified identity filled (信息共享)
    held = await desk.run(
        STATION_CLERK,
        "query($n: String!) { case(number: $n) { materials { name state } } }",
        n=number,
    )
    missing = [m["name"] for m in held["case"]["materials"] if m["state"] == "MISSING"]
    assert missing and guide[0] not in missing
    refused = await refer(desk, STATION_CLERK, number)
    assert codes(refused) == ["REFERRAL_INCOMPLETE"]
    message = refused["errors"][0]["message"]
    assert all(name in message for name in missing) and guide[0] not in message
    assert await outbox(nodes, Level.VILLAGE) == sent_before
    assert (await view(desk, STATION_CLERK, number))["status"] == "SUBMITTED"

    # what the guide does not ask for is not part of the file
    wrong = await mutate(desk, STATION_CLERK, COMPLETE, number=number, materials=paper("介绍信"))
    assert codes(wrong) == ["MATERIAL_NOT_IN_GUIDE"]
    # the agent of the station collects two; one is still missing, and named
    if len(missing) > 1:
        part = await mutate(desk, AGENT, COMPLETE, number=number, materials=paper(*missing[:-1]))
        assert part["errors"] == []
    still = await refer(desk, AGENT, number)
    assert codes(still) == ["REFERRAL_INCOMPLETE"]
    assert missing[-1] in still["errors"][0]["message"]
    assert all(name not in still["errors"][0]["message"] for name in missing[:-1])
    # another village's agent cannot touch it
    theirs = await mutate(desk, OTHER_AGENT, COMPLETE, number=number, materials=paper(missing[-1]))
    assert codes(theirs) == ["CASE_NOT_FOUND"]
    done = await mutate(desk, STATION_CLERK, COMPLETE, number=number, materials=paper(missing[-1]))
    assert done["errors"] == []
    assert {m["state"] for m in done["case"]["materials"]} == {"PROVIDED"}

    sent = await refer(desk, STATION_CLERK, number)
    assert sent["errors"] == [] and sent["case"]["status"] == "REFERRED"
    # referred twice, or completed after it went up: nothing more is sent
    assert codes(await refer(desk, AGENT, number)) == ["INVALID_TRANSITION"]
    late = await mutate(desk, AGENT, COMPLETE, number=number, materials=paper(guide[0]))
    assert codes(late) == ["INVALID_TRANSITION"]
    assert await outbox(nodes, Level.VILLAGE) == sent_before + 1
    await relay(nodes, at(day, 11))
    case = await view(desk, "yuci.reviewer", number)
    assert (case["level"], case["status"]) == ("COUNTY", "ACCEPTED")
    assert [m["state"] for m in case["materials"]] == ["PROVIDED"] * 4
    steps = [(e["action"], e["level"]) for e in case["timeline"] if e["action"] != "READ"]
    # one completion by the agent (when more than one was missing), one by the clerk
    completions = [("COMPLETE_FILE", "VILLAGE")] * (2 if len(missing) > 1 else 1)
    assert steps == [
        ("SUBMIT", "VILLAGE"),
        *completions,
        ("REFER", "VILLAGE"),
        ("RECEIVE_REFERRAL", "COUNTY"),
    ]


async def test_the_reviewing_town_checks_completeness_before_it_reports_up(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """农机购置补贴 handed in at the 修文镇 centre without its invoice: the town, which
    reviews first, may not report it up until it has the invoice."""
    day = dt.date(2025, 9, 2)
    await desk.travel(at(day, 9))
    guide = await desk.materials("000500500100")
    given = [m for m in guide if m != "购机发票"]
    number = (
        await desk.submit(
            "xiuwen.receptionist",
            FARM_MACHINERY,
            given,
            channel="COUNTER",
            applicantIdNumber=RESIDENT3_ID,
        )
    )["case"]["number"]
    refused = await refer(desk, "xiuwen.reviewer", number, opinion="同意上报")
    assert codes(refused) == ["REFERRAL_INCOMPLETE"]
    assert "购机发票" in refused["errors"][0]["message"]
    added = await mutate(
        desk, "xiuwen.receptionist", COMPLETE, number=number, materials=paper("购机发票")
    )
    assert added["errors"] == []
    assert (await refer(desk, "xiuwen.reviewer", number, opinion="同意上报"))["errors"] == []


async def test_the_referral_deadline_earns_yellow_then_red_cards_on_the_timer_pass(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """转报时限: a case left at the station is no longer SUBMITTED with a stopped clock and
    no card — its deadline runs from receipt (5 working days by default), yellow near
    the end, red after it, once each, from three workers at once."""
    received = dt.date(2025, 9, 3)
    number, _ = await at_the_station(desk, received)
    due = add_working_days(received, 5)
    case = await view(desk, STATION_CLERK, number)
    assert case["referralClock"] == {"state": "GREEN", "dueOn": due.isoformat()}
    assert case["implementation"]["referralLimitDays"] is None  # the hub's default
    assert case["clock"]["state"] == "STOPPED" and case["supervisionCards"] == []

    async def sweep(day: dt.date) -> dict[str, Any]:
        await desk.travel(at(day, 8))
        clock = FixedClock(at(day, 8))
        await asyncio.gather(*(fire_all(nodes, clock) for _ in range(3)))
        return await view(desk, STATION_CLERK, number)

    yellow = await sweep(add_working_days(received, 4))
    assert yellow["referralClock"]["state"] == "YELLOW"
    assert yellow["supervisionCards"] == [
        {"color": "YELLOW", "clock": "REFERRAL", "dueOn": due.isoformat()}
    ]
    red = await sweep(add_working_days(due, 1))
    assert red["referralClock"]["state"] == "RED"
    assert [(c["color"], c["clock"]) for c in red["supervisionCards"]] == [
        ("YELLOW", "REFERRAL"),
        ("RED", "REFERRAL"),
    ]
    again = await sweep(add_working_days(due, 3))
    assert again["supervisionCards"] == red["supervisionCards"]
    # the county's supervisor finds it among the stations' overdue referrals
    assert await overdue(desk, received) == [number]
    # they count in the station's supervision figures, on the day each was issued
    for day, figures in (
        (add_working_days(received, 4), {"yellowCards": 1, "redCards": 0}),
        (add_working_days(due, 1), {"yellowCards": 0, "redCards": 1}),
    ):
        data = await desk.run("yuci.supervisor", FIGURES, day=day.isoformat())
        by_org = {o["orgCode"]: o["figures"] for o in data["supervision"]["byOrg"]}
        assert by_org[STATION] == figures, day
    assert [e["action"] for e in again["timeline"] if e["action"].endswith("_CARD")] == [
        "YELLOW_CARD",
        "RED_CARD",
    ]
    # referred at last: the referral clock stops, the county's handling clock starts
    assert (await refer(desk, STATION_CLERK, number))["errors"] == []
    stopped = await view(desk, STATION_CLERK, number)
    assert stopped["referralClock"]["state"] == "STOPPED"
    assert await overdue(desk, received) == []
    later = add_working_days(due, 4)
    await relay(nodes, at(later, 9))
    at_county = await sweep(later)
    assert (at_county["level"], at_county["status"]) == ("COUNTY", "ACCEPTED")
    assert at_county["clock"] == {"state": "GREEN", "acceptedOn": later.isoformat()}
    assert at_county["referralClock"]["state"] == "STOPPED"
    assert at_county["supervisionCards"] == []  # the county's own clock earned none


async def test_a_late_referral_gets_its_cards_on_the_write_without_a_timer_pass(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """The deadline passes between receipt and referral and no timer pass runs: the
    referral itself gives the station its yellow and red cards, before it is sent."""
    received = dt.date(2025, 9, 4)
    number, _ = await at_the_station(desk, received)
    due = add_working_days(received, 5)
    await desk.travel(at(add_working_days(due, 2), 10))
    sent = await refer(desk, AGENT, number)
    assert sent["errors"] == [] and sent["case"]["status"] == "REFERRED"
    case = await view(desk, AGENT, number)
    assert [(c["color"], c["clock"], c["dueOn"]) for c in case["supervisionCards"]] == [
        ("YELLOW", "REFERRAL", due.isoformat()),
        ("RED", "REFERRAL", due.isoformat()),
    ]
    assert [e["action"] for e in case["timeline"]] == ["SUBMIT", "YELLOW_CARD", "RED_CARD", "REFER"]


async def test_the_referral_deadline_is_the_items_own_else_the_hubs_setting(
    settings: Settings, nodes: NodeRegistry
) -> None:
    """最低生活保障 sets 10 working days of its own (the town's 入户调查 is on the way);
    the 残疾人证 sets none and takes the hub's setting — here 3 days — which the town
    that reviews first holds the case to as well."""
    async with own_hub(settings, nodes, referral_limit_days=3) as hub:
        desk = Desk(hub)
        received = dt.date(2025, 9, 5)
        card, _ = await at_the_station(desk, received)
        subsistence, _ = await at_the_station(desk, received, SUBSISTENCE, "000500100100")
        seen = await view(desk, STATION_CLERK, card)
        assert seen["referralClock"]["dueOn"] == add_working_days(received, 3).isoformat()
        own = await view(desk, STATION_CLERK, subsistence)
        assert own["implementation"]["referralLimitDays"] == 10
        assert own["referralClock"]["dueOn"] == add_working_days(received, 10).isoformat()
        # at the town, the same deadline: it counts from receipt at the station
        assert (await refer(desk, STATION_CLERK, subsistence))["errors"] == []
        await relay(nodes, at(received, 11))
        at_town = await view(desk, "xiuwen.reviewer", subsistence)
        assert (at_town["level"], at_town["status"]) == ("TOWN", "SUBMITTED")
        assert at_town["referralClock"] == own["referralClock"]


async def materials_of(nodes: NodeRegistry, number: str) -> dict[str, str]:
    async with nodes[Level.COUNTY].sessions() as session:
        rows = await session.scalars(select(CaseMaterial).where(CaseMaterial.case_number == number))
        return {m.name: m.state.value for m in rows}


async def referred_to_the_county(
    desk: Desk, nodes: NodeRegistry, day: dt.date
) -> tuple[str, list[str]]:
    number, guide = await at_the_station(desk, day)
    assert (await refer(desk, STATION_CLERK, number))["errors"] == []
    await relay(nodes, at(day, 10))
    await desk.travel(at(day, 11))
    return number, guide


async def test_the_decider_asks_the_station_once_and_the_resident_does_not_come_again(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """The county finds the photo unusable: it may not ask 赵磊 again, but it tells the
    station, once; the decision waits; the station's agent hands in a new photo; the
    case records that the resident did not have to come, and is decided."""
    day = dt.date(2025, 9, 15)
    number, guide = await referred_to_the_county(desk, nodes, day)
    photo = "近期二寸免冠彩色照片"
    assert photo in guide
    # the resident is never asked again
    again = await desk.act(
        "yuci.receptionist", "issueSupplementNotice", number=number, materials=[]
    )
    assert codes(again) == ["NO_SECOND_REQUEST"]

    told = await mutate(
        desk,
        "yuci.reviewer",
        NOTIFY,
        number=number,
        materials=[{"name": photo, "note": "照片模糊，须重新提供"}],
    )
    assert told["errors"] == [] and told["case"]["status"] == "ACCEPTED"
    assert {m["name"]: (m["state"], m["note"]) for m in told["case"]["materials"]}[photo] == (
        "INCORRECT",
        "照片模糊，须重新提供",
    )
    # 一次性: once
    twice = await mutate(desk, "yuci.reviewer", NOTIFY, number=number, materials=[])
    assert codes(twice) == ["NO_SECOND_REQUEST"]
    # the decision waits for the station
    await desk.act("yuci.reviewer", "startReview", number=number)
    held = await desk.act(
        "yuci.director",
        "decideCase",
        number=number,
        decision="APPROVED",
        licenceFields=DISABILITY_LICENCE,
    )
    assert codes(held) == ["STATION_NOTICE_OPEN"]
    # the station sees what it owes
    seen = await view(desk, AGENT, number)
    (notice,) = seen["stationNotices"]
    assert notice == {
        "station": "140702101201",
        "materials": [{"name": photo, "note": "照片模糊，须重新提供"}],
        "orgCode": "12140702MB00000006",
        "supplementedAt": None,
        "residentCameAgain": None,
    }
    # neither the resident nor another village's agent answers it; nothing less than
    # what was asked will do
    resident = await mutate(desk, "resident4", SUPPLY, number=number, materials=paper(photo))
    assert codes(resident) == ["ROLE_NOT_ALLOWED"]
    other = await mutate(desk, OTHER_AGENT, SUPPLY, number=number, materials=paper(photo))
    assert codes(other) == ["CASE_NOT_FOUND"]
    short = await mutate(desk, AGENT, SUPPLY, number=number, materials=paper(guide[0]))
    assert codes(short) == ["SUPPLEMENT_INCOMPLETE"]
    assert (await materials_of(nodes, number))[photo] == "INCORRECT"

    await desk.travel(at(day + dt.timedelta(days=1), 10))
    supplied = await mutate(desk, AGENT, SUPPLY, number=number, materials=paper(photo))
    assert supplied["errors"] == []
    assert supplied["case"]["stationNotices"][0]["residentCameAgain"] is False
    assert (await materials_of(nodes, number))[photo] == "PROVIDED"
    decided = await desk.act(
        "yuci.director",
        "decideCase",
        number=number,
        decision="APPROVED",
        licenceFields=DISABILITY_LICENCE,
    )
    assert decided["errors"] == [] and decided["case"]["status"] == "APPROVED"
    # supplied twice, or after the decision: the case has moved on
    late = await mutate(desk, AGENT, SUPPLY, number=number, materials=paper(photo))
    assert codes(late) == ["INVALID_TRANSITION"]
    final = await view(desk, "resident4", number)
    (notice,) = final["stationNotices"]
    assert notice["residentCameAgain"] is False
    assert dt.datetime.fromisoformat(notice["supplementedAt"]) == at(day + dt.timedelta(days=1), 10)
    steps = [e["action"] for e in final["timeline"] if e["level"] == "COUNTY"]
    assert steps == [
        "RECEIVE_REFERRAL",
        "NOTIFY_STATION",
        "START_REVIEW",
        "STATION_SUPPLEMENT",
        "DECIDE",
    ]


async def test_a_station_supplement_after_the_case_moved_on_changes_nothing(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """The station is told what is missing; before it answers, the resident withdraws.
    The station's answer, late, is refused and writes nothing. A notice is only for a
    referred case the deciding org holds."""
    day = dt.date(2025, 9, 17)
    number, guide = await referred_to_the_county(desk, nodes, day)
    told = await mutate(
        desk, "yuci.receptionist", NOTIFY, number=number, materials=[{"name": guide[0]}]
    )
    assert told["errors"] == []
    assert (await desk.act("resident4", "withdrawCase", number=number))["errors"] == []
    late = await mutate(desk, STATION_CLERK, SUPPLY, number=number, materials=paper(guide[0]))
    assert codes(late) == ["INVALID_TRANSITION"]
    assert (await materials_of(nodes, number))[guide[0]] == "INCORRECT"
    async with nodes[Level.COUNTY].sessions() as session:
        row = await session.get(Case, number)
        assert row is not None and row.station_notices is not None
        assert row.station_notices[0]["supplementedAt"] is None

    # received at the county itself: there is no station to ask
    await desk.travel(at(day, 14))
    own = await desk.submit("resident1", DISABILITY_CARD, guide)
    mine = own["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=mine)
    refused = await mutate(desk, "yuci.receptionist", NOTIFY, number=mine, materials=[])
    assert codes(refused) == ["INVALID_TRANSITION"]
