"""Auditors read a case's trail and the chain's health over HTTP; nobody else does,
and a tampered row shows up at its exact position."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from gateway.nodes import NodeRegistry
from levels.common.enums import Level
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

RED_CASE = "140702000000-20261026-00001"  # a demo case: accepted, under review, overdue
TRAIL = """
query($n: String!) {
  auditTrail(caseNumber: $n) {
    caseNumber events { seq action before after actorKind }
    chain { level valid events firstBadSeq problem }
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


async def test_an_auditor_reads_the_trail_of_a_case_in_jurisdiction(gql: GraphQLClient) -> None:
    body = await _as(gql, "yuci.auditor", TRAIL, n=RED_CASE)
    trail = body["data"]["auditTrail"]
    assert [e["action"] for e in trail["events"]][:3] == ["SUBMIT", "ACCEPT", "START_REVIEW"]
    assert trail["chain"]["valid"] is True and trail["chain"]["level"] == "COUNTY"
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
        seq, after = (
            await conn.execute(
                text("SELECT seq, after FROM audit_events WHERE case_number = :n ORDER BY seq"),
                {"n": RED_CASE},
            )
        ).first() or (None, None)
        assert seq is not None
        await conn.execute(
            text("UPDATE audit_events SET after = 'APPROVED' WHERE seq = :s"), {"s": seq}
        )
    try:
        body = await _as(gql, "yuci.auditor", TRAIL, n=RED_CASE)
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
                text("UPDATE audit_events SET after = :a WHERE seq = :s"), {"a": after, "s": seq}
            )
    restored = await _as(gql, "yuci.auditor", TRAIL, n=RED_CASE)
    assert restored["data"]["auditTrail"]["chain"]["valid"] is True
