"""One convention for every instant of the API: ISO 8601 at +08:00 (docs/api/index.md),
whether the value was just written (a mutation's payload, the clock's time) or read
back from a store (SQLite keeps UTC, PostgreSQL answers in its session's zone)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.scenarios.desk import DISABILITY_CARD, Desk, at
from tests.scenarios.test_delegation import DELEGATE, FARM_MACHINERY, INSTRUMENT, XIUWEN

OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00")

SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { number submittedAt timeline { at } } errors { code } }
}"""
CASE = """
query($number: String!) { case(number: $number) { submittedAt timeline { at } } }"""
TOWNS = """
query { divisions(parentCode: "140702000000", first: 100) { edges { node { code } } } }"""
REVOKE = """
mutation($input: RevokeDelegationInput!) {
  revokeDelegation(input: $input) { delegation { id revokedAt } errors { code } }
}"""
DELEGATIONS = """
query($to: String) { delegations(toDivisionCode: $to) { id revokedAt } }"""


def instants(case: dict[str, Any]) -> list[str]:
    return [case["submittedAt"], *(event["at"] for event in case["timeline"])]


async def test_every_instant_is_written_at_plus_eight_hours(desk: Desk) -> None:
    now = at(dt.date(2026, 11, 20), 10)
    await desk.travel(now)
    # a case: its submission as the mutation answers it, then read back from the store
    materials = await desk.materials("000700400100")
    given = [{"name": m, "source": "FILE", "reference": f"f{i}"} for i, m in enumerate(materials)]
    input = {"implementationCode": DISABILITY_CARD, "channel": "MOBILE", "materials": given}
    submitted = (await desk.run("resident1", SUBMIT, input=input))["submitCase"]
    assert submitted["errors"] == []
    read = (await desk.run("resident1", CASE, number=submitted["case"]["number"]))["case"]
    # a delegation revoked: as the mutation answers it, and as the list reads it back
    towns = (await desk.run("yuci.admin", TOWNS))["divisions"]["edges"]
    town = next(e["node"]["code"] for e in towns if e["node"]["code"] != XIUWEN)
    granted = (
        await desk.run(
            "yuci.admin",
            DELEGATE,
            input={
                "implementationCode": FARM_MACHINERY,
                "towns": [town],
                "legalInstrument": INSTRUMENT,
                "effectiveFrom": "2026-12-01",
                "townDepartment": "农机补贴",
            },
        )
    )["delegateMatter"]
    assert granted["errors"] == []
    made = granted["delegation"]["id"]
    revoked = (await desk.run("yuci.admin", REVOKE, input={"id": made, "reason": "收回"}))[
        "revokeDelegation"
    ]
    assert revoked["errors"] == []
    listed = (await desk.run("yuci.admin", DELEGATIONS, to=town))["delegations"]
    (again,) = (d for d in listed if d["id"] == made)

    written = [*instants(submitted["case"]), revoked["delegation"]["revokedAt"]]
    stored = [*instants(read), again["revokedAt"]]
    for value in written + stored:
        assert OFFSET.fullmatch(value), value
    # the same instant is the same text, whichever path it took
    assert submitted["case"]["submittedAt"] == read["submittedAt"]
    assert revoked["delegation"]["revokedAt"] == again["revokedAt"]
    assert dt.datetime.fromisoformat(read["submittedAt"]) == now
    # the demo's own revoked delegations, written by the loader and never touched since
    everywhere = (await desk.run("yuci.admin", DELEGATIONS))["delegations"]
    old = [d["revokedAt"] for d in everywhere if d["revokedAt"] and d["id"] != made]
    assert old and all(OFFSET.fullmatch(value) for value in old), old
