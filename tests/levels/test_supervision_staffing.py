"""Staffing minimums in the supervision report, on a hand-built dataset:

* seed 003 "各村（社区）至少明确2名代办员": 修文村 has one active agent (a second is
  disabled) — listed; 东阳村 has two — not listed; 太谷区's village, with none, is not
  榆次区's to list.
* seed 000 "各个部门原则上不得少于2人" (市、县两级政务服务中心进驻部门窗口): at the 榆次区
  centre, 公安局 has A and B posts on its window (2 people) — fine; 税务局 and 人社局
  share a window with only its A post named, and 人社局's second window has the same
  person (1 each) — listed; 医保局's window has no posts (0) — listed; 民政局 has no
  window of its own (served at the comprehensive window, 前台综合受理) — not listed.
  The town centre's department window without posts is not listed: the minimum is the
  city's and counties' centres'. 太谷区's understaffed department is not 榆次区's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from auth.enums import AccountKind
from auth.models import Account
from gateway.nodes import NodeRegistry
from levels.common.codes import make_uscc
from levels.common.enums import Level, OrgKind, WindowKind
from levels.common.models import Department, Division, Window
from levels.supervision.combine import Report
from levels.supervision.targets import MIN_DEPARTMENT_WINDOW_STAFF, MIN_VILLAGE_AGENTS
from levels.windows.models import WindowSetup
from tests.conftest import BACKEND, make_registry
from tests.levels.test_supervision_figures import (
    CITY,
    OCTOBER,
    ORG_B,
    ORG_T,
    ORG_V,
    ORG_Y,
    TAIGU,
    TOWN,
    VILLAGE,
    YUCI,
    at,
    org,
    report_of,
)
from tests.support import pg

EAST = "140702101202"  # 东阳村
ORG_E = make_uscc("12140702MB1012020")
ORG_TV = make_uscc("12140703MB1012010")
TAIGU_TOWN, TAIGU_VILLAGE = "140703101000", "140703101201"


def dept(division: str, n: int, org_code: str, name: str) -> Department:
    return Department(id=f"{division}D{n:02d}", org_code=org_code, name=name)


def window(division: str, n: int, org_code: str, kind: WindowKind, depts: list[int]) -> Window:
    return Window(
        id=f"{division}W{n:02d}",
        org_code=org_code,
        number=f"D{n:02d}",
        name=f"窗口{n}",
        kind=kind,
        department_ids=[f"{division}D{d:02d}" for d in depts],
    )


def posts(division: str, n: int, org_code: str, a: str | None, b: str | None) -> WindowSetup:
    return WindowSetup(
        window_id=f"{division}W{n:02d}",
        org_code=org_code,
        a_staff_id=a,
        a_staff_name=a,
        b_staff_id=b,
        b_staff_name=b,
        updated_at=at(10, 1),
    )


def agent(username: str, village: str, *, disabled: bool = False) -> Account:
    return Account(
        id=uuid.uuid4().hex,
        username=username,
        kind=AccountKind.AGENT,
        display_name=username,
        password_hash="x",
        division_code=village,
        disabled=disabled,
        created_at=at(1, 1),
    )


def county_rows() -> list[Any]:
    D = WindowKind.DEPARTMENT
    return [
        Division(code=YUCI, name="榆次区", level=Level.COUNTY, parent_code=CITY),
        Division(code=TAIGU, name="太谷区", level=Level.COUNTY, parent_code=CITY),
        org(ORG_Y, YUCI, "榆次区政务服务中心", Level.COUNTY, OrgKind.SERVICE_CENTER),
        org(ORG_B, TAIGU, "太谷区政务服务中心", Level.COUNTY, OrgKind.SERVICE_CENTER),
        dept(YUCI, 1, ORG_Y, "公安局"),
        dept(YUCI, 2, ORG_Y, "税务局"),
        dept(YUCI, 3, ORG_Y, "人力资源和社会保障局"),
        dept(YUCI, 4, ORG_Y, "民政局"),
        dept(YUCI, 5, ORG_Y, "医疗保障局"),
        dept(TAIGU, 1, ORG_B, "公安局"),
        window(YUCI, 1, ORG_Y, D, [1]),
        window(YUCI, 2, ORG_Y, D, [2, 3]),
        window(YUCI, 3, ORG_Y, D, [3]),
        window(YUCI, 4, ORG_Y, WindowKind.COMPREHENSIVE_RECEPTION, [1, 2, 3, 4, 5]),
        window(YUCI, 5, ORG_Y, D, [5]),
        window(TAIGU, 1, ORG_B, D, [1]),
        posts(YUCI, 1, ORG_Y, "police.a", "police.b"),
        posts(YUCI, 2, ORG_Y, "tax.a", None),
        posts(YUCI, 3, ORG_Y, None, "tax.a"),
        posts(YUCI, 4, ORG_Y, "front.a", "front.b"),
    ]


def town_rows() -> list[Any]:
    return [
        Division(code=TOWN, name="修文镇", level=Level.TOWN, parent_code=YUCI),
        org(ORG_T, TOWN, "修文镇便民服务中心", Level.TOWN, OrgKind.CONVENIENCE_CENTER),
        dept(TOWN, 1, ORG_T, "民政救助"),
        window(TOWN, 1, ORG_T, WindowKind.DEPARTMENT, [1]),
    ]


def village_rows() -> list[Any]:
    station = OrgKind.CONVENIENCE_STATION
    return [
        Division(code=VILLAGE, name="修文村", level=Level.VILLAGE, parent_code=TOWN),
        Division(code=EAST, name="东阳村", level=Level.VILLAGE, parent_code=TOWN),
        Division(code=TAIGU_VILLAGE, name="太谷村", level=Level.VILLAGE, parent_code=TAIGU_TOWN),
        org(ORG_V, VILLAGE, "修文村便民服务站", Level.VILLAGE, station),
        org(ORG_E, EAST, "东阳村便民服务站", Level.VILLAGE, station),
        org(ORG_TV, TAIGU_VILLAGE, "太谷村便民服务站", Level.VILLAGE, station),
    ]


def identity_rows() -> list[Any]:
    return [
        agent("xiuwen.agent1", VILLAGE),
        agent("xiuwen.agent2", VILLAGE, disabled=True),
        agent("east.agent1", EAST),
        agent("east.agent2", EAST),
    ]


@pytest.fixture(scope="module")
async def stores(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    if BACKEND == "postgres":
        await pg.require_services()
    _settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("staffing"), "st" + uuid.uuid4().hex[:8]
    )
    rows = {Level.COUNTY: county_rows(), Level.TOWN: town_rows(), Level.VILLAGE: village_rows()}
    for level, objects in rows.items():
        async with nodes[level].sessions.begin() as session:
            for row in objects:  # in order: orgs before their departments and windows
                session.add(row)
                await session.flush()
    async with nodes.identity.sessions.begin() as session:
        session.add_all(identity_rows())
    try:
        yield nodes
    finally:
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


def short(report: Report) -> tuple[list[Any], list[Any]]:
    stations = [(r.org_code, r.division_code, r.agents) for r in report.stations_short_of_agents]
    departments = [(r.department_name, r.staff) for r in report.departments_short_of_staff]
    return stations, departments


async def test_seed_003_and_000_stations_and_departments_below_the_minimum_of_two(
    stores: NodeRegistry,
) -> None:
    assert MIN_VILLAGE_AGENTS == MIN_DEPARTMENT_WINDOW_STAFF == 2
    report = await report_of(stores, YUCI, OCTOBER)
    stations, departments = short(report)
    assert stations == [(ORG_V, VILLAGE, 1)]
    assert departments == [("税务局", 1), ("人力资源和社会保障局", 1), ("医疗保障局", 0)]
    assert {r.minimum for r in report.stations_short_of_agents} == {2}
    assert {r.org_code for r in report.departments_short_of_staff} == {ORG_Y}


async def test_a_town_lists_its_villages_and_no_department(stores: NodeRegistry) -> None:
    stations, departments = short(await report_of(stores, TOWN, OCTOBER))
    assert stations == [(ORG_V, VILLAGE, 1)]
    assert departments == []


async def test_the_other_county_lists_its_own(stores: NodeRegistry) -> None:
    stations, departments = short(await report_of(stores, TAIGU, OCTOBER))
    assert stations == [(ORG_TV, TAIGU_VILLAGE, 0)]
    assert departments == [("公安局", 0)]
