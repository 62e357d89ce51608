"""A node's API called as the hub calls it (``NodeClient`` over the in-process
transport): entities by key in one statement per type, the lists by key range paged
with cursors, and the refusal of a division the node does not own."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from levels.cases.models import Case
from levels.city.models import Matter
from levels.common.enums import Level, MatterStatus
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import MatterImplementation, ServiceOrg
from levels.common.reads import table
from levels.common.rowcodec import decode_row, encode_row
from levels.county.models import Delegation
from levels.licences.models import ELicence
from resolvers.nodeclient import NodeClient
from tests.node.conftest import MakeClient, statements

YUCI = "140702000000"  # 榆次区
TAIGU = "140703000000"  # 太谷区
XIUWEN = "140702101000"  # 修文镇

CASES_PAGE = """
query Cases($under: String!, $first: Int, $after: String) {
  cases(under: $under, first: $first, after: $after) {
    items { number status divisionCode }
    pageInfo { hasNextPage endCursor }
  }
}
"""

IMPLEMENTATIONS_PAGE = """
query Implementations($codes: [String!]!, $first: Int, $after: String) {
  implementations(divisionCodes: $codes, first: $first, after: $after) {
    items { code divisionCode basicCode }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TWO_TYPES = """
query Two($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Division { code name }
    ... on ServiceOrg { code divisionCode }
  }
}
"""


async def test_divisions_by_key_cost_one_statement_whatever_their_number(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    county = node_client("county")
    keys = [{"code": YUCI}, {"code": TAIGU}, {"code": "140781000000"}, {"code": "140799000000"}]
    with statements(node_apps["county"]) as counted:
        found = await county.entities("Division", keys, ["code", "name", "level", "parentCode"])
    assert counted["n"] == 1
    assert [f and f["code"] for f in found] == [YUCI, TAIGU, "140781000000", None]
    assert found[0] == {
        "code": YUCI,
        "name": "榆次区",
        "level": "COUNTY",
        "parentCode": "140700000000",
    }


async def test_two_entity_types_in_one_call_cost_one_statement_each(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    county = node_client("county")
    representations: list[dict[str, Any]] = [
        {"__typename": "Division", "code": YUCI},
        {"__typename": "Division", "code": TAIGU},
    ]
    # the orgs of both divisions, by their credit codes
    async with store_session(node_apps["county"]) as session:
        codes = list(
            await session.scalars(
                select(ServiceOrg.code).where(ServiceOrg.division_code.in_([YUCI, TAIGU]))
            )
        )
    representations += [{"__typename": "ServiceOrg", "code": c} for c in sorted(codes)]
    with statements(node_apps["county"]) as counted:
        data, errors = await county.execute(TWO_TYPES, {"representations": representations})
    assert errors == []
    assert counted["n"] == 2
    answered = data["_entities"] if data else []
    assert [e["code"] for e in answered[:2]] == [YUCI, TAIGU]
    assert {e["divisionCode"] for e in answered[2:]} == {YUCI, TAIGU}


def store_session(app: Any) -> Any:
    """A session on a node app's own store, to see what its rows are."""
    return app.state.sessions()


async def test_every_entity_type_answers_by_its_key(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        case = await session.scalar(select(Case).order_by(Case.number).limit(1))
        impl = await session.scalar(
            select(MatterImplementation).order_by(MatterImplementation.code).limit(1)
        )
    assert case is not None and impl is not None
    county = node_client("county")
    (found_case,) = await county.entities(
        "Case", [{"number": case.number}], ["number", "status", "submittedAt", "version"]
    )
    assert found_case is not None and found_case["number"] == case.number
    assert found_case["status"] == case.status.value
    (found_impl,) = await county.entities(
        "MatterImplementation", [{"code": impl.code}], ["code", "level", "handlingKind"]
    )
    assert found_impl == {
        "code": impl.code,
        "level": "COUNTY",
        "handlingKind": impl.handling_kind.value,
    }
    city = node_client("city")
    matters = await city.entities(
        "Matter", [{"basicCode": impl.basic_code}], ["basicCode", "name", "type"]
    )
    assert matters[0] is not None and matters[0]["basicCode"] == impl.basic_code
    # the catalogue is the city node's: another node holds no matter
    assert await county.entities("Matter", [{"basicCode": impl.basic_code}], ["name"]) == [None]


async def test_matters_by_key_with_every_column_cost_one_statement(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["city"]) as session:
        matters = list(await session.scalars(select(Matter).order_by(Matter.basic_code).limit(3)))
    assert len(matters) == 3
    keys = [{"basicCode": m.basic_code} for m in matters] + [{"basicCode": "000000000000"}]
    with statements(node_apps["city"]) as counted:
        found = await node_client("city").entities("Matter", keys, ["columns"])
    assert counted["n"] == 1
    assert found[3] is None
    # the row as the hub rebuilds it: every column, as the city's store holds it
    assert [f and f["columns"] for f in found[:3]] == [
        encode_row(table(Matter), m) for m in matters
    ]
    assert decode_row(Matter, found[0]["columns"]).legal_time_limit_days == (
        matters[0].legal_time_limit_days
    )


async def test_delegations_and_licences_answer_by_id(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        delegation = await session.scalar(select(Delegation).order_by(Delegation.id).limit(1))
    async with store_session(node_apps["city"]) as session:
        licence = await session.scalar(select(ELicence).order_by(ELicence.id).limit(1))
    assert delegation is not None and licence is not None
    county = node_client("county")
    with statements(node_apps["county"]) as counted:
        (found,) = await county.entities(
            "Delegation", [{"id": delegation.id}], ["id", "allTowns", "towns", "columns"]
        )
    assert counted["n"] == 1  # the towns it names come in the same statement
    assert found is not None and found["id"] == delegation.id
    assert found["columns"] == encode_row(table(Delegation), delegation)
    assert found["allTowns"] is delegation.all_towns
    (copy,) = await node_client("city").entities(
        "ELicence", [{"id": licence.id}], ["id", "status", "holderIdMasked"]
    )
    assert copy == {
        "id": licence.id,
        "status": licence.status.value,
        "holderIdMasked": licence.holder_id_masked,
    }


async def test_cases_under_a_division_page_by_cursor_in_number_order(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        expected = sorted(
            n for n in await session.scalars(select(Case.number)) if n.startswith(YUCI[:6])
        )
    assert len(expected) >= 3
    county = node_client("county")
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data, errors = await county.execute(CASES_PAGE, {"under": YUCI, "first": 2, "after": after})
        assert errors == []
        assert data is not None
        page = data["cases"]
        seen += [c["number"] for c in page["items"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    assert pages == (len(expected) + 1) // 2
    # a town's range is a part of the county's
    data, _ = await county.execute(CASES_PAGE, {"under": XIUWEN, "first": 100})
    assert data is not None
    assert [c["number"] for c in data["cases"]["items"]] == [
        n for n in expected if n.startswith(XIUWEN[:9])
    ]


async def test_a_cursor_not_of_this_list_or_a_page_too_large_is_refused(
    node_client: MakeClient,
) -> None:
    county = node_client("county")
    _, errors = await county.execute(CASES_PAGE, {"under": YUCI, "after": "bm90LW91cnM"})
    assert errors[0]["extensions"] == {"code": "INVALID_CURSOR", "field": ["after"]}
    _, errors = await county.execute(CASES_PAGE, {"under": YUCI, "first": 101})
    assert errors[0]["extensions"]["code"] == "PAGE_SIZE_TOO_LARGE"


async def test_implementations_under_divisions_page_by_key_range(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["town"]) as session:
        rows = (
            await session.execute(
                select(MatterImplementation.division_code, MatterImplementation.code).where(
                    MatterImplementation.status == MatterStatus.PUBLISHED,
                    MatterImplementation.level == Level.TOWN,
                )
            )
        ).all()
    expected = sorted((d, c) for d, c in rows if d.startswith(YUCI[:6]))
    assert len(expected) >= 2
    town = node_client("town")
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        data, errors = await town.execute(
            IMPLEMENTATIONS_PAGE, {"codes": [YUCI], "first": 3, "after": after}
        )
        assert errors == [] and data is not None
        page = data["implementations"]
        seen += [(i["divisionCode"], i["code"]) for i in page["items"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


# --- a node of a per-county map: what it does not own it refuses -------------------------


async def test_a_division_the_node_does_not_own_is_refused(
    yuci: tuple[NodeClient, Any],
) -> None:
    client, app = yuci
    found = await client.entities("Division", [{"code": YUCI}], ["code", "name"])
    assert found == [{"code": YUCI, "name": "榆次区"}]
    with statements(app) as counted, pytest.raises(DomainError) as refused:
        await client.entities("Division", [{"code": TAIGU}], ["code"])
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert refused.value.field == ["code"]
    assert counted["n"] == 0  # refused before any read
    # lists: another county is refused; the city is served for the part this node holds
    _, errors = await client.execute(CASES_PAGE, {"under": TAIGU})
    assert errors[0]["extensions"] == {"code": "DIVISION_NOT_OWNED", "field": ["under"]}
    data, errors = await client.execute(CASES_PAGE, {"under": "140700000000", "first": 100})
    assert errors == [] and data is not None
    assert all(c["number"].startswith("140702") for c in data["cases"]["items"])
    # a delegation is its county's; a case is served on its way up from where it came in
    with pytest.raises(DomainError) as refused:
        await client.entities("Delegation", [{"id": "140703000000-G0001"}], ["id"])
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    with pytest.raises(DomainError) as refused:
        await client.entities("Case", [{"number": "140703101000-20261120-00001"}], ["number"])
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED


async def test_a_refusal_speaks_the_callers_language(yuci: tuple[NodeClient, Any]) -> None:
    client, _ = yuci
    document = 'query { cases(under: "140703000000") { items { number } } }'
    response = await client._send(  # the one code path, with a language asked for
        "POST", "/graphql", {"query": document}
    )
    assert "不属于本节点" in response.json()["errors"][0]["message"]
    english = await client._http.post(
        "/graphql",
        json={"query": document},
        headers={
            "Authorization": f"Bearer {client._signer.token('yuci')}",
            "Accept-Language": "en",
        },
    )
    assert "does not own the division" in english.json()["errors"][0]["message"]
