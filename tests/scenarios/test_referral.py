"""Referral (转报) across the stores, over HTTP as the real posts: a 修文村 resident
applies for subsistence allowance at the village station, the 修文镇 centre reviews
first and reports up, 榆次区 accepts on receipt and decides — one number all the way,
one timeline merged from three stores, every handoff audited on both sides with the
message id — and mistakes that refer nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.breakers import NodeBreakers
from gateway.demo.accounts import resident_id_number
from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.cases.models import Case
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.store import create_store_engine
from levels.outbox.models import OutboxMessage
from tests.conftest import BACKEND, DEMO_NOW
from tests.scenarios.desk import CASE, YUCI_ORG, Desk, at
from tests.support.messages import carry

SUBSISTENCE = f"{YUCI_ORG}2000500100100"  # 最低生活保障审批: village, town (初审), county
FARM_MACHINERY = f"{YUCI_ORG}2000500500100"  # 农机购置补贴: town (初审), county
DISABILITY_CARD = f"{YUCI_ORG}2000700400100"  # 残疾人证核发: village straight to county
TOWN_RELIEF = "12140702MB1010008W3000500100300"  # 临时救助: decided by the town itself
RESIDENT4_ID = resident_id_number(3)  # 修文村
RESIDENT3_ID = resident_id_number(2)  # 修文镇

REFER = """
mutation($input: ReferCaseInput!) {
  referCase(input: $input) { case { number status level version } errors { code field } }
}"""
TIMELINE = """
query($number: String!) {
  case(number: $number) {
    number status level receivedLevel clock { state acceptedOn }
    timeline { action level before after }
    materials { name state }
  }
}"""


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def refer(desk: Desk, who: str, number: str, **extra: Any) -> dict[str, Any]:
    data = await desk.run(who, REFER, input={"number": number, **extra})
    payload: dict[str, Any] = data["referCase"]
    return payload


async def relay(nodes: NodeRegistry, when: dt.datetime) -> None:
    await carry(nodes, FixedClock(when))


async def count(nodes: NodeRegistry, level: Level, model: Any) -> int:
    async with nodes[level].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def referrals(nodes: NodeRegistry, level: Level) -> int:
    """The referral messages of one store (the library's 户口簿 a submission uses sends
    a message of its own: a licence use)."""
    async with nodes[level].sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.topic == "case.referred")
        )
    return int(found or 0)


async def test_village_to_town_to_county_and_back_to_the_phone(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 6, 3)
    await desk.travel(at(received))
    materials = await desk.materials("000500100100")
    submitted = await desk.submit(
        "xiuwencun.receptionist",
        SUBSISTENCE,
        materials,
        channel="COUNTER",
        applicantIdNumber=RESIDENT4_ID,
    )
    assert submitted["errors"] == []
    case = submitted["case"]
    number = case["number"]
    # numbered and kept by the village station that received it
    assert number.startswith("140702101201-20250603-")
    assert (case["level"], case["status"]) == ("VILLAGE", "SUBMITTED")

    sent = await refer(desk, "xiuwencun.receptionist", number)
    assert sent["errors"] == [] and sent["case"]["status"] == "REFERRED"
    # on its way: the case is where it was, REFERRED, until the relay delivers it
    on_the_way = (await desk.run("resident4", TIMELINE, number=number))["case"]
    assert (on_the_way["level"], on_the_way["status"]) == ("VILLAGE", "REFERRED")

    await relay(nodes, at(received, 11))
    at_town = (await desk.run("resident4", TIMELINE, number=number))["case"]
    assert (at_town["level"], at_town["status"]) == ("TOWN", "SUBMITTED")
    # the town reviews first: no opinion, no report up
    assert codes(await refer(desk, "xiuwen.reviewer", number)) == ["OPINION_REQUIRED"]
    # the town may not ask for the materials again
    notice = await desk.act(
        "xiuwen.receptionist", "issueSupplementNotice", number=number, materials=[]
    )
    assert codes(notice) == ["NO_SECOND_REQUEST"]
    await desk.travel(at(received + dt.timedelta(days=1)))
    opinion = "经入户调查，家庭人均收入低于当地低保标准，同意上报"
    up = await refer(desk, "xiuwen.reviewer", number, opinion=opinion)
    assert up["errors"] == [] and up["case"]["status"] == "REFERRED"
    await relay(nodes, at(received + dt.timedelta(days=1), 11))

    # the county accepts on receipt: the clock starts the day it arrived
    at_county = (await desk.run("resident4", TIMELINE, number=number))["case"]
    assert (at_county["level"], at_county["status"]) == ("COUNTY", "ACCEPTED")
    assert at_county["receivedLevel"] == "VILLAGE"
    assert at_county["clock"] == {"state": "GREEN", "acceptedOn": "2025-06-04"}
    assert [m["name"] for m in at_county["materials"]] == materials
    assert [(e["action"], e["level"]) for e in at_county["timeline"]] == [
        ("SUBMIT", "VILLAGE"),
        ("REFER", "VILLAGE"),
        ("RECEIVE_REFERRAL", "TOWN"),
        ("REFER", "TOWN"),
        ("RECEIVE_REFERRAL", "COUNTY"),
    ]
    # each handoff is audited on both sides with the same message id
    for lower, upper in ((Level.VILLAGE, Level.TOWN), (Level.TOWN, Level.COUNTY)):
        sent_ids = await _detail_ids(nodes, lower, number, "REFER")
        got_ids = await _detail_ids(nodes, upper, number, "RECEIVE_REFERRAL")
        assert sent_ids == got_ids and len(sent_ids) == 1
    async with nodes[Level.TOWN].sessions() as session:
        message = await session.get(OutboxMessage, next(iter(sent_ids)))
    assert message is not None and message.state.value == "ACKNOWLEDGED"

    await desk.act("yuci.reviewer", "startReview", number=number)
    decided = await desk.act("yuci.director", "decideCase", number=number, decision="APPROVED")
    assert decided["errors"] == [] and decided["case"]["status"] == "APPROVED"
    # the resident sees it on the phone, once, where it is now
    mine = await desk.run(
        "resident4", "query { cases(first: 100) { edges { node { number status level } } } }"
    )
    listed = [e["node"] for e in mine["cases"]["edges"] if e["node"]["number"] == number]
    assert listed == [{"number": number, "status": "APPROVED", "level": "COUNTY"}]
    # relaying again applies nothing twice
    await relay(nodes, at(received + dt.timedelta(days=2)))
    async with nodes[Level.COUNTY].sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(Case).where(Case.number == number)
        )
    assert rows == 1


TOWN_CENTRE = "12140702MB1010008W"  # 修文镇便民服务中心
OPINION_VIEW = """
query($number: String!) {
  case(number: $number) {
    status level
    reviewOpinions { level orgCode org { name } reviewerName reviewerRole opinion at }
    timeline { action level opinion }
  }
}"""
TRAIL = """
query($n: String!) {
  auditTrail(caseNumber: $n) {
    events { level action at }
    chains { level divisionCode valid events }
    chain { level valid }
    links { level divisionCode fromLevel fromDivisionCode valid }
    valid
  }
  auditEvents(filter: {caseNumber: $n}, first: 50) { edges { node { level action at } } }
}"""


async def _up_to_the_county(desk: Desk, nodes: NodeRegistry, received: dt.date) -> str:
    """最低生活保障 for 赵磊: received at 修文村, reviewed first at 修文镇 (who refers it up
    the next day with its opinion), accepted at 榆次区."""
    await desk.travel(at(received))
    materials = await desk.materials("000500100100")
    number: str = (
        await desk.submit(
            "xiuwencun.receptionist",
            SUBSISTENCE,
            materials,
            channel="COUNTER",
            applicantIdNumber=RESIDENT4_ID,
        )
    )["case"]["number"]
    assert (await refer(desk, "xiuwencun.receptionist", number))["errors"] == []
    await relay(nodes, at(received, 11))
    await desk.travel(at(received + dt.timedelta(days=1)))
    up = await refer(desk, "xiuwen.reviewer", number, opinion=TOWN_OPINION)
    assert up["errors"] == []
    await relay(nodes, at(received + dt.timedelta(days=1), 11))
    return number


TOWN_OPINION = "经入户调查核实，申请人家庭人均收入低于当地低保标准，同意上报"


async def test_the_deciders_read_the_towns_opinion_on_the_case(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """初审意见 reaches the county with the case: its reviewer and director, who may not
    read the audit trail, see who gave it where and when, and the timeline shows it."""
    received = dt.date(2025, 6, 16)
    number = await _up_to_the_county(desk, nodes, received)
    for who in ("yuci.reviewer", "yuci.director"):
        case = (await desk.run(who, OPINION_VIEW, number=number))["case"]
        assert (case["level"], case["status"]) == ("COUNTY", "ACCEPTED")
        (given,) = case["reviewOpinions"]
        assert dt.datetime.fromisoformat(given.pop("at")) == at(received + dt.timedelta(days=1))
        assert "修文" in given.pop("org")["name"]
        assert given == {
            "level": "TOWN",
            "orgCode": TOWN_CENTRE,
            "reviewerName": "xiuwen审查员",
            "reviewerRole": "REVIEWER",
            "opinion": TOWN_OPINION,
        }
        steps = [e for e in case["timeline"] if e["action"] != "READ"]  # staff reads
        assert [(e["action"], e["level"], e["opinion"]) for e in steps] == [
            ("SUBMIT", "VILLAGE", None),
            ("REFER", "VILLAGE", None),
            ("RECEIVE_REFERRAL", "TOWN", None),
            ("REFER", "TOWN", TOWN_OPINION),
            ("RECEIVE_REFERRAL", "COUNTY", None),
        ]
        trail = await desk.ask(who, TRAIL, n=number)
        assert trail["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # the applicant follows it on the phone with the same opinion
    mine = (await desk.run("resident4", OPINION_VIEW, number=number))["case"]
    assert [o["opinion"] for o in mine["reviewOpinions"]] == [TOWN_OPINION]


async def test_the_audit_trail_reads_every_node_the_case_passed_through(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 6, 18)
    number = await _up_to_the_county(desk, nodes, received)
    data = await desk.run("yuci.auditor", TRAIL, n=number)
    trail = data["auditTrail"]
    steps = [
        ("VILLAGE", "SUBMIT"),
        ("VILLAGE", "REFER"),
        ("TOWN", "RECEIVE_REFERRAL"),
        ("TOWN", "REFER"),
        ("COUNTY", "RECEIVE_REFERRAL"),
    ]
    assert [(e["level"], e["action"]) for e in trail["events"]] == steps
    # each node's chain, verified: where it was received first
    assert [(c["level"], c["valid"]) for c in trail["chains"]] == [
        ("VILLAGE", True),
        ("TOWN", True),
        ("COUNTY", True),
    ]
    assert all(c["events"] >= 1 for c in trail["chains"])
    # each hand-over links the receiving division's first event to the sender's
    assert [(x["fromLevel"], x["level"], x["valid"]) for x in trail["links"]] == [
        ("VILLAGE", "TOWN", True),
        ("TOWN", "COUNTY", True),
    ]
    assert [x["fromDivisionCode"] for x in trail["links"]] == [
        number[:12],
        trail["links"][1]["fromDivisionCode"],
    ]
    assert trail["links"][0]["divisionCode"] == trail["links"][1]["fromDivisionCode"]
    assert trail["valid"] is True
    assert trail["chain"] == {"level": "VILLAGE", "valid": True}
    listed = [e["node"] for e in data["auditEvents"]["edges"]]
    assert [(e["level"], e["action"]) for e in listed] == steps
    times = [dt.datetime.fromisoformat(e["at"]) for e in listed]
    assert times == sorted(times)


async def _detail_ids(nodes: NodeRegistry, level: Level, number: str, action: str) -> set[str]:
    async with nodes[level].sessions() as session:
        events = await session.scalars(
            select(AuditEvent).where(AuditEvent.case_number == number, AuditEvent.action == action)
        )
        return {e.detail["message"] for e in events}


async def test_straight_to_the_deciding_org_when_nobody_reviews_first(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 6, 9)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (
        await desk.submit(
            "xiuwencun.receptionist",
            DISABILITY_CARD,
            materials,
            channel="COUNTER",
            applicantIdNumber=RESIDENT4_ID,
        )
    )["case"]["number"]
    # a village may not take up a county matter itself: it refers it
    for step in ("acceptCase", "completeCase"):
        refused = await desk.act("xiuwencun.receptionist", step, number=number)
        assert codes(refused) == ["REFER_INSTEAD"], step
    assert (await refer(desk, "xiuwencun.receptionist", number))["errors"] == []
    await relay(nodes, at(received, 15))
    case = (await desk.run("resident4", TIMELINE, number=number))["case"]
    assert (case["level"], case["status"]) == ("COUNTY", "ACCEPTED")
    assert [e["level"] for e in case["timeline"]] == ["VILLAGE", "VILLAGE", "COUNTY"]


async def test_mistakes_refer_nothing(desk: Desk, nodes: NodeRegistry) -> None:
    received = dt.date(2025, 6, 10)
    await desk.travel(at(received))
    outbox_before = {lv: await referrals(nodes, lv) for lv in Level}

    # a matter the town decides itself is not referred
    relief = await desk.materials("000500100300", "140702101000", "TOWN")
    own = (
        await desk.submit(
            "xiuwen.receptionist",
            TOWN_RELIEF,
            relief,
            channel="COUNTER",
            applicantIdNumber=RESIDENT3_ID,
        )
    )["case"]["number"]
    assert codes(await refer(desk, "xiuwen.receptionist", own)) == ["NOT_REFERABLE"]
    # a county matter a town cannot receive (the disability card: villages only)
    card = await desk.submit(
        "xiuwen.receptionist",
        DISABILITY_CARD,
        await desk.materials("000700400100"),
        channel="COUNTER",
        applicantIdNumber=RESIDENT3_ID,
    )
    assert codes(card) == ["NOT_RECEIVABLE_HERE"]
    # received at the town; another village's station and the county cannot refer it
    machinery = (
        await desk.submit(
            "xiuwen.receptionist",
            FARM_MACHINERY,
            await desk.materials("000500500100"),
            channel="COUNTER",
            applicantIdNumber=RESIDENT3_ID,
        )
    )["case"]["number"]
    assert codes(await refer(desk, "xiuwencun.receptionist", machinery)) == ["CASE_NOT_FOUND"]
    assert codes(await refer(desk, "yuci.receptionist", machinery)) == ["NOT_AT_THIS_ORG"]
    assert codes(await refer(desk, "xiuwen.output", machinery)) == ["ROLE_NOT_ALLOWED"]
    # referred once, it cannot be referred again
    assert codes(await refer(desk, "xiuwen.reviewer", machinery, opinion="同意")) == []
    assert codes(await refer(desk, "xiuwen.reviewer", machinery, opinion="同意")) == [
        "INVALID_TRANSITION"
    ]
    after = {lv: await referrals(nodes, lv) for lv in Level}
    assert after[Level.TOWN] == outbox_before[Level.TOWN] + 1
    assert {lv: after[lv] for lv in Level if lv is not Level.TOWN} == {
        lv: outbox_before[lv] for lv in Level if lv is not Level.TOWN
    }
    assert (await desk.run("resident3", CASE, number=machinery))["case"]["status"] == "REFERRED"


CITY_ITEMS = """
query { matterImplementations(filter: {divisionCode: "140700000000", level: CITY,
                                       keyword: "见义勇为"}) {
  edges { node { implementationCode materials { name } } } } }"""


async def test_a_county_system_refers_to_the_city(
    desk: Desk, nodes: NodeRegistry, settings: Any
) -> None:
    """Received at the 榆次区 counter, referred by the county's own system (a machine
    client with cases:refer), accepted by the city on receipt."""
    from tests.auth.test_policy_matrix import _client_token

    await desk.travel(DEMO_NOW)
    (item,) = (await desk.run("resident1", CITY_ITEMS))["matterImplementations"]["edges"]
    code = item["node"]["implementationCode"]
    materials = [m["name"] for m in item["node"]["materials"]]
    number = (
        await desk.submit(
            "yuci.receptionist",
            code,
            materials,
            channel="COUNTER",
            applicantIdNumber=resident_id_number(1),
        )
    )["case"]["number"]
    assert number.startswith("140702000000-")
    token = await _client_token(desk.hub.gql.http, settings, "client:yuci-system")
    body = await desk.hub.gql(REFER, {"input": {"number": number}}, authorization=f"Bearer {token}")
    assert body["data"]["referCase"]["errors"] == [], body
    await relay(nodes, DEMO_NOW)
    case = (await desk.run("resident2", TIMELINE, number=number))["case"]
    assert (case["level"], case["status"]) == ("CITY", "ACCEPTED")
    # another county's system may not refer it (it is not in its county)
    other = await _client_token(desk.hub.gql.http, settings, "client:taigu-system")
    refused = await desk.hub.gql(
        REFER, {"input": {"number": number}}, authorization=f"Bearer {other}"
    )
    assert [e["code"] for e in refused["data"]["referCase"]["errors"]] == ["CASE_NOT_FOUND"]


def county_away(nodes: NodeRegistry, tmp: Path) -> NodeRegistry:
    """The stores with the county's out of reach (a PostgreSQL port nobody listens on,
    a SQLite file in a folder that does not exist), behind breakers of their own."""
    node = nodes[Level.COUNTY]
    if BACKEND == "postgres":
        url = make_url(node.url).set(port=1).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'gone' / 'county.sqlite3'}"
    engine = create_store_engine(url)
    away = dataclasses.replace(node, url=url, engine=engine, sessions=async_sessionmaker(engine))
    return nodes.replacing(
        away,
        breakers=NodeBreakers(failures=2, open_seconds=60),
    )


async def test_referrals_wait_for_a_county_that_is_down_then_arrive_once(
    desk: Desk, nodes: NodeRegistry, tmp_path: Path
) -> None:
    received = dt.date(2025, 6, 16)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    numbers = []
    for _ in range(3):
        number = (
            await desk.submit(
                "xiuwencun.receptionist",
                DISABILITY_CARD,
                materials,
                channel="COUNTER",
                applicantIdNumber=RESIDENT4_ID,
            )
        )["case"]["number"]
        assert (await refer(desk, "xiuwencun.receptionist", number))["errors"] == []
        numbers.append(number)
    down = county_away(nodes, tmp_path)
    try:
        for _ in range(3):
            done = await carry(down, FixedClock(at(received, 11)))
            assert "county" in done.down
    finally:
        await down[Level.COUNTY].engine.dispose()
    async with nodes[Level.VILLAGE].sessions() as session:
        waiting = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_number.in_(numbers),
                    # the uses of the library's 户口簿 went to the city, which is up
                    OutboxMessage.topic == "case.referred",
                )
            )
        ).all()
    # a county that is down means waiting (sent, no receipt yet), not failing
    assert {(m.state.value, m.attempts) for m in waiting} == {("SENT", 0)}
    assert len(waiting) == 3
    for number in numbers:
        seen = (await desk.run("resident4", TIMELINE, number=number))["case"]
        assert (seen["level"], seen["status"]) == ("VILLAGE", "REFERRED")

    # back again: every referral is applied, once
    await relay(nodes, at(received, 12))
    await relay(nodes, at(received, 13))
    for number in numbers:
        seen = (await desk.run("resident4", TIMELINE, number=number))["case"]
        assert (seen["level"], seen["status"]) == ("COUNTY", "ACCEPTED")
        assert [e["action"] for e in seen["timeline"]].count("RECEIVE_REFERRAL") == 1
    async with nodes[Level.COUNTY].sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(Case).where(Case.number.in_(numbers))
        )
    assert rows == 3
