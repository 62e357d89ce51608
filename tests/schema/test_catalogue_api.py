"""The catalogue over HTTP: divisions, matters, implementation lists, delegations."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

CITY, COUNTY, TOWN, VILLAGE = "140700000000", "140702000000", "140702101000", "140702101201"
DIBAO = "000500100100"  # 最低生活保障审批
GETIHU = "000100200200"  # 个体工商户登记, delegated by every county to all its towns

DIVISION = """
query($code: String!) {
  division(code: $code) {
    id code name level
    parent { code level parent { code level parent { code } } }
    serviceOrg { code name kind level division { code } departments { name } }
  }
}"""

DIVISIONS = """
query($parentCode: String, $level: Level, $first: Int, $after: String) {
  divisions(parentCode: $parentCode, level: $level, first: $first, after: $after) {
    edges { cursor node { code level } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


def codes(conn: dict[str, Any]) -> list[str]:
    return [e["node"]["code"] for e in conn["edges"]]


async def walk(
    gql: GraphQLClient, query: str, field: str, size: int, **variables: Any
) -> list[Any]:
    """Follow endCursor until the last page; return every node."""
    seen: list[Any] = []
    after = None
    while True:
        body = await gql(query, {**variables, "first": size, "after": after})
        assert "errors" not in body, body
        conn = body["data"][field]
        seen.extend(e["node"] for e in conn["edges"])
        if not conn["pageInfo"]["hasNextPage"]:
            return seen
        after = conn["pageInfo"]["endCursor"]


async def test_a_village_knows_its_chain_and_its_service_station(gql: GraphQLClient) -> None:
    body = await gql(DIVISION, {"code": VILLAGE})
    village = body["data"]["division"]
    assert village["level"] == "VILLAGE"
    assert village["parent"]["code"] == TOWN
    assert village["parent"]["parent"]["code"] == COUNTY
    assert village["parent"]["parent"]["parent"]["code"] == CITY
    org = village["serviceOrg"]
    assert org["kind"] == "CONVENIENCE_STATION" and org["division"]["code"] == VILLAGE
    assert org["name"].endswith("便民服务站")
    assert len(org["code"]) == 18


async def test_an_unknown_but_wellformed_division_is_null(gql: GraphQLClient) -> None:
    body = await gql(DIVISION, {"code": "140702199000"})
    assert body["data"]["division"] is None and "errors" not in body


async def test_malformed_division_code_is_a_typed_error_not_a_crash(gql: GraphQLClient) -> None:
    for bad in ("1407", "14070210120X", "140700000201"):
        body = await gql(DIVISION, {"code": bad})
        assert body["data"]["division"] is None
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "INVALID_DIVISION_CODE"
        assert error["extensions"]["field"] == ["code"]
        assert error["path"] == ["division"]


async def test_errors_speak_english_when_asked(gql: GraphQLClient) -> None:
    zh = await gql(DIVISION, {"code": "1407"})
    en = await gql(DIVISION, {"code": "1407"}, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert "区划代码" in zh["errors"][0]["message"]
    assert en["errors"][0]["message"].startswith("A division code is 12 digits")


async def test_the_city_has_eleven_counties_paged_without_gaps(gql: GraphQLClient) -> None:
    counties = await walk(gql, DIVISIONS, "divisions", 4, parentCode=CITY)
    assert len(counties) == 11
    assert [c["code"] for c in counties] == sorted(c["code"] for c in counties)
    assert {c["level"] for c in counties} == {"COUNTY"}
    assert counties[0]["code"] == COUNTY and counties[-1]["code"] == "140781000000"


async def test_level_below_a_parent_lists_descendants_at_that_level(gql: GraphQLClient) -> None:
    villages = await walk(gql, DIVISIONS, "divisions", 100, parentCode=COUNTY, level="VILLAGE")
    assert len(villages) >= 6
    assert all(v["code"].startswith("140702") and v["level"] == "VILLAGE" for v in villages)


async def test_all_divisions_merge_four_nodes_in_code_order(gql: GraphQLClient) -> None:
    everything = await walk(gql, DIVISIONS, "divisions", 37)
    got = [d["code"] for d in everything]
    assert got == sorted(got) and len(got) == len(set(got))
    levels = {d["level"] for d in everything}
    assert levels == {"CITY", "COUNTY", "TOWN", "VILLAGE"}
    per_level = [await walk(gql, DIVISIONS, "divisions", 100, level=lv) for lv in sorted(levels)]
    assert len(got) == sum(len(p) for p in per_level)


async def test_page_size_over_one_hundred_is_refused(gql: GraphQLClient) -> None:
    body = await gql(DIVISIONS, {"first": 101})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "PAGE_SIZE_TOO_LARGE"


async def test_a_bad_cursor_is_refused(gql: GraphQLClient) -> None:
    for bad in ("not-a-cursor", "eyJDSVRZIjogNX0"):
        body = await gql(DIVISIONS, {"after": bad})
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_children_of_a_town_are_its_villages(gql: GraphQLClient) -> None:
    body = await gql(
        """query { division(code: "140702101000") {
             children(first: 2) { edges { node { code parent { code } } } pageInfo { hasNextPage } }
           } }"""
    )
    children = body["data"]["division"]["children"]
    assert [e["node"]["parent"]["code"] for e in children["edges"]] == [TOWN, TOWN]
    assert children["pageInfo"]["hasNextPage"] is True


MATTERS = """
query($filter: MatterFilter, $first: Int, $after: String) {
  matters(filter: $filter, first: $first, after: $after) {
    edges { node { basicCode name type legalTimeLimitDays
      implementations(first: 100) { edges { node { level maxVisits onlineLevel divisionCode } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_catalogue_covers_all_eight_matter_types(gql: GraphQLClient) -> None:
    matters = await walk(gql, MATTERS, "matters", 10)
    assert len(matters) >= 30
    assert {m["type"] for m in matters} == {
        "ADMINISTRATIVE_LICENSE",
        "ADMINISTRATIVE_CONFIRMATION",
        "ADMINISTRATIVE_PAYMENT",
        "ADMINISTRATIVE_LEVY",
        "ADMINISTRATIVE_ADJUDICATION",
        "ADMINISTRATIVE_REWARD",
        "OTHER_POWER",
        "PUBLIC_SERVICE",
    }


async def test_keyword_and_type_filters(gql: GraphQLClient) -> None:
    body = await gql(MATTERS, {"filter": {"keyword": "低保"}})
    assert body["data"]["matters"]["edges"] == []
    body = await gql(MATTERS, {"filter": {"keyword": "最低生活保障"}})
    (matter,) = [e["node"] for e in body["data"]["matters"]["edges"]]
    assert matter["basicCode"] == DIBAO
    body = await gql(MATTERS, {"filter": {"type": "ADMINISTRATIVE_REWARD"}, "first": 100})
    rewards = [e["node"] for e in body["data"]["matters"]["edges"]]
    assert rewards and all(m["type"] == "ADMINISTRATIVE_REWARD" for m in rewards)


async def test_implementation_filters_select_matters_implemented_that_way(
    gql: GraphQLClient,
) -> None:
    village_matters = await walk(gql, MATTERS, "matters", 50, filter={"level": "VILLAGE"})
    assert village_matters
    for m in village_matters:
        assert "VILLAGE" in {i["node"]["level"] for i in m["implementations"]["edges"]}
    no_visit = await walk(
        gql, MATTERS, "matters", 50, filter={"maxVisits": 0, "divisionCode": COUNTY}
    )
    assert no_visit
    for m in no_visit:
        assert any(
            i["node"]["maxVisits"] == 0 and i["node"]["divisionCode"].startswith("140702")
            for i in m["implementations"]["edges"]
        )
    everything = await walk(gql, MATTERS, "matters", 100)
    assert len(no_visit) < len(everything)


IMPLEMENTATIONS = """
query($filter: ImplementationFilter, $first: Int, $after: String) {
  matterImplementations(filter: $filter, first: $first, after: $after) {
    edges { node {
      id implementationCode basicCode level divisionCode handlingKind promisedTimeLimitDays
      promiseExceptionReason maxVisits onlineLevel villageModes receiveLevels
      matter { legalTimeLimitDays } org { code level } department { name }
      materials { name form tolerable satisfiedByLicenceType }
      specialProcedures { kind timeLimitDays } fees { name amountYuan }
      delegatedFrom { level implementationCode } delegation { id inForce }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_implementation_lists_of_a_county_span_three_nodes(gql: GraphQLClient) -> None:
    items = await walk(
        gql, IMPLEMENTATIONS, "matterImplementations", 100, filter={"divisionCode": COUNTY}
    )
    assert {i["level"] for i in items} == {"COUNTY", "TOWN", "VILLAGE"}
    keys = [(i["divisionCode"], i["basicCode"]) for i in items]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    for item in items:
        assert item["divisionCode"].startswith("140702")
        assert item["org"]["level"] == item["level"]
        assert item["implementationCode"][:18] == item["org"]["code"]
        assert item["materials"], item["implementationCode"]
        legal = item["matter"]["legalTimeLimitDays"]
        assert item["promisedTimeLimitDays"] * 2 <= legal or item["promiseExceptionReason"]


async def test_delegated_items_point_back_to_the_county(gql: GraphQLClient) -> None:
    items = await walk(
        gql,
        IMPLEMENTATIONS,
        "matterImplementations",
        100,
        filter={"delegatedOnly": True, "divisionCode": COUNTY},
    )
    assert items
    for item in items:
        assert item["level"] == "TOWN"
        assert item["delegatedFrom"]["level"] == "COUNTY"
        assert item["delegation"]["id"]
    assert GETIHU in {i["basicCode"] for i in items}


async def test_unknown_matter_in_a_filter_is_a_typed_error(gql: GraphQLClient) -> None:
    body = await gql(IMPLEMENTATIONS, {"filter": {"basicCode": "999999999999"}})
    assert body["errors"][0]["extensions"]["code"] == "MATTER_NOT_FOUND"
    body = await gql(IMPLEMENTATIONS, {"filter": {"basicCode": "bad"}})
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_BASIC_CODE",
        "field": ["filter", "basicCode"],
    }
    body = await gql(IMPLEMENTATIONS, {"filter": {"orgCode": "911407020000000000"}})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ORG_CODE"


DELEGATIONS = """
query($to: String, $from: String, $active: Boolean) {
  delegations(toDivisionCode: $to, fromDivisionCode: $from, activeOnly: $active) {
    id allTowns inForce effectiveFrom revokedAt basicCode legalInstrument
    towns { code } fromOrg { level } matter { name } implementation { level }
  }
}"""


async def test_delegations_to_a_town_and_only_those_in_force(gql: GraphQLClient) -> None:
    to_town = (await gql(DELEGATIONS, {"to": TOWN}))["data"]["delegations"]
    assert GETIHU in {d["basicCode"] for d in to_town}
    for d in to_town:
        assert d["allTowns"] or TOWN in {t["code"] for t in d["towns"]}
        assert d["fromOrg"]["level"] == "COUNTY" and d["implementation"]["level"] == "COUNTY"
    everywhere = (await gql(DELEGATIONS, {}))["data"]["delegations"]
    assert any(not d["inForce"] for d in everywhere), "the demo has revoked and future ones"
    active = (await gql(DELEGATIONS, {"active": True}))["data"]["delegations"]
    assert active and all(d["inForce"] for d in active)
    assert len(active) < len(everywhere)
    other = (await gql(DELEGATIONS, {"to": TOWN, "from": "140703000000"}))["data"]["delegations"]
    assert other == []


async def test_a_level_not_below_the_parent_is_refused(gql: GraphQLClient) -> None:
    body = await gql(DIVISIONS, {"parentCode": TOWN, "level": "COUNTY"})
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "LEVEL_MISMATCH", "field": ["level"]}
    leaf = await gql(DIVISIONS, {"parentCode": VILLAGE})
    assert leaf["data"]["divisions"]["edges"] == []


async def test_only_published_items_count_as_implemented(gql: GraphQLClient) -> None:
    # 太谷区 delegated 食品经营许可 to one town and revoked it: the town item is abolished
    taigu = {"divisionCode": "140703000000", "level": "TOWN"}
    listed = await walk(
        gql,
        IMPLEMENTATIONS,
        "matterImplementations",
        100,
        filter={**taigu, "keyword": "食品经营许可"},
    )
    assert {i["basicCode"] for i in listed} == {"000100200100"}
    published = await walk(
        gql,
        IMPLEMENTATIONS,
        "matterImplementations",
        100,
        filter={**taigu, "keyword": "食品经营许可", "status": "PUBLISHED"},
    )
    assert published == []
    matters = await walk(gql, MATTERS, "matters", 100, filter=taigu)
    assert matters and "000100200100" not in {m["basicCode"] for m in matters}
