"""Staff reads of a case audited at the node that holds it (``recordCaseReads``), called
as the hub calls it: each read's READ event, by the actor given, in the node's chain
(which verifies), the reads of one call written together; a case the node does not
hold, or one received where it holds nothing, is refused typed and nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.errors import CaseErrorCode
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from tests.node.conftest import MakeClient
from tests.node.test_case_steps import actor, desk, submitted  # noqa: F401 (fixture)
from tests.scenarios.desk import Desk

READER = "yuci.reviewer"


async def reads_of(nodes: NodeRegistry, number: str) -> list[AuditEvent]:
    async with nodes[Level.COUNTY].sessions() as session:
        found = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_number == number, AuditEvent.action == "READ")
            .order_by(AuditEvent.seq)
        )
        return list(found)


async def a_read(at: Desk) -> tuple[str, dict[str, Any], dt.datetime]:
    """A submitted case, its reader as the hub names them to the node, and now."""
    return (await submitted(at))["number"], actor(at, READER), at.hub.clock.now()


async def all_events(nodes: NodeRegistry) -> int:
    counts = 0
    for level in (Level.COUNTY, Level.TOWN):
        async with nodes[level].sessions() as session:
            counts += int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    return counts


async def test_reads_are_recorded_in_the_nodes_chain_by_the_actor_given(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    number, reader, now = await a_read(desk)

    await node_client("county").record_case_reads([(number, reader, now), (number, reader, now)])

    found = await reads_of(nodes, number)
    assert [e.actor_id for e in found] == [desk.viewers[READER].subject] * 2
    assert {e.request_id for e in found} == {reader["request_id"]}
    assert {e.after for e in found} == {"SUBMITTED"}
    async with nodes[Level.COUNTY].sessions() as session:
        report = await verify_division(session=session, level="COUNTY", division=number[:12])
    assert report.valid, report


async def test_a_case_not_held_or_not_owned_is_refused_and_nothing_written(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    number, reader, now = await a_read(desk)
    before = await all_events(nodes)
    # the last sequence of the case's org and day: no test receives 99,999 cases there
    # (its neighbour number may well be another test's case)
    missing = number[:-5] + "99999"

    with pytest.raises(DomainError) as not_here:
        await node_client("county").record_case_reads(
            [(number, reader, now), (missing, reader, now)]
        )
    with pytest.raises(DomainError) as not_owned:
        await node_client("town").record_case_reads([(number, reader, now)])

    assert not_here.value.code is CaseErrorCode.CASE_NOT_FOUND
    assert not_owned.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert await all_events(nodes) == before
