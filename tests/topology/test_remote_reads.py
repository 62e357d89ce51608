"""More of the hub's reads through the nodes' APIs (the processes of
``tests/support/federation.py``, the hub's own stores for the nodes left empty): a
resident's and an enterprise's own cases (``casesOf``), paged with the hub's cursor,
and what is kept beside a case — materials, timeline, notices, licences — by
``caseRecords``: the answers are the nodes' rows."""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import or_, select

from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.models import Department, ServiceOrg, Window
from levels.node.records import KINDS, CaseRecordKind
from tests.support.federation import YUCI, Federation, counted_calls, every_page

OWN = """
query($after: String, $division: String) {
  cases(first: 2, after: $after, filter: {divisionCode: $division}) {
    edges { node { number } }
    pageInfo { hasNextPage endCursor }
  }
}"""
WITH_RECORDS = """
query {
  cases(first: 50) {
    edges { node {
      number
      materials { name state }
      timeline { action }
      notices { id }
      licences { identifier }
      department { name }
      ratings { rating channel }
    } }
  }
}"""


async def _own_numbers(federation: Federation, subject: str, prefix: str = "") -> list[str]:
    """The account's cases as the nodes' stores hold them, listed once (not where they
    were referred from), in number order."""
    found: list[str] = []
    for node in federation.stores:
        async with node.sessions() as session:
            found += await session.scalars(
                select(Case.number).where(
                    or_(Case.applicant_id == subject, Case.submitted_by == subject),
                    Case.status != CaseStatus.REFERRED,
                    Case.number.startswith(prefix),
                    Case.division_code.startswith(prefix),
                )
            )
    return sorted(found)


async def _listed(federation: Federation, who: str, division: str | None = None) -> list[str]:
    listed = await every_page(federation.desk, who, OWN, "cases", division=division)
    return [node["number"] for node in listed]


async def test_a_residents_and_an_enterprises_own_cases_come_from_the_nodes(
    federation: Federation,
) -> None:
    desk = federation.desk
    # 张明's span several pages; the firm's one case is the city's
    for who, at_least in (("resident1", 3), ("firm1", 1)):
        await desk.sign_in(who)
        subject = desk.viewers[who].subject
        expected = await _own_numbers(federation, subject)
        assert len(expected) >= at_least, who
        assert await _listed(federation, who) == expected, who

    # filtered on 榆次区: its node's range, the city's referred ones left out
    subject = desk.viewers["resident1"].subject
    in_yuci = await _own_numbers(federation, subject, "140702")
    assert in_yuci
    assert await _listed(federation, "resident1", "140702000000") == in_yuci


ORG = """
query($code: String!) {
  division(code: $code) {
    serviceOrg { code name departments { name org { code } } windows { number name } }
  }
}"""


async def _department(federation: Federation, number: str) -> dict[str, str] | None:
    async with federation.stores[YUCI].sessions() as session:
        case = await session.get(Case, number)
        assert case is not None
        if case.department_id is None:
            return None
        department = await session.get(Department, case.department_id)
        return None if department is None else {"name": department.name}


async def _records(federation: Federation, kind: CaseRecordKind, number: str) -> list[Any]:
    async with federation.stores[YUCI].sessions() as session:
        return list(await KINDS[kind].read([number], session=session))


async def test_a_cases_materials_timeline_notices_and_licences_come_from_its_node(
    federation: Federation,
) -> None:
    data = await federation.desk.run("resident1", WITH_RECORDS)

    cases = [e["node"] for e in data["cases"]["edges"]]
    at_yuci = [c for c in cases if c["number"].startswith("140702")]
    assert at_yuci
    for case in at_yuci:
        number = case["number"]
        materials = await _records(federation, CaseRecordKind.MATERIALS, number)
        events = await _records(federation, CaseRecordKind.EVENTS, number)
        notices = await _records(federation, CaseRecordKind.NOTICES, number)
        licences = await _records(federation, CaseRecordKind.LICENCES, number)
        assert case["materials"] == [{"name": m.name, "state": m.state.name} for m in materials]
        assert sorted(e["action"] for e in case["timeline"]) == sorted(e.action for e in events)
        assert sorted(n["id"] for n in case["notices"]) == sorted(n.id for n in notices)
        ratings = await _records(federation, CaseRecordKind.RATINGS, number)
        assert case["ratings"] == [{"rating": r.rating.name, "channel": r.channel} for r in ratings]
        department = await _department(federation, number)
        assert case["department"] == department
        issued = sorted(lic["identifier"] for lic in case["licences"])
        assert issued == sorted(lic.id for lic in licences)
    # none of it is in the hub's own store for the node: it came through the API
    assert any(c["materials"] for c in at_yuci)
    assert any(c["timeline"] for c in at_yuci)
    assert any(c["notices"] for c in at_yuci)
    assert any(c["licences"] for c in at_yuci)
    assert any(c["ratings"] for c in at_yuci)


async def test_a_divisions_org_its_departments_and_windows_come_from_its_node(
    federation: Federation,
) -> None:
    async with federation.stores[YUCI].sessions() as session:
        org = await session.scalar(
            select(ServiceOrg).where(ServiceOrg.division_code == "140702000000")
        )
        assert org is not None
        departments = list(
            await session.scalars(
                select(Department.name)
                .where(Department.org_code == org.code)
                .order_by(Department.id)
            )
        )
        windows = list(
            await session.scalars(
                select(Window).where(Window.org_code == org.code).order_by(Window.id)
            )
        )
    assert departments and windows

    data = await federation.desk.run("yuci.auditor", ORG, code="140702000000")

    assert data["division"]["serviceOrg"] == {
        "code": org.code,
        "name": org.name,
        "departments": [{"name": name, "org": {"code": org.code}} for name in departments],
        "windows": [{"number": w.number, "name": w.name} for w in windows],
    }


def _call_key(document: str, given: dict[str, Any]) -> tuple[str, Any]:
    return document.split("(", 1)[0].split()[-1], given.get("of")


def calls(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> AbstractContextManager[Counter[Any]]:
    """The hub's calls to the nodes while the block runs: by node, operation and kind."""
    return counted_calls(federation, monkeypatch, _call_key)


async def test_a_page_with_its_records_asks_each_node_once_a_kind(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    with calls(federation, monkeypatch) as counted:
        await federation.desk.run("resident1", WITH_RECORDS)

    kinds = {(op, of) for _, op, of in counted}
    assert ("CasesOf", None) in kinds and ("CaseRecords", "MATERIALS") in kinds
    assert set(counted.values()) == {1}  # every node once per list and per kind of record
