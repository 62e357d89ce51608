"""Global IDs that say where they live: the division that holds the row is inside (its
level follows from the code), the rows a store numbers are named by a public key unique
across nodes, and the IDs of the previous release (``Type:LEVEL:key``) still resolve."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import select

from gateway.nodes import NodeRegistry
from levels.cases.models import Case
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.publicids import is_public_id, new_public_id
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.licences.models import ELicence
from resolvers.globalid import decode_id, decode_row_key, encode_id
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Case { number }
    ... on ELicence { identifier }
    ... on Evaluation { caseNumber }
    ... on Rectification { caseNumber }
    ... on Complaint { status }
    ... on Division { code }
    ... on Window { number }
    ... on ServiceOrg { code }
    ... on Delegation { basicCode }
  }
}"""

CATALOGUE = """
query {
  division(code: "140702101000") {
    id
    serviceOrg { id departments { id } windows { id } }
  }
  matterImplementations(first: 1, filter: {delegatedOnly: true}) {
    edges { node { id delegation { id } } }
  }
}"""


def legacy(type_name: str, level: Level, key: str) -> str:
    """An ID as the previous release wrote it: ``Type:LEVEL:key``."""
    raw = f"{type_name}:{level.value}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("type_name", "division", "key"),
    [
        ("Division", "140702101000", "140702101000"),
        ("ServiceOrg", "140702000000", "12140702MB00000006"),
        ("Department", "140702000000", "140702000000D01"),
        ("Window", "140702101201", "140702101201W01"),
        ("MatterImplementation", "140702000000", "12140702MB000000062000000000001"),
        ("Delegation", "140702000000", "140702000000-G0001"),
        ("Case", "140702000000", "140702101201-20261119-00001"),
        ("ELicence", "140702101000", "L-0001"),
        ("Evaluation", "140702000000", new_public_id("140702000000")),
    ],
)
def test_an_id_carries_its_division_and_the_level_follows(
    type_name: str, division: str, key: str
) -> None:
    gid = decode_id(encode_id(type_name, division, key))
    assert (gid.type_name, gid.division, gid.key) == (type_name, division, key)
    assert gid.level is {12: Level.VILLAGE, 9: Level.TOWN, 6: Level.COUNTY}.get(
        len(division.rstrip("0")), Level.CITY
    )
    assert not gid.legacy


def test_a_matter_of_the_catalogue_names_the_city() -> None:
    gid = decode_id(encode_id("Matter", Level.CITY, "000000000001"))
    assert (gid.level, gid.division, gid.legacy) == (Level.CITY, None, False)
    with pytest.raises(ValueError, match="division"):
        encode_id("Case", Level.COUNTY, "140702000000-20261119-00001")


def test_an_old_id_decodes_with_its_level_and_the_division_its_key_names() -> None:
    window = decode_id(legacy("Window", Level.TOWN, "140702101000W01"))
    assert (window.level, window.division, window.legacy) == (
        Level.TOWN,
        "140702101000",
        True,
    )
    org = decode_id(legacy("ServiceOrg", Level.COUNTY, "12140702MB00000006"))
    assert (org.level, org.division, org.legacy) == (Level.COUNTY, None, True)
    assert decode_row_key(legacy("Ticket", Level.COUNTY, "7"), "Ticket", ["id"]) == (
        Level.COUNTY,
        7,
    )


@pytest.mark.parametrize(
    "raw",
    [
        "Division:COUNTY:140700000000",  # old: the level does not match the code
        "Division:140702000000:140703000000",  # new: the key is another division
        "Window:140702101000:140702000000W01",  # new: a window of another division
        "Delegation:140702000000:140703000000-G0001",
        "Case:140702000001:140702000000-20261119-00001",  # not a division code
        "Case:1407:140702000000-20261119-00001",
    ],
)
def test_an_id_whose_division_and_key_disagree_is_invalid(raw: str) -> None:
    value = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    with pytest.raises(DomainError) as caught:
        decode_id(value)
    assert caught.value.code.value == "INVALID_ID"


def test_a_row_of_a_store_is_named_by_a_public_key_of_its_division() -> None:
    key = new_public_id("140702101000")
    assert is_public_id(key) and key.startswith("140702101000-")
    assert decode_row_key(encode_id("Ticket", "140702101000", key), "Ticket", ["id"]) == (
        Level.TOWN,
        key,
    )
    for bad in (new_public_id("140702000000"), "140702101000-1", "5"):
        with pytest.raises(DomainError):
            decode_row_key(encode_id("Ticket", "140702101000", bad), "Ticket", ["id"])


async def _node(gql: GraphQLClient, gid: str, headers: dict[str, str]) -> Any:
    body = await gql(NODE, {"id": gid}, **headers)
    assert "errors" not in body, body
    return body["data"]["node"]


async def test_catalogue_ids_round_trip_and_old_ones_still_resolve(gql: GraphQLClient) -> None:
    data = (await gql(CATALOGUE))["data"]
    town = data["division"]
    impl = data["matterImplementations"]["edges"][0]["node"]
    window = town["serviceOrg"]["windows"][0]["id"]
    delegation = impl["delegation"]["id"]
    for gid, division in (
        (town["id"], "140702101000"),
        (town["serviceOrg"]["id"], "140702101000"),
        (window, "140702101000"),
        (delegation, "140702000000"),
    ):
        assert decode_id(gid).division == division
        assert (await _node(gql, gid, {}))["id"] == gid
    # the same objects by the IDs the previous release handed out: the new ID comes back
    olds = {
        town["id"]: legacy("Division", Level.TOWN, "140702101000"),
        window: legacy("Window", Level.TOWN, decode_id(window).key),
        delegation: legacy("Delegation", Level.COUNTY, decode_id(delegation).key),
        town["serviceOrg"]["id"]: legacy(
            "ServiceOrg", Level.TOWN, decode_id(town["serviceOrg"]["id"]).key
        ),
    }
    for new, old in olds.items():
        assert (await _node(gql, old, {}))["id"] == new


async def test_case_licence_and_rating_ids_round_trip_and_old_ones_resolve(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    headers = bearer((await signed_in(gql, "jz.auditor"))["accessToken"])
    found: list[tuple[str, str, str]] = []  # (new ID, old ID, type)
    async with nodes[Level.COUNTY].sessions() as s:
        case = await s.scalar(select(Case).order_by(Case.number).limit(1))
        assert case is not None
        found.append(
            (
                encode_id("Case", case.division_code, case.number),
                legacy("Case", Level.COUNTY, case.number),
                "Case",
            )
        )
        for model in (Evaluation, Rectification, Complaint):
            row: Any = await s.scalar(select(model).order_by(model.id).limit(1))
            assert row is not None and is_public_id(row.public_id)
            assert row.public_id.startswith(row.division_code)
            name = model.__name__
            found.append(
                (
                    encode_id(name, row.division_code, row.public_id),
                    legacy(name, Level.COUNTY, str(row.id)),
                    name,
                )
            )
    async with nodes[Level.CITY].sessions() as s:
        licence = await s.scalar(select(ELicence).order_by(ELicence.id).limit(1))
        assert licence is not None
        found.append(
            (
                encode_id("ELicence", licence.issuer_division_code, licence.id),
                legacy("ELicence", Level.CITY, licence.id),
                "ELicence",
            )
        )
    for new, old, type_name in found:
        by_new = await _node(gql, new, headers)
        assert by_new is not None, type_name
        assert (by_new["__typename"], by_new["id"]) == (type_name, new)
        assert await _node(gql, old, headers) == by_new, type_name
