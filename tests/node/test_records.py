"""A node's lists of an account's cases (``casesOf``) and of the records kept beside a
case's row (``caseRecords``), called as the hub calls them: one statement per call,
every column of each row, in the order the hub's loaders read them from a store."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, or_, select

from levels.audit.models import AuditEvent
from levels.cases.models import Case, CaseMaterial
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Department, ServiceOrg, Window
from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.node.records import KINDS, CaseRecordKind, OrgRecordKind
from resolvers import remote
from resolvers.nodeclient import NodeClient
from tests.node.conftest import MakeClient, statements
from tests.node.test_api import store_session

CASES_OF = """
query Of($subject: String!, $under: String, $first: Int, $after: String) {
  casesOf(subject: $subject, under: $under, first: $first, after: $after) {
    items { number }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _busiest_applicant(app: Any) -> tuple[str, list[str]]:
    """The account with the most cases in a node's store, and their numbers."""
    async with store_session(app) as session:
        subject = await session.scalar(
            select(Case.applicant_id)
            .group_by(Case.applicant_id)
            .order_by(func.count().desc(), Case.applicant_id)
            .limit(1)
        )
        assert subject is not None
        numbers = await session.scalars(
            select(Case.number)
            .where(or_(Case.applicant_id == subject, Case.submitted_by == subject))
            .order_by(Case.number)
        )
        return subject, list(numbers)


async def test_an_accounts_cases_page_by_cursor_one_statement_a_page(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    subject, expected = await _busiest_applicant(node_apps["county"])
    assert len(expected) >= 2
    county = node_client("county")
    seen: list[str] = []
    after = None
    while True:
        with statements(node_apps["county"]) as counted:
            data, errors = await county.execute(
                CASES_OF, {"subject": subject, "first": 1, "after": after}
            )
        assert errors == [] and data is not None
        assert counted["n"] == 1
        page = data["casesOf"]
        seen += [c["number"] for c in page["items"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    # narrowed to a division's range of numbers; another account's are not there
    town = expected[0][:12]
    data, _ = await county.execute(CASES_OF, {"subject": subject, "under": town, "first": 100})
    assert data is not None
    assert [c["number"] for c in data["casesOf"]["items"]] == [
        n for n in expected if n.startswith(town.rstrip("0") or town)
    ]
    data, _ = await county.execute(CASES_OF, {"subject": "nobody", "first": 100})
    assert data is not None and data["casesOf"]["items"] == []


async def test_a_case_records_batch_is_one_statement_with_every_column(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        numbers = list(
            await session.scalars(
                select(CaseMaterial.case_number)
                .distinct()
                .order_by(CaseMaterial.case_number)
                .limit(3)
            )
        )
        materials = list(
            await session.scalars(
                select(CaseMaterial)
                .where(CaseMaterial.case_number.in_(numbers))
                .order_by(CaseMaterial.case_number, CaseMaterial.id)
            )
        )
        events = await KINDS[CaseRecordKind.EVENTS].read(numbers, session=session)
        expected = [encode_row(table(CaseMaterial), m) for m in materials]
    assert len(numbers) == 3 and events
    county = node_client("county")
    for kind in CaseRecordKind:
        with statements(node_apps["county"]) as counted:
            await remote.case_records(county, kind, numbers)
        assert counted["n"] == 1, kind

    found = await remote.case_records(county, CaseRecordKind.MATERIALS, numbers)
    assert [encode_row(table(CaseMaterial), m) for m in found] == expected
    timeline = await remote.case_records(county, CaseRecordKind.EVENTS, numbers)
    assert [(e.division_code, e.seq) for e in timeline] == [
        (e.division_code, e.seq) for e in events
    ]
    assert all(isinstance(e, AuditEvent) for e in timeline)
    assert await remote.case_records(county, CaseRecordKind.NOTICES, []) == []


async def test_records_of_a_case_received_elsewhere_are_refused(
    yuci: tuple[NodeClient, Any],
) -> None:
    client, app = yuci
    # 榆次区's node: a case received in 太谷区 is not on its way, one in 榆次区 is
    with statements(app) as counted, pytest.raises(DomainError) as refused:
        await remote.case_records(
            client,
            CaseRecordKind.MATERIALS,
            ["140702000000-20261120-00001", "140703101000-20261120-00001"],
        )
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert refused.value.field == ["numbers", "1"]
    assert counted["n"] == 0  # refused before any read
    await remote.case_records(client, CaseRecordKind.MATERIALS, ["140702000000-20261120-00001"])
    # a department or the orgs of another county's division: not its
    for kind, key in (
        (OrgRecordKind.DEPARTMENTS, "140703000000D01"),
        (OrgRecordKind.ORGS_OF_DIVISION, "140703000000"),
    ):
        with pytest.raises(DomainError) as refused:
            await remote.org_records(client, kind, [key])
        assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED


async def test_orgs_departments_and_windows_by_key_one_statement_a_batch(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        orgs = list(await session.scalars(select(ServiceOrg).order_by(ServiceOrg.code).limit(2)))
        departments = list(
            await session.scalars(
                select(Department)
                .where(Department.org_code.in_([o.code for o in orgs]))
                .order_by(Department.id)
            )
        )
        windows = list(
            await session.scalars(
                select(Window)
                .where(Window.org_code.in_([o.code for o in orgs]))
                .order_by(Window.id)
            )
        )
    assert len(orgs) == 2 and departments and windows
    county = node_client("county")
    codes = [o.code for o in orgs]
    divisions = [o.division_code for o in orgs]
    with statements(node_apps["county"]) as counted:
        by_code = await remote.orgs_by_code(county, codes)
        of_division = await remote.org_records(county, OrgRecordKind.ORGS_OF_DIVISION, divisions)
        of_org = await remote.org_records(county, OrgRecordKind.DEPARTMENTS_OF_ORG, codes)
        by_id = await remote.org_records(
            county, OrgRecordKind.DEPARTMENTS, [d.id for d in departments]
        )
        of_org_windows = await remote.org_records(county, OrgRecordKind.WINDOWS_OF_ORG, codes)
        by_window_id = await remote.org_records(
            county, OrgRecordKind.WINDOWS, [w.id for w in windows]
        )
    assert counted["n"] == 6  # one a call
    window_columns = [encode_row(table(Window), w) for w in windows]
    assert [encode_row(table(Window), w) for w in of_org_windows] == window_columns
    assert sorted(w.id for w in by_window_id) == sorted(w.id for w in windows)
    org_columns = [encode_row(table(ServiceOrg), o) for o in orgs]
    assert [encode_row(table(ServiceOrg), o) for o in by_code] == org_columns
    assert sorted(o.code for o in of_division) == sorted(codes)
    assert [d.id for d in of_org] == [d.id for d in departments]
    assert sorted(d.name for d in by_id) == sorted(d.name for d in departments)
