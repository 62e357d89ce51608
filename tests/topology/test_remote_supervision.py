"""The supervision figures and reports through the nodes' APIs (the processes of
``tests/support/federation.py``, the hub's own stores for the nodes left empty),
compared with the same queries answered by SQL over the nodes' own stores: the
``supervision`` report (what the dashboard reads), its ``monthlyReportsDue``,
``monthlyReports``, ``ratingRollup``, and the ``rectifications`` and ``complaints``
lists. Counts are made at each node over its own divisions and summed at the hub: one
call per node asked, and only the nodes owning divisions under the scope. With a node
stopped, the others' figures still come, with NODE_UNAVAILABLE naming it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from levels.audit.models import AuditEvent
from levels.cases.models import Case
from levels.common.clock import CHINA
from levels.common.errors import DomainError, ErrorCode
from levels.common.ranges import within
from levels.node.monthly_reports import FilingAsk
from levels.supervision.models import MonthlyReport
from resolvers import node_report_calls
from tests.scenarios.desk import Desk
from tests.support.federation import (
    CITY,
    TAIGU,
    YUCI,
    Federation,
    assert_hub_untouched,
    counted_calls,
    sql_desk,
)
from tests.support.outages import assert_unavailable, named, no_answer

FIGURES = """
  received accepted completed completedOnTime onTimeRate immediate immediateShare
  compressionRate onlineRate onSiteCompletionRate atMostOneVisitShare archiveOverdue
  yellowCards redCards matters oneVisitMatterShare
  ratings { verySatisfied satisfied basic dissatisfied veryDissatisfied total }
  negativeRate complaints complaintsHandled complaintsOverdue
"""
SUPERVISION = f"""
query($code: String!, $from: Date, $to: Date) {{
  supervision(divisionCode: $code, from: $from, to: $to) {{
    division {{ code name level }} from to unavailableLevels
    totals {{ {FIGURES} }}
    byLevel {{ level figures {{ {FIGURES} }} }}
    byOrg {{ orgCode orgName level figures {{ {FIGURES} }} }}
    stationsShortOfAgents {{ orgName agents minimum }}
    departmentsShortOfStaff {{ orgName departmentName staff minimum }}
  }}
}}"""
DUE = """
query($code: String!) {
  supervision(divisionCode: $code) { monthlyReportsDue { month dueOn overdue { code name } } }
}"""
MONTHLY = """
query($code: String!, $month: String) {
  monthlyReports(divisionCode: $code, month: $month) {
    orgCode month dueOn late filedByName figures { received completed } staff { name served }
  }
}"""
ROLLUP = """
query($by: RollupDimension!, $division: String) {
  ratingRollup(by: $by, filter: {divisionCode: $division}) {
    key total verySatisfied satisfied basic dissatisfied veryDissatisfied negative negativeRate
  }
}"""
RECTIFICATIONS = """
query($division: String, $overdue: Boolean) {
  rectifications(filter: {divisionCode: $division, overdue: $overdue}) {
    id caseNumber status dueOn overdue callbackNote
  }
}"""
COMPLAINTS = """
query($division: String, $overdue: Boolean) {
  complaints(filter: {divisionCode: $division, overdue: $overdue}) {
    id caseNumber orgCode windowId status dueOn overdueAt content divisionCode
  }
}"""


def _operation(document: str, _given: dict[str, Any]) -> tuple[str]:
    words = document.split()
    return (words[1].split("(")[0] if words[0] == "query" else words[0],)


def calls(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> AbstractContextManager[Counter[Any]]:
    """The hub's calls to the nodes while the block runs: by node and operation."""
    return counted_calls(federation, monkeypatch, _operation)


def asked(counted: Counter[Any], operation: str) -> dict[str, int]:
    return {n: k for (n, op), k in counted.items() if op == operation}


@pytest.fixture(scope="module")
async def by_sql(federation: Federation) -> AsyncIterator[Desk]:
    async with sql_desk(federation) as desk:
        yield desk


# (division, who asks, the nodes owning divisions under it)
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}
SCOPES = [
    ("140700000000", "jz.auditor", {CITY, YUCI, TAIGU}),
    ("140702000000", "yuci.supervisor", {YUCI}),
    ("140702101000", "yuci.supervisor", {YUCI}),
    ("140703000000", "jz.auditor", {TAIGU}),
]


@pytest.mark.parametrize(("code", "who", "nodes"), SCOPES)
async def test_the_supervision_report_is_the_sql_paths_one_call_per_node(
    federation: Federation,
    by_sql: Desk,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    who: str,
    nodes: set[str],
) -> None:
    period = PERIOD
    with calls(federation, monkeypatch) as counted:
        remote = await federation.desk.ask(who, SUPERVISION, code=code, **period)
    local = await by_sql.ask(who, SUPERVISION, code=code, **period)
    assert "errors" not in remote, remote
    assert remote == local
    report = remote["data"]["supervision"]
    assert report["unavailableLevels"] == []
    if code != "140703000000":  # the demo's cases are 榆次区's and the city's
        assert report["totals"]["received"] > 0, report["totals"]
        assert report["byOrg"], report
    # the counts: one call to each node owning divisions under it, no other node asked
    assert asked(counted, "SupervisionCounts") == dict.fromkeys(nodes, 1), counted
    # the division itself from its owner, once (the report's field reads that row);
    # the demo's cases name items their node keeps: no maxVisits look-up
    owner = {"140700000000": CITY}.get(code, YUCI if code.startswith("140702") else TAIGU)
    assert asked(counted, "Entities") == {owner: 1}, counted
    assert sum(counted.values()) == len(nodes) + 1, counted


async def test_a_multi_level_node_counts_each_case_once(federation: Federation) -> None:
    """榆次区's node holds its county, towns and villages: each case it received in the
    period is counted once (not once per level held), at its org's level."""
    answer = await federation.desk.run(
        "yuci.supervisor", SUPERVISION, code="140702000000", **PERIOD
    )
    report = answer["supervision"]
    async with federation.stores[YUCI].sessions() as session:
        received = await session.scalar(
            select(func.count())
            .select_from(Case)
            .where(
                within(Case.division_code, "140702"),
                or_(Case.received_level.is_(None), Case.received_level == Case.level),
                Case.submitted_at >= dt.datetime(2026, 1, 1, tzinfo=CHINA),
                Case.submitted_at < dt.datetime(2027, 1, 1, tzinfo=CHINA),
            )
        )
    assert received and report["totals"]["received"] == received, report["totals"]
    levels = {row["level"] for row in report["byLevel"]}
    assert {"COUNTY", "TOWN", "VILLAGE"} & levels and len(levels) > 1, report["byLevel"]
    for figure in ("received", "completed", "complaints"):
        total = report["totals"][figure]
        assert total == sum(r["figures"][figure] for r in report["byLevel"]), figure
        assert total == sum(o["figures"][figure] for o in report["byOrg"]), figure


@pytest.mark.parametrize(("code", "who", "nodes"), SCOPES[:3])
async def test_monthly_reports_and_those_due_are_the_sql_paths(
    federation: Federation,
    by_sql: Desk,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    who: str,
    nodes: set[str],
) -> None:
    with calls(federation, monkeypatch) as counted:
        due = await federation.desk.ask(who, DUE, code=code)
        filed = await federation.desk.ask(who, MONTHLY, code=code)
    assert due == await by_sql.ask(who, DUE, code=code)
    assert filed == await by_sql.ask(who, MONTHLY, code=code)
    assert "errors" not in due and "errors" not in filed, (due, filed)
    # the nodes owning towns under the division, once each (the city node holds none
    # of 榆次区's or 太谷区's towns, but the demo city's other counties')
    assert asked(counted, "LateMonthlyReports") == dict.fromkeys(nodes, 1), counted
    assert asked(counted, "FiledMonthlyReports") == dict.fromkeys(nodes, 1), counted
    if code.startswith("140702"):
        assert due["data"]["supervision"]["monthlyReportsDue"]["overdue"] or filed["data"]


@pytest.mark.parametrize("by", ["ORG", "STAFF", "WINDOW", "DEPARTMENT", "MATTER"])
async def test_the_rating_rollup_is_summed_from_each_nodes_tallies(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    # the nodes owning divisions under the scope, and the one holding the city level
    # there (where rows about them referred up are kept): once each
    for who, division, nodes in (
        ("jz.auditor", None, {CITY, YUCI, TAIGU}),
        ("yuci.supervisor", None, {YUCI, CITY}),
        ("jz.auditor", "140702000000", {YUCI, CITY}),
    ):
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.ask(who, ROLLUP, by=by, division=division)
        assert "errors" not in remote, remote
        assert remote == await by_sql.ask(who, ROLLUP, by=by, division=division), (who, by)
        if by == "ORG" and who == "jz.auditor":
            assert remote["data"]["ratingRollup"], remote
        assert asked(counted, "RatingTallies") == dict.fromkeys(nodes, 1), counted


@pytest.mark.parametrize("document", [RECTIFICATIONS, COMPLAINTS])
async def test_rectifications_and_complaints_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch, document: str
) -> None:
    operation = "Rectifications" if document is RECTIFICATIONS else "Complaints"
    field = "rectifications" if document is RECTIFICATIONS else "complaints"
    found = 0
    every = {CITY, YUCI, TAIGU}
    for who, given, nodes in (
        ("jz.auditor", {}, every),
        ("jz.auditor", {"overdue": True}, every),
        ("jz.auditor", {"division": "140702000000"}, {YUCI, CITY}),
        ("yuci.supervisor", {}, {YUCI, CITY}),
        ("yuci.supervisor", {"overdue": False}, {YUCI, CITY}),
        ("jz.auditor", {"division": "140703000000"}, {TAIGU, CITY}),
        ("resident1", {}, every),
    ):
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.ask(who, document, **given)
        assert "errors" not in remote, remote
        assert remote == await by_sql.ask(who, document, **given), (who, given)
        found += len(remote["data"][field])
        # the nodes owning divisions under the scope (an applicant's: every node) and
        # the one holding the city level there, once each; no other call
        assert asked(counted, operation) == dict.fromkeys(nodes, 1), (who, given, counted)
        assert sum(counted.values()) == len(nodes), counted
    assert found


FILE = """
mutation($input: FileMonthlyReportInput!) {
  fileMonthlyReport(input: $input) {
    report {
      orgCode month dueOn late filedByName org { name }
      figures { received completed onTimeRate complaints }
      staff { name windows served ratings negative complaints }
      complaints { filedOn content status overdue }
    }
    errors { code field }
  }
}"""
XIUWEN_CENTRE = "12140702MB1010008W"  # 修文镇便民服务中心, on 榆次区's node
XIUWEN = "140702101000"
YUCI_CENTRE = "12140702MB00000006"  # 榆次区's centre: not a town's


def _filing(federation: Federation, month: str, org: str = XIUWEN_CENTRE) -> Any:
    return federation.desk.ask("xiuwen.director", FILE, input={"orgCode": org, "month": month})


async def _filed(stores: Any, month: str) -> list[str]:
    """The ids of 修文镇's reports of ``month`` in 榆次区's node's store."""
    async with stores[YUCI].sessions() as session:
        found = await session.scalars(
            select(MonthlyReport.id).where(
                MonthlyReport.org_code == XIUWEN_CENTRE, MonthlyReport.month == month
            )
        )
        return list(found)


async def test_a_monthly_report_is_filed_at_the_centres_node_as_by_sql(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """September's report filed through the hub is written by 榆次区's node (one
    ``fileMonthlyReport``, its event in 修文镇's chain there, the hub's own store
    untouched); August's filed by the SQL path: each is that month's figures of the
    division, the same staff assessment, both late; the refusals are the SQL path's."""
    with calls(federation, monkeypatch) as counted:
        remote = await _filing(federation, "2026-09")
    local = await by_sql.ask("xiuwen.director", FILE, input={"orgCode": XIUWEN_CENTRE,
                                                              "month": "2026-08"})  # fmt: skip
    assert "errors" not in remote and "errors" not in local, (remote, local)
    filed = remote["data"]["fileMonthlyReport"]
    by_store = local["data"]["fileMonthlyReport"]
    assert filed["errors"] == [] == by_store["errors"], (filed, by_store)
    # 榆次区's node alone: the org and the division, the month's counts, the filing
    assert counted == Counter(
        {(YUCI, "Entities"): 2, (YUCI, "SupervisionCounts"): 1, (YUCI, "mutation"): 1}
    ), counted
    september, august = filed["report"], by_store["report"]
    assert (september["month"], august["month"]) == ("2026-09", "2026-08")
    assert september["late"] and august["late"] and september["filedByName"]
    for report, month, last in ((september, "2026-09", 30), (august, "2026-08", 31)):
        period = {"from": f"{month}-01", "to": f"{month}-{last}"}
        figures = (await by_sql.run("yuci.supervisor", SUPERVISION, code=XIUWEN, **period))[
            "supervision"
        ]["totals"]
        assert report["figures"] == {k: figures[k] for k in report["figures"]}, month
    assert september["staff"] and [s["name"] for s in september["staff"]] == [
        s["name"] for s in august["staff"]
    ]
    assert {k: v for k, v in september.items() if k not in ("month", "dueOn", "figures",
            "staff", "complaints")} == {k: v for k, v in august.items() if k not in (
            "month", "dueOn", "figures", "staff", "complaints")}  # fmt: skip

    [report_id] = await _filed(federation.stores, "2026-09")
    async with federation.stores[YUCI].sessions() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "FILE_MONTHLY_REPORT")
            )
        )
    chained = [e.division_code for e in events if e.detail["report"] == report_id]
    assert chained == [XIUWEN]
    await assert_hub_untouched(federation, (MonthlyReport,))

    # the refusals, through the node and by SQL alike
    for month, org in (("2026-09", XIUWEN_CENTRE), ("2026-11", XIUWEN_CENTRE),
                       ("2026-09", YUCI_CENTRE)):  # fmt: skip
        answer = await _filing(federation, month, org)
        assert answer == await by_sql.ask(
            "xiuwen.director", FILE, input={"orgCode": org, "month": month}
        ), (month, org)
        assert answer["data"]["fileMonthlyReport"]["errors"], answer
    assert await _filed(federation.stores, "2026-09") == [report_id]


async def test_a_node_refuses_a_report_of_a_division_not_its_own(federation: Federation) -> None:
    taigu = federation.hub[TAIGU].client
    assert taigu is not None
    ask = FilingAsk(XIUWEN_CENTRE, XIUWEN, "2026-07", {"received": 0}, "xiuwen.director", "主任")
    with pytest.raises(DomainError) as refused:
        await node_report_calls.file_monthly_report(
            taigu, ask, workday=5, actor={"id": "xiuwen.director", "kind": "STAFF"},
            now=dt.datetime(2026, 11, 20, tzinfo=CHINA),
        )  # fmt: skip
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert await _filed(federation.stores, "2026-07") == []


async def test_a_filing_the_node_does_not_answer_is_named_with_nothing_written(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_answer(monkeypatch, federation.hub, YUCI, "_outcome_call")
    answer = await _filing(federation, "2026-06")
    assert_unavailable(answer, YUCI)
    assert await _filed(federation.stores, "2026-06") == []
    await assert_hub_untouched(federation, (MonthlyReport,))


async def test_a_stopped_node_leaves_the_others_figures_and_is_named(
    federation: Federation, by_sql: Desk
) -> None:
    """Last in the module: 太谷区's process is stopped for good."""
    period = PERIOD
    before = await federation.desk.run("jz.auditor", SUPERVISION, code="140700000000", **period)
    yuci = await federation.desk.run("yuci.supervisor", SUPERVISION, code="140702000000", **period)
    await federation.served[TAIGU].stop()

    report = await federation.desk.ask("jz.auditor", SUPERVISION, code="140700000000", **period)
    assert named(report) == [("NODE_UNAVAILABLE", TAIGU)], report
    figures = report["data"]["supervision"]
    assert set(figures["unavailableLevels"]) == {"COUNTY", "TOWN", "VILLAGE"}
    taigu_orgs = {
        o["orgCode"]
        for o in before["supervision"]["byOrg"]
        if o["orgCode"] not in {x["orgCode"] for x in figures["byOrg"]}
    }
    # 榆次区's orgs and the city's still there, 太谷区's left out
    kept = {o["orgCode"] for o in figures["byOrg"]}
    assert {o["orgCode"] for o in yuci["supervision"]["byOrg"]} <= kept
    assert taigu_orgs, "太谷区's orgs were in the report"
    # 榆次区's own report does not ask 太谷区's node: no error
    again = await federation.desk.ask("yuci.supervisor", SUPERVISION, code="140702000000", **period)
    assert again == {"data": yuci}

    for document, variables in (
        (ROLLUP, {"by": "ORG"}),
        (RECTIFICATIONS, {}),
        (COMPLAINTS, {}),
        (DUE, {"code": "140700000000"}),
        (MONTHLY, {"code": "140700000000"}),
    ):
        answer = await federation.desk.ask("jz.auditor", document, **variables)
        # (the report's due centres: the report and its field each name it)
        assert set(named(answer)) == {("NODE_UNAVAILABLE", TAIGU)}, (document, answer)
        assert answer["data"] is not None, answer
