"""Cases waiting at the 榆次区 centre for its receptionist: what the write counts of
``acceptCase`` are measured on — the speed bench's own requests (``bench/scenarios.py``:
the guide's materials, the submission, the acceptance)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bench.scenarios import (
    ACCEPT_QUERY,
    CASE_BASIC_CODE,
    CASES_USER,
    COUNTY,
    MATERIALS_QUERY,
    RECEPTIONIST,
    SUBMIT_QUERY,
)
from bench.writes import CASE_IMPLEMENTATION
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

ACCEPT = ACCEPT_QUERY


@dataclass
class Waiting:
    """Cases submitted by a resident, and the receptionist's token."""

    numbers: list[str]
    receptionist: str


@pytest.fixture
async def waiting(gql: GraphQLClient) -> Waiting:
    guide = await gql(MATERIALS_QUERY, {"basicCode": CASE_BASIC_CODE, "divisionCode": COUNTY})
    names = [
        m["name"]
        for e in guide["data"]["matterImplementations"]["edges"]
        if e["node"]["implementationCode"] == CASE_IMPLEMENTATION
        for m in e["node"]["materials"]
    ]
    assert names
    given = {
        "implementationCode": CASE_IMPLEMENTATION,
        "channel": "MOBILE",
        "materials": [
            {"name": n, "source": "FILE", "reference": f"f-{i}"} for i, n in enumerate(names, 1)
        ],
    }
    resident = (await signed_in(gql, CASES_USER))["accessToken"]
    numbers = []
    for _ in range(3):
        body = await gql(SUBMIT_QUERY, {"input": given}, **bearer(resident))
        assert body["data"]["submitCase"]["errors"] == [], body
        numbers.append(body["data"]["submitCase"]["case"]["number"])
    staff = (await signed_in(gql, RECEPTIONIST))["accessToken"]
    return Waiting(numbers, staff)
