"""A case waiting at the 榆次区 centre for its receptionist: what the write counts of
``acceptCase`` are measured on (the speed bench's request, ``bench/scenarios.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

DISABILITY_CARD = "12140702MB000000062000700400100"  # 残疾人证: promised, a notice on acceptance
MATERIALS = """
query {
  matterImplementations(
    filter: {basicCode: "000700400100", divisionCode: "140702000000", level: COUNTY}
  ) { edges { node { implementationCode materials { name } } } }
}"""
SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { number status } errors { code } }
}"""
ACCEPT = """
mutation($number: String!) {
  acceptCase(input: {number: $number}) {
    case { number status version clock { state dueOn workingDaysLeft } }
    errors { code }
  }
}"""


@dataclass
class Waiting:
    """Cases submitted by a resident, and the receptionist's token."""

    numbers: list[str]
    receptionist: str


@pytest.fixture
async def waiting(gql: GraphQLClient) -> Waiting:
    guide = await gql(MATERIALS)
    names = [
        m["name"]
        for e in guide["data"]["matterImplementations"]["edges"]
        if e["node"]["implementationCode"] == DISABILITY_CARD
        for m in e["node"]["materials"]
    ]
    assert names
    given = {
        "implementationCode": DISABILITY_CARD,
        "channel": "MOBILE",
        "materials": [
            {"name": n, "source": "FILE", "reference": f"f-{i}"} for i, n in enumerate(names, 1)
        ],
    }
    resident = (await signed_in(gql, "resident1"))["accessToken"]
    numbers = []
    for _ in range(3):
        body = await gql(SUBMIT, {"input": given}, **bearer(resident))
        assert body["data"]["submitCase"]["errors"] == [], body
        numbers.append(body["data"]["submitCase"]["case"]["number"])
    staff = (await signed_in(gql, "yuci.receptionist"))["accessToken"]
    return Waiting(numbers, staff)
