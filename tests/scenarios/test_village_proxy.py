"""The village proxy service (代办) at 修文村, over HTTP as the real people: 赵磊 authorizes
the station in the app, an agent applies for him, the case is the village's (its number,
its store, channel PROXY) and his on the phone; a written authorization recorded at the
station, a village matter completed on the spot; the ledger (台账) in step with cases
referred up; revoked, expired and foreign authorizations, and bad input, that write
nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from auth.idnumbers import mask_id_number
from gateway.demo.accounts import resident_id_number
from gateway.nodes import NodeRegistry, count_statements
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.proxy.models import ProxyAuthorization
from tests.conftest import HUB_RUNS_NODE_SQL
from tests.scenarios.desk import DISABILITY_LICENCE, YUCI_ORG, Desk, at
from tests.support.messages import carry

VILLAGE, OTHER_VILLAGE = "140702101201", "140702101202"  # 修文村, 东长寿村
AGENT, AGENT_B = f"agent.{VILLAGE}.1", f"agent.{VILLAGE}.2"
OTHER_AGENT = f"agent.{OTHER_VILLAGE}.1"
STATION, OTHER_STATION = "12140702MB1012011N", "12140702MB101202XE"
TOWN_CENTRE = "12140702MB1010008W"  # 修文镇
SUBSISTENCE = f"{YUCI_ORG}2000500100100"  # 最低生活保障审批: village, town (初审), county
DISABILITY_CARD = f"{YUCI_ORG}2000700400100"  # 残疾人证核发: village straight to county
PENSION = f"{STATION}4002000300100"  # 城乡居民养老保险参保登记, the station's own
OTHER_PENSION = f"{OTHER_STATION}4002000300100"
TOWN_PENSION = f"{TOWN_CENTRE}3002000300100"  # the town's item: not the village's route
ALLOWANCE = f"{TOWN_CENTRE}3000500100400"  # 高龄津贴发放, decided by the town
RESIDENT4_ID, RESIDENT3_ID = resident_id_number(3), resident_id_number(2)
ORGS = {Level.TOWN: TOWN_CENTRE, Level.COUNTY: YUCI_ORG}
ORGS_DIVISION = {Level.TOWN: "140702101000", Level.COUNTY: "140702000000"}
PHONE = "13903541204"

AUTHORIZATION = """
  id villageCode basicCode residentName residentIdMasked phone scope mode method status
  grantedAt expiresOn revokedAt recordedByAgent village { name } matter { name }
"""
AUTHORIZE = f"""
mutation($input: AuthorizeProxyInput!) {{
  authorizeProxy(input: $input) {{
    authorization {{ {AUTHORIZATION} }} errors {{ code field message }} }}
}}"""
RECORD = f"""
mutation($input: RecordProxyAuthorizationInput!) {{
  recordProxyAuthorization(input: $input) {{
    authorization {{ {AUTHORIZATION} }} errors {{ code field message }} }}
}}"""
REVOKE = f"""
mutation($id: ID!) {{
  revokeProxyAuthorization(input: {{id: $id}}) {{
    authorization {{ {AUTHORIZATION} }} errors {{ code field }} }}
}}"""
LIST = f"""
query($filter: ProxyAuthorizationFilter) {{
  proxyAuthorizations(filter: $filter, first: 100) {{ edges {{ node {{ {AUTHORIZATION} }} }} }}
}}"""
LEDGER = """
query($code: String!, $from: Date, $to: Date, $first: Int, $after: String) {
  villageLedger(divisionCode: $code, from: $from, to: $to, first: $first, after: $after) {
    edges { node {
      number receivedOn matterName basicCode applicantName applicantIdMasked phone channel
      proxied status level
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
GUIDE = """
query($code: String!, $division: String!, $level: Level!) {
  matterImplementations(filter: {basicCode: $code, divisionCode: $division, level: $level}) {
    edges { node { implementationCode materials { name } } }
  }
}"""
MY_CASES = "query { cases(first: 100) { edges { node { number level status channel } } } }"
ONE_CASE = "query($n: String!) { case(number: $n) { number applicantName channel status } }"


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def top_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def authorize(desk: Desk, who: str = "resident4", **input: Any) -> dict[str, Any]:
    given = {
        "villageCode": VILLAGE,
        "basicCode": "000500100100",
        "scope": "代为提交申请材料并领取结果",
        "mode": "FULL_PROXY",
        "expiresOn": "2026-09-30",
        "phone": PHONE,
        **input,
    }
    payload: dict[str, Any] = (await desk.run(who, AUTHORIZE, input=given))["authorizeProxy"]
    return payload


async def record(desk: Desk, who: str = AGENT, **input: Any) -> dict[str, Any]:
    given = {
        "residentIdNumber": RESIDENT3_ID,
        "basicCode": "002000300100",
        "scope": "代为办理城乡居民养老保险参保登记",
        "mode": "IMMEDIATE",
        "method": "WRITTEN",
        "expiresOn": "2026-06-30",
        "phone": "0354-3021234",
        **input,
    }
    data = await desk.run(who, RECORD, input=given)
    payload: dict[str, Any] = data["recordProxyAuthorization"]
    return payload


async def revoke(desk: Desk, who: str, authorization_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await desk.run(who, REVOKE, id=authorization_id))[
        "revokeProxyAuthorization"
    ]
    return payload


async def listed(desk: Desk, who: str, **filter: Any) -> dict[str, dict[str, Any]]:
    data = await desk.run(who, LIST, filter=filter or None)
    return {e["node"]["id"]: e["node"] for e in data["proxyAuthorizations"]["edges"]}


async def ledger(desk: Desk, who: str, day: dt.date, code: str = VILLAGE) -> list[dict[str, Any]]:
    data = await desk.run(who, LEDGER, code=code, **{"from": str(day), "to": str(day)})
    return [e["node"] for e in data["villageLedger"]["edges"]]


async def guide(desk: Desk, implementation: str, division: str, level: str) -> list[str]:
    variables = {"code": implementation[19:], "division": division, "level": level}
    data = await desk.run("resident1", GUIDE, **variables)
    (item,) = [
        e["node"]
        for e in data["matterImplementations"]["edges"]
        if e["node"]["implementationCode"] == implementation
    ]
    return [m["name"] for m in item["materials"]]


def division_of(implementation: str) -> tuple[str, str]:
    """The division and level of an item: its org's credit code spells the division."""
    org, digit = implementation[:18], implementation[18]
    return org[2:8] + org[10:16], {"2": "COUNTY", "3": "TOWN", "4": "VILLAGE"}[digit]


async def proxy_submit(
    desk: Desk,
    who: str,
    implementation: str,
    authorization_id: str | None,
    materials: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """``who`` hands in the item's whole guide (unless told) on the PROXY channel."""
    if materials is None:
        materials = await guide(desk, implementation, *division_of(implementation))
    given: dict[str, Any] = {"channel": "PROXY", **extra}
    if authorization_id is not None:
        given["proxyAuthorizationId"] = authorization_id
    return await desk.submit(who, implementation, materials, **given)


async def village_rows(nodes: NodeRegistry) -> tuple[int, int]:
    """How many cases and authorizations the village store holds."""
    async with nodes[Level.VILLAGE].sessions() as session:
        cases = await session.scalar(select(func.count()).select_from(Case))
        granted = await session.scalar(select(func.count()).select_from(ProxyAuthorization))
    return int(cases or 0), int(granted or 0)


async def test_resident_authorizes_in_the_app_and_the_agent_applies_for_him(
    desk: Desk, nodes: NodeRegistry
) -> None:
    day = dt.date(2026, 3, 16)
    await desk.travel(at(day, 9))
    given = await authorize(desk)
    assert given["errors"] == []
    granted = given["authorization"]
    assert (granted["status"], granted["method"], granted["recordedByAgent"]) == (
        "ACTIVE",
        "MOBILE",
        False,
    )
    assert granted["village"]["name"] == "修文村"
    assert granted["matter"]["name"] == "最低生活保障审批"
    assert granted["residentIdMasked"] == mask_id_number(RESIDENT4_ID)
    # 赵磊 sees what he gave; both agents of the station see it (A/B posts)
    assert granted["id"] in await listed(desk, "resident4")
    assert granted["id"] in await listed(desk, AGENT_B, villageCode=VILLAGE)

    await desk.travel(at(day, 10))
    submitted = await proxy_submit(desk, AGENT, SUBSISTENCE, granted["id"])
    assert submitted["errors"] == []
    case = submitted["case"]
    number = case["number"]
    # received at the village: its number, its store, until it is referred up
    assert number.startswith(f"{VILLAGE}-20260316-")
    assert (case["level"], case["status"]) == ("VILLAGE", "SUBMITTED")
    assert case["applicantName"] == "赵磊"
    assert case["applicantIdMasked"] == mask_id_number(RESIDENT4_ID)
    assert [e["action"] for e in case["timeline"]] == ["SUBMIT"]
    async with nodes[Level.VILLAGE].sessions() as session:
        row = await session.get(Case, number)
    async with nodes[Level.COUNTY].sessions() as session:
        assert await session.get(Case, number) is None
    assert row is not None
    assert (row.channel, row.proxy_authorization_id, row.applicant_phone) == (
        "PROXY",
        granted["id"],
        PHONE,
    )
    assert row.implementation_code == SUBSISTENCE and row.received_level is Level.VILLAGE

    # his, on the phone
    mine = {
        c["node"]["number"]: c["node"]
        for c in (await desk.run("resident4", MY_CASES))["cases"]["edges"]
    }
    assert mine[number] == {
        "number": number,
        "level": "VILLAGE",
        "status": "SUBMITTED",
        "channel": "PROXY",
    }
    assert (await desk.run("resident4", ONE_CASE, n=number))["case"]["applicantName"] == "赵磊"

    # the other agent of the station may act on the same authorization
    again = await proxy_submit(desk, AGENT_B, SUBSISTENCE, granted["id"])
    assert again["errors"] == []

    # the ledger: for both agents, and for staff and auditors above the village
    for who in (AGENT, AGENT_B, "xiuwen.auditor", "yuci.supervisor"):
        entries = {e["number"]: e for e in await ledger(desk, who, day)}
        assert entries[number] == {
            "number": number,
            "receivedOn": "2026-03-16",
            "matterName": "最低生活保障审批",
            "basicCode": "000500100100",
            "applicantName": "赵磊",
            "applicantIdMasked": mask_id_number(RESIDENT4_ID),
            "phone": PHONE,
            "channel": "PROXY",
            "proxied": True,
            "status": "SUBMITTED",
            "level": "VILLAGE",
        }
        assert again["case"]["number"] in entries


REFER = """
mutation($input: ReferCaseInput!) {
  referCase(input: $input) { case { number status level } errors { code field } }
}"""


async def test_either_agent_of_the_station_reads_and_carries_on_the_case(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """A/B posts: the case agent 1 handed in is the station's; agent 2 reads it, finds
    it in their cases, and refers it up; it stays theirs to follow at the town. An
    agent of another village still finds nothing."""
    day = dt.date(2026, 3, 30)
    await desk.travel(at(day, 9))
    granted = (await authorize(desk))["authorization"]
    number = (await proxy_submit(desk, AGENT, SUBSISTENCE, granted["id"]))["case"]["number"]

    seen = (await desk.run(AGENT_B, ONE_CASE, n=number))["case"]
    assert seen == {
        "number": number,
        "applicantName": "赵磊",
        "channel": "PROXY",
        "status": "SUBMITTED",
    }
    theirs = {e["node"]["number"] for e in (await desk.run(AGENT_B, MY_CASES))["cases"]["edges"]}
    assert number in theirs
    assert (await desk.run(OTHER_AGENT, ONE_CASE, n=number))["case"] is None
    mine = (await desk.run(OTHER_AGENT, MY_CASES))["cases"]["edges"]
    assert number not in {e["node"]["number"] for e in mine}
    refused = (await desk.run(OTHER_AGENT, REFER, input={"number": number}))["referCase"]
    assert codes(refused) == ["CASE_NOT_FOUND"]

    sent = (await desk.run(AGENT_B, REFER, input={"number": number}))["referCase"]
    assert sent["errors"] == [] and sent["case"]["status"] == "REFERRED"
    await carry(nodes, FixedClock(at(day, 10)))
    for who in (AGENT, AGENT_B):
        at_town = (await desk.run(who, ONE_CASE, n=number))["case"]
        assert at_town is not None and at_town["status"] == "SUBMITTED", who
        listed = (await desk.run(who, MY_CASES))["cases"]["edges"]
        (row,) = [e["node"] for e in listed if e["node"]["number"] == number]
        assert (row["level"], row["status"]) == ("TOWN", "SUBMITTED")


CARD_USES = """
query { licences(filter: {typeCode: "CJRZ"}, first: 50) {
  edges { node { identifier uses { kind caseNumber usedByOrg } } } } }"""


async def test_a_licence_filled_in_for_a_proxied_application_names_the_station(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """赵磊's 残疾人证, applied for through the station and issued by 榆次区, is filled in
    from the library when an agent applies for 低保 for him: the use names the station
    that received the application."""
    day = dt.date(2026, 3, 31)
    await desk.travel(at(day, 9))
    card = (await authorize(desk, basicCode="000700400100", mode="ACCOMPANIED"))["authorization"]
    aid = {"villageService": {"accompaniedBy": "代办员王芳"}}  # 陪同办理: who went with him
    number = (await proxy_submit(desk, AGENT, DISABILITY_CARD, card["id"], **aid))["case"]["number"]
    assert (await desk.run(AGENT, REFER, input={"number": number}))["referCase"]["errors"] == []
    await carry(nodes, FixedClock(at(day, 10)))
    assert (await desk.act("yuci.reviewer", "startReview", number=number))["errors"] == []
    decided = await desk.act(
        "yuci.director",
        "decideCase",
        number=number,
        decision="APPROVED",
        licenceFields=DISABILITY_LICENCE,
    )
    assert decided["errors"] == []
    await carry(nodes, FixedClock(at(day, 11)))  # the library holds the card

    subsistence = (await authorize(desk))["authorization"]["id"]
    slot = "残疾人证或重病诊断证明"
    materials = [m for m in await guide(desk, SUBSISTENCE, *division_of(SUBSISTENCE)) if m != slot]
    applied = await proxy_submit(desk, AGENT_B, SUBSISTENCE, subsistence, materials)
    assert applied["errors"] == []
    applied_number = applied["case"]["number"]
    await carry(nodes, FixedClock(at(day, 12)))
    wallet = (await desk.run("resident4", CARD_USES))["licences"]["edges"]
    uses = [u for e in wallet for u in e["node"]["uses"] if u["caseNumber"] == applied_number]
    assert uses == [{"kind": "MATERIAL", "caseNumber": applied_number, "usedByOrg": STATION}]


async def test_a_written_authorization_and_a_village_matter_completed_on_the_spot(
    desk: Desk,
) -> None:
    day = dt.date(2026, 3, 17)
    await desk.travel(at(day, 9))
    recorded = await record(desk)
    assert recorded["errors"] == []
    granted = recorded["authorization"]
    assert (granted["method"], granted["recordedByAgent"], granted["residentName"]) == (
        "WRITTEN",
        True,
        "王芳",
    )
    assert granted["phone"] == "0354-3021234"
    # 王芳 sees the authorization she signed
    assert granted["id"] in await listed(desk, "resident3")

    submitted = await proxy_submit(desk, AGENT, PENSION, granted["id"])
    assert submitted["errors"] == []
    number = submitted["case"]["number"]
    assert number.startswith(f"{VILLAGE}-20260317-")
    done = await desk.act(AGENT, "completeCase", number=number)
    assert done["errors"] == []
    assert (done["case"]["status"], done["case"]["decision"]) == ("COMPLETED", "APPROVED")
    assert [e["action"] for e in done["case"]["timeline"]] == ["SUBMIT", "COMPLETE"]
    (entry,) = [e for e in await ledger(desk, AGENT, day) if e["number"] == number]
    assert (entry["status"], entry["level"], entry["applicantName"]) == (
        "COMPLETED",
        "VILLAGE",
        "王芳",
    )
    mine = (await desk.run("resident3", MY_CASES))["cases"]["edges"]
    assert number in {c["node"]["number"] for c in mine}
    # an agent of another village neither reads nor completes it
    other = await desk.act(OTHER_AGENT, "completeCase", number=number)
    assert codes(other) == ["CASE_NOT_FOUND"]


async def test_a_revoked_authorization_cannot_be_used_and_nothing_is_written(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.travel(at(dt.date(2026, 3, 18), 9))
    granted = (await authorize(desk, basicCode="000500100400", mode="HOME_VISIT"))["authorization"]
    # only the resident who gave it may revoke an authorization given in the app
    assert codes(await revoke(desk, AGENT, granted["id"])) == ["NOT_REVOCABLE_BY_YOU"]
    assert codes(await revoke(desk, "resident1", granted["id"])) == ["AUTHORIZATION_NOT_FOUND"]
    revoked = await revoke(desk, "resident4", granted["id"])
    assert revoked["errors"] == []
    assert revoked["authorization"]["status"] == "REVOKED"
    revoked_at = revoked["authorization"]["revokedAt"]
    assert revoked_at is not None
    # revoking it again changes nothing
    await desk.travel(at(dt.date(2026, 3, 18), 10))
    twice = await revoke(desk, "resident4", granted["id"])
    assert twice["errors"] == []
    first = dt.datetime.fromisoformat(revoked_at)
    assert dt.datetime.fromisoformat(twice["authorization"]["revokedAt"]) == first

    before = await village_rows(nodes)
    refused = await proxy_submit(desk, AGENT, ALLOWANCE, granted["id"])
    assert codes(refused) == ["AUTHORIZATION_REVOKED"] and refused["case"] is None
    assert await village_rows(nodes) == before
    assert (await listed(desk, "resident4", status="REVOKED"))[granted["id"]]["status"] == "REVOKED"
    assert granted["id"] not in await listed(desk, "resident4", status="ACTIVE")

    # the agent who recorded one by mistake strikes it out; the other agent may not
    mistaken = (await record(desk))["authorization"]
    assert codes(await revoke(desk, AGENT_B, mistaken["id"])) == ["NOT_REVOCABLE_BY_YOU"]
    struck = await revoke(desk, AGENT, mistaken["id"])
    assert struck["errors"] == [] and struck["authorization"]["status"] == "REVOKED"


async def test_an_agent_of_another_village_can_neither_use_nor_see_it(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.travel(at(dt.date(2026, 3, 19), 9))
    granted = (await authorize(desk))["authorization"]
    assert granted["id"] not in await listed(desk, OTHER_AGENT)
    assert await listed(desk, OTHER_AGENT, villageCode=VILLAGE) == {}
    before = await village_rows(nodes)
    used = await proxy_submit(desk, OTHER_AGENT, SUBSISTENCE, granted["id"])
    assert codes(used) == ["AUTHORIZATION_NOT_FOUND"]
    assert codes(await revoke(desk, OTHER_AGENT, granted["id"])) == ["AUTHORIZATION_NOT_FOUND"]
    # nor act at 修文村's station
    foreign = await proxy_submit(desk, AGENT, OTHER_PENSION, granted["id"])
    assert codes(foreign) == ["OUTSIDE_YOUR_VILLAGE"]
    assert await village_rows(nodes) == before
    # its ledger is 修文村's business (and its staff's and auditors' above it)
    for who in (OTHER_AGENT, "taigu.reviewer", "resident4"):
        body = await desk.ask(who, LEDGER, code=VILLAGE)
        assert top_codes(body) == ["FORBIDDEN"], who
    assert (await desk.run(OTHER_AGENT, LEDGER, code=OTHER_VILLAGE))["villageLedger"]


async def test_an_expired_authorization_cannot_be_used(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(dt.date(2026, 3, 20), 9))
    granted = (await authorize(desk, expiresOn="2026-03-20"))["authorization"]
    assert granted["status"] == "ACTIVE"
    # its last day is still good; the next working day it is not
    await desk.travel(at(dt.date(2026, 3, 23), 9))
    before = await village_rows(nodes)
    late = await proxy_submit(desk, AGENT, SUBSISTENCE, granted["id"])
    assert codes(late) == ["AUTHORIZATION_EXPIRED"]
    assert await village_rows(nodes) == before
    assert (await listed(desk, "resident4"))[granted["id"]]["status"] == "EXPIRED"
    assert granted["id"] in await listed(desk, AGENT, status="EXPIRED")
    assert granted["id"] not in await listed(desk, AGENT, status="ACTIVE")


async def test_bad_input_is_refused_and_writes_nothing(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(dt.date(2026, 3, 25), 9))
    before = await village_rows(nodes)
    for change, code in [
        ({"villageCode": "140702101000"}, "VILLAGE_NOT_FOUND"),  # a town
        ({"villageCode": "1407021012"}, "INVALID_DIVISION_CODE"),
        ({"basicCode": "999999999999"}, "MATTER_NOT_FOUND"),
        ({"basicCode": "bad"}, "INVALID_BASIC_CODE"),
        ({"basicCode": "000100200100"}, "MATTER_NOT_PROXIABLE"),  # 食品经营许可: county only
        ({"mode": "HOME_VISIT"}, "MODE_NOT_OFFERED"),
        ({"expiresOn": "2026-03-24"}, "EXPIRY_IN_THE_PAST"),
        ({"expiresOn": "2027-03-26"}, "EXPIRY_TOO_FAR"),
        ({"phone": "12345"}, "INVALID_PHONE"),
        ({"scope": "  "}, "SCOPE_REQUIRED"),
        ({"scope": "代" * 501}, "TEXT_TOO_LONG"),
    ]:
        assert codes(await authorize(desk, **change)) == [code], change
    assert (await authorize(desk, expiresOn="2027-03-25"))["errors"] == []  # a year on
    for change, code in [
        ({"method": "MOBILE"}, "METHOD_NOT_ALLOWED"),
        ({"residentIdNumber": "140702200001101010"}, "INVALID_ID_NUMBER"),
        ({"residentIdNumber": "11010519491231002X"}, "RESIDENT_NOT_FOUND"),
        ({"mode": "FULL_PROXY"}, "MODE_NOT_OFFERED"),
    ]:
        assert codes(await record(desk, **change)) == [code], change
    # residents authorize in the app; agents record: each is refused the other's
    assert top_codes(
        await desk.ask(
            "resident4",
            RECORD,
            input={
                "residentIdNumber": RESIDENT4_ID,
                "basicCode": "002000300100",
                "scope": "x",
                "mode": "IMMEDIATE",
                "method": "WRITTEN",
                "expiresOn": "2026-06-30",
                "phone": PHONE,
            },
        )
    ) == ["FORBIDDEN"]
    assert top_codes(
        await desk.ask(
            AGENT,
            AUTHORIZE,
            input={
                "villageCode": VILLAGE,
                "basicCode": "000500100100",
                "scope": "x",
                "mode": "FULL_PROXY",
                "expiresOn": "2026-06-30",
                "phone": PHONE,
            },
        )
    ) == ["FORBIDDEN"]
    after_grants = await village_rows(nodes)
    assert after_grants == (before[0], before[1] + 1)

    granted = (await authorize(desk))["authorization"]["id"]
    for who, implementation, authorization, extra, code in [
        (AGENT, SUBSISTENCE, None, {}, "AUTHORIZATION_REQUIRED"),
        (AGENT, SUBSISTENCE, "0" * 32, {}, "AUTHORIZATION_NOT_FOUND"),
        (AGENT, SUBSISTENCE, granted, {"channel": "COUNTER"}, "CHANNEL_NOT_PROXY"),
        (AGENT, DISABILITY_CARD, granted, {}, "AUTHORIZATION_OTHER_MATTER"),
        (
            AGENT,
            SUBSISTENCE,
            granted,
            {"applicantIdNumber": RESIDENT3_ID},
            "AUTHORIZATION_OTHER_RESIDENT",
        ),
        (AGENT, TOWN_PENSION, granted, {}, "MATTER_NOT_PROXIABLE"),
        (AGENT, "12140702MB000000620001002001009", granted, {}, "INVALID_IMPLEMENTATION_CODE"),
        ("resident4", SUBSISTENCE, granted, {}, "NOT_AN_AGENT"),
        ("yuci.receptionist", SUBSISTENCE, granted, {}, "NOT_AN_AGENT"),
    ]:
        refused = await proxy_submit(desk, who, implementation, authorization, [], **extra)
        assert codes(refused) == [code], (who, implementation, extra)
    assert await village_rows(nodes) == (before[0], before[1] + 2)
    # the agent who applied with it stays on the right side of the applicant's ID
    named = await proxy_submit(desk, AGENT, SUBSISTENCE, granted, applicantIdNumber=RESIDENT4_ID)
    assert named["errors"] == []


async def test_the_ledger_shows_each_case_where_it_is_now(desk: Desk, nodes: NodeRegistry) -> None:
    """Referral is simulated: the upper store's row is written directly (same number,
    that level's status) and the village's row marked REFERRED to it."""
    day = dt.date(2026, 3, 26)
    await desk.travel(at(day, 9))
    subsistence = (await authorize(desk))["authorization"]["id"]
    card = (await authorize(desk, basicCode="000700400100", mode="ACCOMPANIED"))["authorization"]
    pension = (await record(desk))["authorization"]["id"]
    numbers = []
    for implementation, granted in [
        (DISABILITY_CARD, card["id"]),  # straight to the county, accepted there
        (SUBSISTENCE, subsistence),  # to the town, which reported it up to the county
        (SUBSISTENCE, subsistence),  # sent to the town, not arrived yet
        (PENSION, pension),  # the station's own, completed on the spot
    ]:
        aid = {"villageService": {"accompaniedBy": "代办员王芳"}} if granted == card["id"] else {}
        submitted = await proxy_submit(desk, AGENT, implementation, granted, **aid)
        assert submitted["errors"] == []
        numbers.append(submitted["case"]["number"])
    to_county, via_town, on_its_way, own = numbers
    assert (await desk.act(AGENT, "completeCase", number=own))["errors"] == []

    await refer(nodes, to_county, [(Level.COUNTY, CaseStatus.ACCEPTED)])
    await refer(
        nodes,
        via_town,
        [(Level.TOWN, CaseStatus.REFERRED), (Level.COUNTY, CaseStatus.UNDER_REVIEW)],
    )
    await refer(nodes, on_its_way, [(Level.TOWN, None)])

    with count_statements(nodes) as statements:
        entries = {e["number"]: e for e in await ledger(desk, AGENT, day)}
    assert {n: (entries[n]["status"], entries[n]["level"]) for n in numbers} == {
        to_county: ("ACCEPTED", "COUNTY"),
        via_town: ("UNDER_REVIEW", "COUNTY"),
        on_its_way: ("REFERRED", "VILLAGE"),
        own: ("COMPLETED", "VILLAGE"),
    }
    # the page, then one statement per level above for every case on it (DataLoader)
    if HUB_RUNS_NODE_SQL:
        assert statements == {"village": 2, "town": 1, "county": 1, "city": 1, "identity": 0}
    assert entries[via_town]["phone"] == PHONE and entries[via_town]["receivedOn"] == str(day)

    # paging: one entry a page, every case once, in number order
    seen, after = [], None
    while True:
        data = await desk.run(
            AGENT, LEDGER, code=VILLAGE, first=1, after=after, **{"from": str(day), "to": str(day)}
        )
        page = data["villageLedger"]
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(entries)


async def refer(
    nodes: NodeRegistry, number: str, hops: list[tuple[Level, CaseStatus | None]]
) -> None:
    """Mark the village's row REFERRED to the first hop; write each hop's row (a
    status of None: the case has not arrived there yet), each REFERRED to the next."""
    async with nodes[Level.VILLAGE].sessions() as session:
        row = await session.get(Case, number)
        assert row is not None
        fields = {c.key: getattr(row, c.key) for c in Case.__table__.columns}
        row.status, row.referred_to_level = CaseStatus.REFERRED, hops[0][0]
        await session.commit()
    for i, (level, status) in enumerate(hops):
        if status is None:
            continue
        upper = hops[i + 1][0] if i + 1 < len(hops) else None
        async with nodes[level].sessions() as session:
            session.add(
                Case(
                    **{
                        **fields,
                        "level": level,
                        "org_code": ORGS[level],
                        "division_code": ORGS_DIVISION[level],
                        "status": status,
                        "referred_to_level": upper,
                        "version": 1,
                    }
                )
            )
            await session.commit()
