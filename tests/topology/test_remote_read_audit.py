"""Staff reads audited at the node: with 榆次区's node a process of its own at an
address, a staff member's ``case(number:)`` of a 榆次区 case is answered once the node
has written the read's event in its own chain (``recordCaseReads``) — the hub's own
store for that node gets nothing; a node that does not record the read, or is stopped,
is NODE_UNAVAILABLE naming it, and the case is not answered. A staff member following
the case live (``caseUpdated``) is read and recorded the same way, each event."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from tests.scenarios.desk import CASE
from tests.schema.test_subscriptions import FOLLOW, signed_in_socket
from tests.support.federation import YUCI, Federation
from tests.support.outages import assert_unavailable, no_answer

READER = "yuci.reviewer"


async def _a_yuci_case(federation: Federation) -> str:
    """A case at 榆次区's service centre, at the reviewer's org."""
    desk = federation.desk
    if READER not in desk.viewers:
        await desk.sign_in(READER)
    viewer = desk.viewers[READER]
    async with federation.stores[YUCI].sessions() as session:
        number = await session.scalar(
            select(Case.number)
            .where(
                Case.number.startswith("140702000000-"),
                Case.status != CaseStatus.REFERRED,
                Case.org_code == viewer.org_code,
            )
            .order_by(Case.number)
            .limit(1)
        )
    assert number is not None
    return number


async def _reads(registry: NodeRegistry, number: str | None = None) -> int:
    async with registry[YUCI].sessions() as session:
        stmt = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "READ")
        if number is not None:
            stmt = stmt.where(AuditEvent.case_number == number)
        return int(await session.scalar(stmt) or 0)


async def _followed(federation: Federation, number: str) -> dict[str, Any]:
    """The first ``caseUpdated`` event of the case a READER's subscription receives."""
    desk = federation.desk
    async with signed_in_socket(desk.hub.app, desk.tokens[READER]) as socket:
        op = await socket.subscribe(FOLLOW, number=number)
        return await socket.next_payload(op)


async def test_a_staff_read_is_recorded_in_the_nodes_chain_only(federation: Federation) -> None:
    number = await _a_yuci_case(federation)
    before = await _reads(federation.stores, number)
    client = federation.hub[YUCI].client
    assert client is not None
    calls: list[int] = []
    record = client.record_case_reads

    async def counted(reads: Any) -> None:
        calls.append(len(reads))
        await record(reads)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client, "record_case_reads", counted)
        answers = await asyncio.gather(
            *(federation.desk.run(READER, CASE, number=number) for _ in range(4))
        )

    assert [a["case"]["number"] for a in answers] == [number] * 4
    # each read once, in the node's store; the reads that came together went together
    assert await _reads(federation.stores, number) == before + 4
    assert sum(calls) == 4 and len(calls) <= 4
    assert await _reads(federation.hub) == 0


async def test_a_read_the_node_does_not_record_is_not_answered(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _a_yuci_case(federation)
    before = await _reads(federation.stores, number)
    no_answer(monkeypatch, federation.hub, YUCI, "record_case_reads")
    answer = await federation.desk.ask(READER, CASE, number=number)
    followed = await _followed(federation, number)

    assert_unavailable(answer, YUCI, field="case")
    # nor is a staff subscriber's event: an error naming the node instead of the case
    assert_unavailable(followed, YUCI)
    assert await _reads(federation.stores, number) == before
    assert await _reads(federation.hub) == 0


async def test_a_staff_subscribers_read_is_recorded_in_the_nodes_chain_only(
    federation: Federation,
) -> None:
    number = await _a_yuci_case(federation)
    before = await _reads(federation.stores, number)

    event = await _followed(federation, number)

    # the row came through the node's API (the hub's own store for the node is empty)
    assert "errors" not in event, event
    assert event["data"]["caseUpdated"]["number"] == number
    # its READ event written by the node in its own chain, none in the hub's store
    assert await _reads(federation.stores, number) == before + 1
    assert await _reads(federation.hub) == 0


# last: it stops 榆次区's process for the rest of the module
async def test_a_stopped_node_is_named_and_the_case_not_answered(federation: Federation) -> None:
    number = await _a_yuci_case(federation)
    before = await _reads(federation.stores, number)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(READER, CASE, number=number)

    assert_unavailable(answer, YUCI, field="case")
    assert await _reads(federation.stores, number) == before
    assert await _reads(federation.hub) == 0
