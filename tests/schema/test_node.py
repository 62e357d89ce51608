"""Relay ``node(id:)``: every object type round-trips through its global ID."""

from __future__ import annotations

import base64

from tests.conftest import GraphQLClient

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Division { code }
    ... on ServiceOrg { code }
    ... on Department { name }
    ... on Window { number kind }
    ... on Matter { basicCode }
    ... on MatterImplementation { implementationCode }
    ... on Delegation { basicCode }
  }
}"""

IDS = """
query {
  division(code: "140702101000") {
    id
    serviceOrg { id departments { id } windows { id } }
  }
  matters(first: 1) { edges { node { id } } }
  matterImplementations(first: 1, filter: {delegatedOnly: true}) {
    edges { node { id delegation { id } } }
  }
}"""


async def test_every_type_round_trips(gql: GraphQLClient) -> None:
    data = (await gql(IDS))["data"]
    town = data["division"]
    impl = data["matterImplementations"]["edges"][0]["node"]
    ids = {
        "Division": town["id"],
        "ServiceOrg": town["serviceOrg"]["id"],
        "Department": town["serviceOrg"]["departments"][0]["id"],
        "Window": town["serviceOrg"]["windows"][0]["id"],
        "Matter": data["matters"]["edges"][0]["node"]["id"],
        "MatterImplementation": impl["id"],
        "Delegation": impl["delegation"]["id"],
    }
    for typename, gid in ids.items():
        body = await gql(NODE, {"id": gid})
        assert "errors" not in body, body
        assert body["data"]["node"]["__typename"] == typename
        assert body["data"]["node"]["id"] == gid


def forge(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def test_bad_ids_are_typed_errors(gql: GraphQLClient) -> None:
    for bad in (
        "%%%",
        forge("Nope:CITY:1"),
        forge("Division:MOON:140700000000"),
        forge("Division:COUNTY:140700000000"),  # the level does not match the code
        forge("Matter:TOWN:000500100100"),  # matters live in the city node
        forge("Division:CITY"),
    ):
        body = await gql(NODE, {"id": bad})
        assert body["data"]["node"] is None
        assert body["errors"][0]["extensions"]["code"] == "INVALID_ID", bad


async def test_a_wellformed_id_of_nothing_is_null(gql: GraphQLClient) -> None:
    body = await gql(NODE, {"id": forge("Division:TOWN:140702199000")})
    assert body == {"data": {"node": None}}
