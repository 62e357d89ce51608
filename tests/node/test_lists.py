"""What a node serves the hub's loaders that were read by SQL, called as the hub calls
them: the children of a batch of divisions (``children``, a key range on the code),
implementation items by code (``_entities``), the catalogue's records of orgs
(``orgRecords``: the items of divisions, of matters, their materials) and the lists of
cases with the conditions of the hub's filter, the catalogue's matters, the basic
codes a node's items implement and its items under the hub's conditions; one statement
a call (a page), the rows the hub's SQL read gives on the same store, in the same
order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from levels.cases.models import Case
from levels.city.service import search_matters
from levels.common import reads
from levels.common import service as common_service
from levels.common.enums import MatterStatus
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Division, ImplementationMaterial, MatterImplementation
from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.node.case_filter import CaseConditions
from levels.node.item_filter import ItemConditions
from levels.node.licence_library import LicenceConditions
from levels.node.records import OrgRecordKind
from resolvers import remote
from resolvers.nodeclient import NodeClient
from tests.node.conftest import MakeClient, statements
from tests.node.test_api import store_session


def _columns(found: Any) -> list[Any]:
    return [encode_row(table(Division), d) for d in found]


async def test_children_of_a_batch_of_divisions_one_statement(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    counties = ["140702000000", "140703000000"]
    async with store_session(node_apps["town"]) as session:
        expected = await common_service.divisions_by_parent(counties, session=session)
    assert len({d.parent_code for d in expected}) == 2
    town = node_client("town")
    with statements(node_apps["town"]) as counted:
        found = await remote.children_of(town, counties)
    assert counted["n"] == 1
    assert _columns(found) == _columns(expected)
    with statements(node_apps["town"]) as counted:
        assert await remote.children_of(town, []) == []
    assert counted["n"] == 0


async def test_children_of_a_division_not_the_nodes_are_refused(
    yuci: tuple[NodeClient, Any],
) -> None:
    client, app = yuci
    # 榆次区's node: 太谷区 is none of its; the city is partly its (榆次区)
    with statements(app) as counted, pytest.raises(DomainError) as refused:
        await remote.children_of(client, ["140702000000", "140703000000"])
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert refused.value.field == ["parents", "1"]
    assert counted["n"] == 0  # refused before any read
    await remote.children_of(client, ["140700000000", "140702000000"])


async def test_the_catalogue_of_orgs_one_statement_a_call(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        items = list(
            await reads.implementations_by_division(
                ["140702000000", "140703000000"], session=session
            )
        )
        codes = [i.code for i in items[:3]]
        basic = sorted({i.basic_code for i in items[:3]})
        of_matter = await reads.implementations_by_basic_code(basic, session=session)
        materials = await reads.materials_by_implementation(codes, session=session)
    assert items and of_matter and materials
    county = node_client("county")
    with statements(node_apps["county"]) as counted:
        by_code = await remote.implementations_by_code(county, codes)
        of_division = await remote.org_records(
            county, OrgRecordKind.IMPLEMENTATIONS_OF_DIVISION, ["140702000000", "140703000000"]
        )
        matters = await remote.org_records(county, OrgRecordKind.IMPLEMENTATIONS_OF_MATTER, basic)
        found = await remote.org_records(county, OrgRecordKind.MATERIALS_OF_IMPLEMENTATION, codes)
    assert counted["n"] == 4  # one a call
    impl = table(MatterImplementation)
    assert [encode_row(impl, i) for i in by_code] == [encode_row(impl, i) for i in items[:3]]
    assert [encode_row(impl, i) for i in of_division] == [encode_row(impl, i) for i in items]
    assert [encode_row(impl, i) for i in matters] == [encode_row(impl, i) for i in of_matter]
    material = table(ImplementationMaterial)
    assert [encode_row(material, m) for m in found] == [encode_row(material, m) for m in materials]


async def test_a_filtered_list_of_cases_is_one_statement_a_page(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    today = dt.date(2026, 11, 20)
    conditions = CaseConditions(today=today, submitted_from=dt.date(2026, 10, 1))
    async with store_session(node_apps["county"]) as session:
        expected = [
            r.number
            for r in await session.execute(
                conditions.where(select(table(Case))).order_by(Case.number)
            )
        ]
        applicant = await session.scalar(select(Case.applicant_id).order_by(Case.number))
    assert expected and applicant
    county = node_client("county")
    seen: list[str] = []
    after = None
    while True:
        with statements(node_apps["county"]) as counted:
            page = await remote.cases_under(
                county, "140700000000", after=after, first=5, conditions=conditions
            )
        assert counted["n"] == 1
        seen += [r.number for r in page.rows]
        if not page.has_next:
            break
        after = page.rows[-1].number
    assert seen == expected
    # an account's cases, by applicant too: one statement
    mine = CaseConditions(today=today, by_applicant=True, applicant_id=applicant)
    with statements(node_apps["county"]) as counted:
        page = await remote.cases_of(
            county, applicant, under=None, after=None, first=100, conditions=mine
        )
    assert counted["n"] == 1
    assert page.rows and {r.applicant_id for r in page.rows} == {applicant}
    # nobody: none
    nobody = CaseConditions(today=today, by_applicant=True, applicant_id=None)
    page = await remote.cases_under(county, "140700000000", after=None, first=5, conditions=nobody)
    assert page.rows == []


async def test_a_list_filter_not_the_hubs_is_refused(node_client: MakeClient) -> None:
    county = node_client("county")
    for junk in ({"today": "2026-11-20", "colour": "RED"}, {"clock_state": "RED"}, [1]):
        with pytest.raises(DomainError) as refused:
            await county.query(
                'query($f: JSON) { cases(under: "140700000000", filter: $f) { items { number } } }',
                {"f": junk},
            )
        assert refused.value.code is ErrorCode.BAD_USER_INPUT


def test_an_account_condition_reads_back_alike_in_each_list() -> None:
    """Absent: anyone's; null: nobody's (no account matched the number asked for); a
    number that is not text is BAD_USER_INPUT, in the cases' list and the library's."""
    cases = CaseConditions.decode
    assert not cases({"today": "2026-11-20"}).by_applicant
    nobody = cases({"today": "2026-11-20", "applicant_id": None})
    assert (nobody.by_applicant, nobody.applicant_id) == (True, None)
    assert cases({"today": "2026-11-20", "applicant_id": "a1"}).applicant_id == "a1"
    assert not LicenceConditions.decode({}).by_holder
    held = LicenceConditions.decode({"holder_id": None})
    assert (held.by_holder, held.holder_id) == (True, None)
    for refused in (
        lambda: cases({"today": "2026-11-20", "applicant_id": 7}),
        lambda: LicenceConditions.decode({"holder_id": 7}),
        lambda: LicenceConditions.decode({"type_code": 7}),
        lambda: ItemConditions.decode({**ItemConditions().encode(), "org_code": 7}),
    ):
        with pytest.raises(DomainError) as caught:
            refused()
        assert caught.value.code is ErrorCode.BAD_USER_INPUT
        assert caught.value.field == ["filter"]


async def test_the_catalogues_matters_one_statement_a_page(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["city"]) as session:
        expected = [
            r.basic_code for r in await search_matters(session=session, keyword="证", limit=1000)
        ]
    assert len(expected) > 3
    city = node_client("city")
    seen: list[str] = []
    after = None
    while True:
        with statements(node_apps["city"]) as counted:
            page = await remote.matters(
                city, keyword="证", type=None, status=None, basic_codes=None, after=after, first=2
            )
        assert counted["n"] == 1
        seen += [m.basic_code for m in page.rows]
        if not page.has_next:
            break
        after = page.rows[-1].basic_code
    assert seen == expected
    # the basic codes a node's items implement: one statement
    async with store_session(node_apps["county"]) as session:
        stmt = common_service.implementation_query(
            within_prefix="140702", status=MatterStatus.PUBLISHED
        )
        implemented = await common_service.basic_codes_implemented(stmt, session=session)
    assert implemented
    county = node_client("county")
    with statements(node_apps["county"]) as counted:
        found = await remote.implemented_matters(
            county, under="140702000000", online_level=None, max_visits=None
        )
    assert counted["n"] == 1 and found == implemented
    # the catalogue is the city node's: elsewhere refused
    with pytest.raises(DomainError) as refused:
        await remote.matters(
            county, keyword=None, type=None, status=None, basic_codes=None, after=None, first=5
        )
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED


async def test_a_list_of_items_one_statement_a_page(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    conditions = ItemConditions(within_prefix="140702", status=MatterStatus.PUBLISHED)
    async with store_session(node_apps["county"]) as session:
        expected = [
            (r.division_code, r.basic_code)
            for r in await common_service.list_implementations(
                conditions.query(), session=session, after=None, limit=1000
            )
        ]
    assert len(expected) > 3
    county = node_client("county")
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        with statements(node_apps["county"]) as counted:
            page = await remote.items_where(county, conditions, after=after, first=2)
        assert counted["n"] == 1
        seen += [(r.division_code, r.basic_code) for r in page.rows]
        if not page.has_next:
            break
        after = seen[-1]
    assert seen == expected
    with pytest.raises(DomainError) as refused:
        await county.query(
            "query($f: JSON!) { itemsWhere(filter: $f) { items { code } } }",
            {"f": {"status": "PUBLISHED"}},
        )
    assert refused.value.code is ErrorCode.BAD_USER_INPUT
    city = node_client("city")
    with statements(node_apps["city"]) as counted:
        named = await remote.matters_named(city, "证")
    assert counted["n"] == 1 and named
