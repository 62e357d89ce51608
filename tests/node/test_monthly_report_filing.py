"""A town centre's monthly report filed at the node that keeps it (``fileMonthlyReport``),
called as the hub calls it (``resolvers/node_report_calls.py``): the rules' refusals
typed with nothing written — a month already filed (the demo's 修文镇 filed October's),
a month not over, an org that is not a town centre's, an org the node does not have
— and a division that is not the node's, a due day out of bounds and figures that are
not an object refused before anything is read. (A report filed and its event in the
division's chain: ``tests/topology/test_remote_supervision.py``, over stores of its
own, as a filing stays in the suite's shared ones.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.node.monthly_reports import FilingAsk
from levels.supervision.models import MonthlyReport
from resolvers.node_report_calls import file_monthly_report
from tests.node.conftest import MakeClient
from tests.scenarios.desk import YUCI_ORG, at

XIUWEN_CENTRE = "12140702MB1010008W"  # 修文镇便民服务中心
XIUWEN = "140702101000"
DIRECTOR = {"id": "xiuwen.director", "kind": "STAFF", "channel": "WEB"}
FIGURES = {"received": 3, "completed": 2}


def _ask(month: str, org: str = XIUWEN_CENTRE, division: str = XIUWEN) -> FilingAsk:
    return FilingAsk(org, division, month, FIGURES, "xiuwen.director", "修文镇主任")


async def _count(nodes: NodeRegistry) -> tuple[int, int]:
    async with nodes[Level.TOWN].sessions() as session:
        reports = await session.scalar(select(func.count()).select_from(MonthlyReport))
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
    return int(reports or 0), int(events or 0)


async def _file(client: Any, ask: FilingAsk, now: dt.datetime, workday: int = 5) -> Any:
    return await file_monthly_report(client, ask, workday=workday, actor=DIRECTOR, now=now)


async def test_the_rules_refuse_with_nothing_written(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    town = node_client("town")
    before = await _count(nodes)
    december = at(dt.date(2026, 12, 3), 10)

    again = await _file(town, _ask("2026-10"), december)
    not_over = await _file(town, _ask("2026-11"), at(dt.date(2026, 11, 20), 10))
    not_here = await _file(town, _ask("2026-10", org="12140702MB99999999"), december)
    bad_month = await _file(town, _ask("2026-13"), december)

    assert (again["columns"], again["error"]["code"]) == (None, "ALREADY_FILED")
    assert again["error"]["field"] == ["input", "month"]
    assert (not_over["columns"], not_over["error"]["code"]) == (None, "MONTH_NOT_OVER")
    assert (not_here["columns"], not_here["error"]["code"]) == (None, "ORG_NOT_FOUND")
    assert (bad_month["columns"], bad_month["error"]["code"]) == (None, "INVALID_MONTH")
    assert await _count(nodes) == before


async def test_an_org_that_is_not_a_town_centre_is_refused(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county = node_client("county")
    async with nodes[Level.COUNTY].sessions() as session:
        reports = await session.scalar(select(func.count()).select_from(MonthlyReport))
    answer = await _file(
        county, _ask("2026-10", org=YUCI_ORG, division="140702000000"), at(dt.date(2026, 12, 3))
    )
    assert (answer["columns"], answer["error"]["code"]) == (None, "NOT_A_TOWN_CENTRE")
    async with nodes[Level.COUNTY].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MonthlyReport)) == reports


@pytest.mark.parametrize(
    ("node", "workday", "figures", "code"),
    [
        ("county", 5, FIGURES, ErrorCode.DIVISION_NOT_OWNED),  # a town's: the town node's
        ("town", 0, FIGURES, ErrorCode.BAD_USER_INPUT),
        ("town", 21, FIGURES, ErrorCode.BAD_USER_INPUT),
        ("town", 5, [1, 2], ErrorCode.BAD_USER_INPUT),
    ],
)
async def test_a_division_not_the_nodes_and_bad_input_are_refused(
    nodes: NodeRegistry,
    node_client: MakeClient,
    node: str,
    workday: int,
    figures: Any,
    code: ErrorCode,
) -> None:
    client = node_client(node)
    before = await _count(nodes)
    ask = FilingAsk(XIUWEN_CENTRE, XIUWEN, "2026-10", figures, "xiuwen.director", "主任")
    with pytest.raises(DomainError) as refused:
        await _file(client, ask, at(dt.date(2026, 12, 3)), workday=workday)
    assert refused.value.code is code
    assert await _count(nodes) == before
