"""Village service modes that mean something (000 四.三.4 即时办理、全程代办、陪同办理、上门办理;
003 "对残疾人和行动不便的老人…均可实施免费代办"), over HTTP at 修文村's station: the case
records its mode; 陪同办理 names who accompanied; 上门办理 records each visit (day, who,
where) and the ledger lists them; a resident with a 残疾人证 in the library, or at the
stated age, is never charged for 代办 and the ledger says so, and why; a visit on a case
in another mode, a visit recorded twice, and a fee for a resident served free write
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.demo.accounts import resident_id_number
from gateway.nodes import NodeRegistry, count_statements
from gateway.settings import Settings
from levels.common.enums import Level
from levels.village.models import HomeVisit, VillageService
from tests.auth.conftest import own_hub
from tests.conftest import HUB_RUNS_NODE_SQL
from tests.scenarios.desk import STAFF, Desk, at
from tests.scenarios.test_village_proxy import (
    AGENT,
    ALLOWANCE,
    LEDGER,
    SUBSISTENCE,
    authorize,
    codes,
    proxy_submit,
)

WANG_FANG_ID = resident_id_number(2)  # resident3 王芳, born 12 March 2002
SERVICE = """
  villageService { mode accompaniedBy feeYuan free waiver waiverNote }
  homeVisits { visitedOn staff place note }
"""
CASE = f"query($n: String!) {{ case(number: $n) {{ number status {SERVICE} }} }}"
VISIT = """
mutation($input: RecordHomeVisitInput!) {
  recordHomeVisit(input: $input) {
    visit { visitedOn staff place note } errors { code field message }
  }
}"""
LEDGER_MODES = LEDGER.replace("proxied status level", f"proxied status level {SERVICE}")


async def submit(
    desk: Desk, who: str, authorization: str, implementation: str = SUBSISTENCE, **service: Any
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if "applicantIdNumber" in service:
        extra["applicantIdNumber"] = service.pop("applicantIdNumber")
    if service:
        extra["villageService"] = service
    return await proxy_submit(desk, who, implementation, authorization, **extra)


async def service_of(desk: Desk, number: str) -> dict[str, Any]:
    case: dict[str, Any] = (await desk.run(AGENT, CASE, n=number))["case"]
    return case


async def rows(nodes: NodeRegistry) -> tuple[int, int]:
    async with nodes[Level.VILLAGE].sessions() as session:
        services = await session.scalar(select(func.count()).select_from(VillageService))
        visits = await session.scalar(select(func.count()).select_from(HomeVisit))
    return int(services or 0), int(visits or 0)


async def visit(desk: Desk, number: str, **input: Any) -> dict[str, Any]:
    given = {
        "caseNumber": number,
        "visitedOn": "2026-04-08",
        "staff": "代办员刘强、驻村队员陈静",
        "place": "修文村三组12号",
        **input,
    }
    payload: dict[str, Any] = (await desk.run(AGENT, VISIT, input=given))["recordHomeVisit"]
    return payload


async def test_a_full_proxy_case_records_its_mode_and_the_fee_the_ledger_shows(
    desk: Desk, nodes: NodeRegistry
) -> None:
    day = dt.date(2026, 4, 7)
    await desk.travel(at(day, 9))
    granted = (await authorize(desk, "resident3", mode="FULL_PROXY"))["authorization"]
    # a fee cannot be asked before the applicant's age is checked
    before = await rows(nodes)
    unchecked = await submit(desk, AGENT, granted["id"], feeYuan="5")
    assert codes(unchecked) == ["AGE_UNKNOWN"]
    assert unchecked["errors"][0]["field"] == ["input", "applicantIdNumber"]
    assert await rows(nodes) == before

    # 王芳 is 24 and holds no 残疾人证: the station may charge her
    case = await submit(desk, AGENT, granted["id"], feeYuan="5.00", applicantIdNumber=WANG_FANG_ID)
    assert case["errors"] == []
    number = case["case"]["number"]
    service = (await service_of(desk, number))["villageService"]
    assert service == {
        "mode": "FULL_PROXY",
        "accompaniedBy": None,
        "feeYuan": "5",
        "free": False,
        "waiver": None,
        "waiverNote": None,
    }
    data = await desk.run(AGENT, LEDGER_MODES, code=number[:12], **{"from": str(day)})
    entry = next(e["node"] for e in data["villageLedger"]["edges"] if e["node"]["number"] == number)
    assert entry["villageService"]["mode"] == "FULL_PROXY" and entry["homeVisits"] == []


async def test_a_resident_with_a_disability_certificate_is_never_charged_for_proxy(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """张明 holds a valid 残疾人证 (CJRZ) in the licence library."""
    await desk.travel(at(dt.date(2026, 4, 9), 9))
    granted = (await authorize(desk, "resident1", mode="FULL_PROXY"))["authorization"]
    before = await rows(nodes)
    charged = await submit(desk, AGENT, granted["id"], feeYuan="5")
    assert codes(charged) == ["FEE_WAIVED"]
    assert "DISABILITY_CERTIFICATE" in charged["errors"][0]["message"]
    assert await rows(nodes) == before

    free = await submit(desk, AGENT, granted["id"])
    assert free["errors"] == []
    service = (await service_of(desk, free["case"]["number"]))["villageService"]
    assert (service["feeYuan"], service["free"], service["waiver"]) == (
        "0",
        True,
        "DISABILITY_CERTIFICATE",
    )
    assert service["waiverNote"] == "持有效残疾人证，免费代办"


@pytest.fixture
async def elderly_desk(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[Desk]:
    """A hall whose stated age for 免费代办 is 24: 王芳 (24) is served free."""
    async with own_hub(settings, nodes, proxy_free_age=24) as hub:
        d = Desk(hub)
        await d.sign_in("resident1", *STAFF)
        yield d


async def test_a_resident_over_the_stated_age_is_never_charged_for_proxy(
    elderly_desk: Desk, nodes: NodeRegistry
) -> None:
    desk = elderly_desk
    await desk.travel(at(dt.date(2026, 4, 10), 9))
    granted = (await authorize(desk, "resident3", mode="FULL_PROXY"))["authorization"]
    charged = await submit(desk, AGENT, granted["id"], feeYuan="3", applicantIdNumber=WANG_FANG_ID)
    assert codes(charged) == ["FEE_WAIVED"]
    free = await submit(desk, AGENT, granted["id"], applicantIdNumber=WANG_FANG_ID)
    assert free["errors"] == []
    service = (await service_of(desk, free["case"]["number"]))["villageService"]
    assert (service["free"], service["waiver"], service["waiverNote"]) == (
        True,
        "AGE",
        "年满24周岁，免费代办",
    )


async def test_an_accompanied_case_records_who_accompanied(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(dt.date(2026, 4, 13), 9))
    granted = (await authorize(desk, "resident3", basicCode="000700400100", mode="ACCOMPANIED"))[
        "authorization"
    ]
    card = f"{SUBSISTENCE[:18]}2000700400100"
    before = await rows(nodes)
    alone = await submit(desk, AGENT, granted["id"], card)
    assert codes(alone) == ["ACCOMPANIED_BY_REQUIRED"]
    assert alone["errors"][0]["field"] == ["input", "villageService", "accompaniedBy"]
    assert await rows(nodes) == before
    # another mode than the route offers is refused too
    assert codes(await submit(desk, AGENT, granted["id"], card, mode="IMMEDIATE")) == [
        "MODE_NOT_OFFERED"
    ]
    with_her = await submit(desk, AGENT, granted["id"], card, accompaniedBy="代办员刘强")
    assert with_her["errors"] == []
    service = (await service_of(desk, with_her["case"]["number"]))["villageService"]
    assert (service["mode"], service["accompaniedBy"]) == ("ACCOMPANIED", "代办员刘强")


async def test_a_home_visit_is_recorded_and_counted_in_the_ledger(
    desk: Desk, nodes: NodeRegistry
) -> None:
    day = dt.date(2026, 4, 8)
    await desk.travel(at(day, 9))
    granted = (await authorize(desk, "resident3", basicCode="000500100400", mode="HOME_VISIT"))[
        "authorization"
    ]
    case = await submit(desk, AGENT, granted["id"], ALLOWANCE)
    assert case["errors"] == []
    number = case["case"]["number"]
    assert (await service_of(desk, number))["villageService"]["mode"] == "HOME_VISIT"

    await desk.travel(at(day, 16))
    recorded = await visit(desk, number, note="收取户口簿复印件")
    assert recorded["errors"] == []
    assert recorded["visit"] == {
        "visitedOn": "2026-04-08",
        "staff": "代办员刘强、驻村队员陈静",
        "place": "修文村三组12号",
        "note": "收取户口簿复印件",
    }
    # the same day's visit again: refused, nothing written (bad timing: acting twice)
    before = await rows(nodes)
    assert codes(await visit(desk, number)) == ["VISIT_ALREADY_RECORDED"]
    # a visit tomorrow cannot be recorded today, nor one before she authorized
    assert codes(await visit(desk, number, visitedOn="2026-04-09")) == ["VISIT_IN_THE_FUTURE"]
    assert codes(await visit(desk, number, visitedOn="2026-04-07")) == [
        "VISIT_BEFORE_AUTHORIZATION"
    ]
    assert codes(await visit(desk, number, place="  ")) == ["PLACE_REQUIRED"]
    assert await rows(nodes) == before

    await desk.travel(at(day + dt.timedelta(days=2), 10))
    assert (await visit(desk, number, visitedOn="2026-04-10"))["errors"] == []
    with count_statements(nodes) as statements:
        data = await desk.run(AGENT, LEDGER_MODES, code=number[:12], **{"from": str(day)})
    # the page and the division (as without the modes), then one statement each for the
    # page's service records and visits, whatever the page's size (DataLoaders)
    if HUB_RUNS_NODE_SQL:
        assert statements["village"] == 4
    entry = next(e["node"] for e in data["villageLedger"]["edges"] if e["node"]["number"] == number)
    assert [v["visitedOn"] for v in entry["homeVisits"]] == ["2026-04-08", "2026-04-10"]
    assert entry["villageService"]["mode"] == "HOME_VISIT"


async def test_a_visit_on_a_case_in_another_mode_is_refused(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.travel(at(dt.date(2026, 4, 14), 9))
    granted = (await authorize(desk, "resident3", mode="FULL_PROXY"))["authorization"]
    number = (await submit(desk, AGENT, granted["id"]))["case"]["number"]
    before = await rows(nodes)
    refused = await visit(desk, number, visitedOn="2026-04-14")
    assert codes(refused) == ["NOT_A_HOME_VISIT"]
    assert "FULL_PROXY" in refused["errors"][0]["message"]
    # a case the station did not receive
    unknown = number[:-4] + "9999"
    assert codes(await visit(desk, unknown, visitedOn="2026-04-14")) == ["CASE_NOT_FOUND"]
    assert await rows(nodes) == before


async def test_only_the_station_s_agents_record_visits(desk: Desk) -> None:
    await desk.travel(at(dt.date(2026, 4, 14), 10))
    given = {
        "caseNumber": "140702101201-20260414-0001",
        "visitedOn": "2026-04-14",
        "staff": "刘强",
        "place": "修文村",
    }
    for who in ("resident1", "agent.140702101202.1"):
        refused = (await desk.run(who, VISIT, input=given))["recordHomeVisit"]
        assert codes(refused) == ["FORBIDDEN"], who
