"""Cases handed in at a counter, over HTTP, for the cross-level sections: a member of
staff of one level's service org submits for a demo resident (``applicantIdNumber``),
every material of the item's guide handed in as a FILE. Untimed: what the sections
then measure acts on these cases."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson

from bench.measure import BenchError
from bench.scenarios import GraphQL
from gateway.demo.accounts import resident_id_number
from levels.cases.enums import CaseStatus
from levels.common.enums import Level

GUIDE_QUERY = """
query Guide($basicCode: String!, $orgCode: String!) {
  matterImplementations(filter: {basicCode: $basicCode, orgCode: $orgCode}) {
    edges { node { implementationCode materials { name } } }
  }
}
"""
SUBMIT_QUERY = """
mutation CounterSubmit($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { number status level } errors { code field message } }
}
"""


@dataclass(frozen=True)
class Counter:
    """Who receives which item at which level's counter, and for whom."""

    level: Level  # the store that keeps the case when it is received
    staff: str  # a demo username of that level's service org
    implementation: str  # the implementation code (the org that decides it)
    applicant_id: str  # the resident's ID number

    @property
    def org_code(self) -> str:
        """The deciding org (an implementation code: org code, level digit, basic code)."""
        return self.implementation[:18]

    @property
    def basic_code(self) -> str:
        return self.implementation[-12:]


# 残疾人证核发 of 榆次区, received at the 修文村 station: the village refers it straight
# to the county, which accepts on receipt
VILLAGE_DISABILITY_CARD = Counter(
    Level.VILLAGE,
    "xiuwencun.receptionist",
    "12140702MB000000062000700400100",
    resident_id_number(3),  # resident4, of 修文村
)
# one item each level decides itself, received at its own counter
OWN_COUNTERS: dict[Level, Counter] = {
    Level.CITY: Counter(
        Level.CITY, "jz.receptionist", "12140700MB000000091000100600100", resident_id_number(0)
    ),
    Level.COUNTY: Counter(
        Level.COUNTY,
        "yuci.receptionist",
        VILLAGE_DISABILITY_CARD.implementation,
        resident_id_number(0),
    ),
    Level.TOWN: Counter(
        Level.TOWN, "xiuwen.receptionist", "12140702MB1010008W3000500100300", resident_id_number(2)
    ),
    # kept SUBMITTED at the village until someone refers it
    Level.VILLAGE: VILLAGE_DISABILITY_CARD,
}


async def guide_materials(graphql: GraphQL, counter: Counter) -> list[str]:
    """The names of the materials the item's guide asks for."""
    data = await graphql(
        GUIDE_QUERY, {"basicCode": counter.basic_code, "orgCode": counter.org_code}
    )
    names = [
        m["name"]
        for edge in data["matterImplementations"]["edges"]
        if edge["node"]["implementationCode"] == counter.implementation
        for m in edge["node"]["materials"]
    ]
    if not names:
        raise BenchError(f"no guide materials found for {counter.implementation}")
    return names


async def submit_cases(
    graphql: GraphQL, counter: Counter, count: int, concurrency: int
) -> list[str]:
    """Submit ``count`` cases at ``counter`` (``concurrency`` in flight); their numbers,
    each checked SUBMITTED and kept at the counter's level."""
    names = await guide_materials(graphql, counter)
    submission = {
        "input": {
            "implementationCode": counter.implementation,
            "channel": "COUNTER",
            "applicantIdNumber": counter.applicant_id,
            "materials": [
                {"name": name, "source": "FILE", "reference": f"f-{i}"}
                for i, name in enumerate(names, 1)
            ],
        }
    }
    in_flight = asyncio.Semaphore(concurrency)

    async def submit() -> str:
        async with in_flight:
            data = await graphql(SUBMIT_QUERY, submission, bearer=counter.staff)
        payload: dict[str, Any] = data.get("submitCase") or {}
        case = payload.get("case") or {}
        wanted = (CaseStatus.SUBMITTED.value, counter.level.value)
        if payload.get("errors") or (case.get("status"), case.get("level")) != wanted:
            raise BenchError(
                f"submitCase at {counter.staff} did not leave a case {wanted}: "
                f"{orjson.dumps(payload).decode()}"
            )
        number: str = case["number"]
        return number

    return list(await asyncio.gather(*(submit() for _ in range(count))))
