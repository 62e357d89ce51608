"""What a node serves for the supervision figures and reports, called as the hub calls
it (``resolvers/remote_supervision.py``): each answer is what the same read gives by
SQL on the node's store (``levels/node/supervision.py``) — the report's counts (six
statements), items' ``maxVisits``, the rating roll-up's tallies, the rectification and
complaint lists, the filed monthly reports and the late centres; a division none of
which is the node's is refused before any read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.evaluations.enums import RollupDimension
from levels.evaluations.models import Complaint, Rectification
from levels.node import supervision as node_supervision
from levels.node.supervision import ListConditions, RollupAsk
from levels.supervision.filing import filed_reports
from levels.supervision.models import MonthlyReport
from levels.supervision.period import Period
from resolvers import remote_supervision
from resolvers.nodeclient import NodeClient
from tests.node.conftest import MakeClient, statements
from tests.node.test_api import store_session

PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
TODAY = dt.date(2026, 11, 20)


def _rows(model: type, rows: Any) -> list[Any]:
    return [encode_row(table(model), r) for r in rows]


@pytest.mark.parametrize("node_id", ["county", "town", "village"])
async def test_the_reports_counts_are_the_sql_reads_six_statements(
    node_client: MakeClient, node_apps: dict[str, Any], node_id: str
) -> None:
    level = Level[node_id.upper()]
    async with store_session(node_apps[node_id]) as session:
        expected = await node_supervision.node_counts(
            [level], "140702", PERIOD, TODAY, session=session
        )
    client = node_client(node_id)
    with statements(node_apps[node_id]) as counted:
        found = await remote_supervision.supervision_counts(
            client, "140702", [level], PERIOD, TODAY
        )
    assert found == expected
    assert found[0].by_org, found
    # a county store: two more for its departments' window staff
    assert counted["n"] == (8 if level is Level.COUNTY else 6)


async def test_items_kept_elsewhere_answer_their_max_visits(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["village"]) as session:
        counts = await node_supervision.node_counts(
            [Level.VILLAGE], "1407", PERIOD, TODAY, session=session
        )
    codes = sorted({p.implementation_code for s in counts for p in s.pending})
    assert codes, "village cases of county items"
    async with store_session(node_apps["county"]) as session:
        expected = await node_supervision.item_visits(codes, session=session)
    assert expected
    found = await remote_supervision.max_visits(node_client("county"), codes)
    assert found == expected


async def test_rating_tallies_and_the_lists_are_the_sql_reads(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    client = node_client("county")
    found_any = False
    for prefix in ("", "1407", "140702"):
        for dimension in RollupDimension:
            ask = RollupAsk(dimension, prefix)
            async with store_session(node_apps["county"]) as session:
                expected = await node_supervision.rollup_rows(ask, session=session)
            assert await remote_supervision.rating_tallies(client, ask) == expected
            found_any = found_any or bool(expected)
        for conditions in (ListConditions(), ListConditions(overdue=True)):
            stmts = (
                (Rectification, node_supervision.rectification_query),
                (Complaint, node_supervision.complaint_query),
            )
            for model, query in stmts:
                async with store_session(node_apps["county"]) as session:
                    expected_rows = await node_supervision.listed(
                        query(prefix, conditions, 100), session=session
                    )
                call = (
                    remote_supervision.rectifications
                    if model is Rectification
                    else remote_supervision.complaints
                )
                found = await call(client, prefix, conditions, 100)
                assert _rows(model, found) == _rows(model, expected_rows)
    assert found_any


async def test_monthly_reports_filed_and_late_are_the_sql_reads(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    client = node_client("town")
    async with store_session(node_apps["town"]) as session:
        filed = await filed_reports("140702", None, session=session)
        late = await node_supervision.late_centres("140702", TODAY, 5, session=session)
    assert _rows(MonthlyReport, await remote_supervision.filed_reports(client, "140702", None)) == (
        _rows(MonthlyReport, filed)
    )
    found = await remote_supervision.late_reports(client, "140702", TODAY, 5)
    assert (found.month, found.due_on) == (late.month, late.due_on)
    assert [o.code for o in found.centres] == [o.code for o in late.centres]


async def test_a_division_not_the_nodes_is_refused_before_any_read(
    yuci: tuple[NodeClient, Any],
) -> None:
    client, app = yuci
    with statements(app) as counted, pytest.raises(DomainError) as refused:
        await remote_supervision.supervision_counts(client, "140703", [Level.COUNTY], PERIOD, TODAY)
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert counted["n"] == 0
    # the city above it is partly 榆次区's node's: answered
    await remote_supervision.supervision_counts(client, "1407", [Level.COUNTY], PERIOD, TODAY)


async def test_a_status_not_of_the_enum_is_bad_input(node_client: MakeClient) -> None:
    with pytest.raises(DomainError) as refused:
        await remote_supervision.complaints(
            node_client("county"), "140702", ListConditions(status="LOST"), 10
        )
    assert refused.value.code is ErrorCode.BAD_USER_INPUT
