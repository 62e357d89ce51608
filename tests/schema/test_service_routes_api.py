"""What a village station asks: which matters can our residents do, and how."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

VILLAGE, TOWN, COUNTY = "140702101201", "140702101000", "140702000000"
DIBAO, GETIHU = "000500100100", "000100200200"

ROUTES = """
query($division: String!, $keyword: String, $first: Int, $after: String) {
  serviceRoutes(divisionCode: $division, keyword: $keyword, first: $first, after: $after) {
    edges { cursor node {
      matter { basicCode name }
      implementation { level implementationCode department { name } }
      decidedAt { level division { code } }
      receivableAt { level }
      path { level division { code } }
      preliminaryReviewAt { division { code } }
      delegation { id inForce }
      villageModes maxVisits onlineLevel
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def routes(gql: GraphQLClient, division: str, **variables: Any) -> list[dict[str, Any]]:
    body = await gql(ROUTES, {"division": division, "first": 100, **variables})
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["serviceRoutes"]["edges"]]


def by_matter(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["matter"]["basicCode"]: r for r in items}


async def test_subsistence_allowance_goes_up_through_the_town_to_the_county(
    gql: GraphQLClient,
) -> None:
    route = by_matter(await routes(gql, VILLAGE))[DIBAO]
    assert route["decidedAt"]["level"] == "COUNTY"
    assert [p["division"]["code"] for p in route["path"]] == [VILLAGE, TOWN, COUNTY]
    assert route["preliminaryReviewAt"]["division"]["code"] == TOWN
    assert "FULL_PROXY" in route["villageModes"]
    assert route["delegation"] is None


async def test_delegated_matter_is_decided_at_the_town(gql: GraphQLClient) -> None:
    route = by_matter(await routes(gql, VILLAGE))[GETIHU]
    assert route["decidedAt"]["level"] == "TOWN"
    assert route["decidedAt"]["division"]["code"] == TOWN
    assert route["delegation"]["inForce"] is True
    assert route["path"][-1]["division"]["code"] == TOWN


async def test_every_route_ends_where_it_is_decided(gql: GraphQLClient) -> None:
    items = await routes(gql, VILLAGE)
    assert len(items) >= 15
    levels = {r["decidedAt"]["level"] for r in items}
    assert levels == {"CITY", "COUNTY", "TOWN", "VILLAGE"}
    for r in items:
        assert r["path"][-1]["level"] == r["decidedAt"]["level"] == r["implementation"]["level"]
        depth = ["CITY", "COUNTY", "TOWN", "VILLAGE"]
        steps = [depth.index(p["level"]) for p in r["path"]]
        assert steps == sorted(steps, reverse=True), "a path only goes up"
        assert r["receivableAt"] == [{"level": p["level"]} for p in r["path"]]
        assert r["maxVisits"] >= 0


async def test_keyword_narrows_the_routes(gql: GraphQLClient) -> None:
    items = await routes(gql, VILLAGE, keyword="最低生活保障")
    assert [r["matter"]["basicCode"] for r in items] == [DIBAO]


async def test_routes_page_without_gaps(gql: GraphQLClient) -> None:
    everything = [r["matter"]["basicCode"] for r in await routes(gql, VILLAGE)]
    seen: list[str] = []
    after = None
    while True:
        body = await gql(ROUTES, {"division": VILLAGE, "first": 4, "after": after})
        conn = body["data"]["serviceRoutes"]
        seen += [e["node"]["matter"]["basicCode"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == everything


async def test_a_town_resident_has_no_village_station_in_any_path(gql: GraphQLClient) -> None:
    items = await routes(gql, TOWN)
    assert items
    assert all(p["level"] != "VILLAGE" for r in items for p in r["path"])


async def test_unknown_or_malformed_division(gql: GraphQLClient) -> None:
    body = await gql(ROUTES, {"division": "140702101299"})
    assert body["errors"][0]["extensions"]["code"] == "DIVISION_NOT_FOUND"
    body = await gql(ROUTES, {"division": "abc"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_DIVISION_CODE"
    assert body["errors"][0]["extensions"]["field"] == ["divisionCode"]
