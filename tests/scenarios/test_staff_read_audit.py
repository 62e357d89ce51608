"""Every staff read of a case is audited, cheaply and without exception: reads that come
in together are written together (one transaction for many), each read is answered only
once its event is committed, and a read whose event cannot be written is not answered."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit import batch
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.common.enums import Level
from tests.scenarios.desk import CASE, DISABILITY_CARD, Desk, at

READER = "yuci.reviewer"


async def reads_of(nodes: NodeRegistry, number: str) -> int:
    async with nodes[Level.COUNTY].sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.case_number == number, AuditEvent.action == "READ")
        )
    return int(count or 0)


async def a_case(desk: Desk) -> str:
    await desk.travel(at(dt.date(2026, 11, 23)))
    materials = await desk.materials("000700400100")
    number: str = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    await desk.sign_in(READER)
    return number


async def test_reads_at_once_are_each_recorded_in_the_divisions_chain(
    desk: Desk, nodes: NodeRegistry
) -> None:
    number = await a_case(desk)
    answers = await asyncio.gather(*(desk.run(READER, CASE, number=number) for _ in range(12)))
    assert all(a["case"]["number"] == number for a in answers)
    assert await reads_of(nodes, number) == 12
    async with nodes[Level.COUNTY].sessions() as session:
        report = await verify_division(session=session, level="COUNTY", division=number[:12])
    assert report.valid, report


async def test_a_read_whose_event_cannot_be_written_is_not_answered(
    desk: Desk, nodes: NodeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await a_case(desk)

    async def store_refuses(*_args: object, **_kw: object) -> list[str]:
        raise OSError("the store is gone")

    monkeypatch.setattr(batch, "append_many", store_refuses)
    body = await desk.ask(READER, CASE, number=number)
    assert body.get("errors") and (body.get("data") or {}).get("case") is None
    assert await reads_of(nodes, number) == 0
    monkeypatch.undo()
    assert (await desk.run(READER, CASE, number=number))["case"]["number"] == number
    assert await reads_of(nodes, number) == 1
