"""Auditors read a case's trail and the chain's health over HTTP; nobody else does,
and a tampered row shows up at its exact position."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text

from gateway.nodes import NodeRegistry
from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditHead
from levels.common.clock import CHINA
from levels.common.enums import Level
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

RED_CASE = "140702000000-20261026-00001"  # a demo case: accepted, under review, overdue
TRAIL = """
query($n: String!) {
  auditTrail(caseNumber: $n) {
    caseNumber valid events { divisionCode seq action before after actorKind }
    chain { level valid events firstBadSeq problem }
    chains { level divisionCode valid firstBadSeq problem }
  }
}"""
EVENTS = """
query($action: String) {
  auditEvents(filter: {action: $action}, first: 100) { edges { node { caseNumber action } } }
}"""


async def _as(gql: GraphQLClient, username: str, query: str, **variables: Any) -> dict[str, Any]:
    token = (await signed_in(gql, username))["accessToken"]
    body: dict[str, Any] = await gql(query, variables, **bearer(token))
    return body


STEPS = {"SUBMIT", "ACCEPT", "START_REVIEW", "DECIDE"}


async def test_an_auditor_reads_the_trail_of_a_case_in_jurisdiction(gql: GraphQLClient) -> None:
    body = await _as(gql, "yuci.auditor", TRAIL, n=RED_CASE)
    trail = body["data"]["auditTrail"]
    # the case's own steps in time order (other tests leave reads and queue steps on
    # this demo case at clocks of their own, which sort among them by time)
    steps = [e["action"] for e in trail["events"] if e["action"] in STEPS]
    assert steps[:3] == ["SUBMIT", "ACCEPT", "START_REVIEW"]
    assert trail["chain"]["valid"] is True and trail["chain"]["level"] == "COUNTY"
    assert trail["valid"] is True
    assert {e["divisionCode"] for e in trail["events"]} == {"140702000000"}
    assert trail["chain"]["events"] >= len(trail["events"])


async def test_the_trail_is_for_auditors_and_supervisors_in_jurisdiction(
    gql: GraphQLClient,
) -> None:
    for username in ("jz.auditor", "yuci.supervisor"):
        assert "errors" not in await _as(gql, username, TRAIL, n=RED_CASE), username
    for username in ("xiuwen.auditor", "yuci.reviewer", "resident1"):
        body = await _as(gql, username, TRAIL, n=RED_CASE)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", username
    anonymous = await gql(TRAIL, {"n": RED_CASE})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_audit_events_stay_within_jurisdiction(gql: GraphQLClient) -> None:
    county = await _as(gql, "yuci.auditor", EVENTS, action="DECIDE")
    numbers = [e["node"]["caseNumber"] for e in county["data"]["auditEvents"]["edges"]]
    assert numbers and all(n.startswith("140702") for n in numbers)
    town = await _as(gql, "xiuwen.auditor", EVENTS, action="DECIDE")
    assert all(
        e["node"]["caseNumber"].startswith("140702101")
        for e in town["data"]["auditEvents"]["edges"]
    )


async def test_a_tampered_row_is_reported_where_it_is(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    engine = nodes[Level.COUNTY].engine
    async with engine.begin() as conn:
        division, seq, after = (
            await conn.execute(
                text(
                    "SELECT division_code, seq, after FROM audit_events"
                    " WHERE case_number = :n ORDER BY seq"
                ),
                {"n": RED_CASE},
            )
        ).first() or (None, None, None)
        assert seq is not None
        await conn.execute(
            text(
                "UPDATE audit_events SET after = 'APPROVED' WHERE division_code = :d AND seq = :s"
            ),
            {"d": division, "s": seq},
        )
    try:
        body = await _as(gql, "yuci.auditor", TRAIL, n=RED_CASE)
        assert body["data"]["auditTrail"]["valid"] is False
        assert {
            "level": "COUNTY",
            "divisionCode": division,
            "valid": False,
            "firstBadSeq": seq,
            "problem": "TAMPERED",
        } in body["data"]["auditTrail"]["chains"]
        chain = body["data"]["auditTrail"]["chain"]
        assert chain == {
            "level": "COUNTY",
            "valid": False,
            "events": chain["events"],
            "firstBadSeq": seq,
            "problem": "TAMPERED",
        }
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE audit_events SET after = :a WHERE division_code = :d AND seq = :s"),
                {"a": after, "d": division, "s": seq},
            )
    restored = await _as(gql, "yuci.auditor", TRAIL, n=RED_CASE)
    assert restored["data"]["auditTrail"]["chain"]["valid"] is True


ONE_CASE_EVENTS = """
query($n: String!, $after: String) {
  auditEvents(filter: {caseNumber: $n}, first: 1, after: $after) {
    edges { node { level action at } } pageInfo { hasNextPage endCursor }
  }
  auditTrail(caseNumber: $n) { events { level action } }
}"""


async def test_a_cases_events_are_listed_in_time_order_whatever_each_chain_counts(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    """The node whose chain is further along records the earlier step: listed by time,
    its event comes first although its seq is the higher one (a town's read at
    10:00:00.232 after the county's receipt at 10:00:00.207, not before it)."""
    number = "140702101201-20250301-00077"  # 修文村's, a number no demo case has
    heads = {}
    for level in (Level.TOWN, Level.COUNTY):
        async with nodes[level].sessions() as session:
            head = await session.get(AuditHead, number[:12])
            heads[level] = head.seq if head is not None else 0
    # the earlier step at the node further along (the town when they are level)
    earlier, later = sorted((Level.TOWN, Level.COUNTY), key=lambda lv: (-heads[lv], -lv.depth))
    base = dt.datetime(2025, 3, 1, 10, 0, tzinfo=CHINA)
    for level, action, at in (
        (earlier, "RECEIVE_REFERRAL", base + dt.timedelta(milliseconds=207)),
        (later, "READ", base + dt.timedelta(milliseconds=232)),
    ):
        draft = EventDraft(
            actor_id="t", actor_kind="STAFF", role=None, channel="COUNTER", org_code=None,
            level=level.value, action=action, case_number=number,
        )  # fmt: skip
        async with nodes[level].sessions.begin() as session:
            await append(draft, session=session, now=at)
    expected = [(earlier.value, "RECEIVE_REFERRAL"), (later.value, "READ")]

    token = (await signed_in(gql, "yuci.auditor"))["accessToken"]
    seen, after = [], None
    while True:
        body = await gql(ONE_CASE_EVENTS, {"n": number, "after": after}, **bearer(token))
        page = body["data"]["auditEvents"]
        seen += [(e["node"]["level"], e["node"]["action"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    trail = body["data"]["auditTrail"]["events"]
    assert [(e["level"], e["action"]) for e in trail] == expected
