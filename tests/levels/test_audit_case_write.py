"""A write to a case with its audit event, as the steps write them (the case locked by
``load_case_for_update``, changed, then ``record_event``): on PostgreSQL the case's
UPDATE goes out in the append's statement, so the write is the case's lock, the head's
lock and one statement (BEGIN and COMMIT beside them) — not a fourth for the case's
UPDATE flushed alone before the head's lock. The version counter is checked as the
flush checks it, a case not locked is written before its head is locked, and the
chain verifies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm.exc import StaleDataError

from gateway.nodes import LevelNode, NodeRegistry
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases import service as case_service
from levels.cases.models import Case
from levels.common.enums import Level
from tests.conftest import BACKEND, DEMO_NOW
from tests.resolvers import test_round_trips

STAFF = case_service.Actor(id="test-staff", kind="STAFF", role="SUPERVISOR", channel="WEB")
# the case locked, the head locked, then on PostgreSQL the case's UPDATE, the event and
# the head's move in one statement (before: the case's UPDATE flushed alone first, 4);
# on SQLite the case's UPDATE flushed, a write to the head, the head read, the event,
# the head moved
CASE_WRITE_STATEMENTS = {"postgres": 3, "sqlite": 6}
# the fixture counting asyncpg's calls to the server, shared with the round-trip pins
round_trips = test_round_trips.round_trips


@contextmanager
def logged(node: LevelNode) -> Iterator[list[str]]:
    seen: list[str] = []

    def statement(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    engine = node.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)


async def a_case(node: LevelNode) -> str:
    async with node.sessions() as session:
        number = await session.scalar(select(Case.number).order_by(Case.number).limit(1))
    assert number is not None, "the demo loads cases into the county store"
    return number


async def test_a_locked_case_is_written_with_its_event_in_a_pinned_number_of_statements(
    nodes: NodeRegistry,
) -> None:
    node = nodes[Level.COUNTY]
    number = await a_case(node)
    async with node.sessions() as session:
        before = await session.get(Case, number)
        assert before is not None
        version = before.version
    with logged(node) as seen:
        async with node.sessions.begin() as session:
            case = await case_service.load_case_for_update(number, session=session)
            case.applicant_language = "bo" if case.applicant_language != "bo" else None
            language = case.applicant_language
            written = await case_service.record_event(
                session, case, STAFF, "NOTE", case.status, DEMO_NOW
            )
    assert len(seen) == CASE_WRITE_STATEMENTS[BACKEND], seen
    cases = [i for i, s in enumerate(seen) if "UPDATE cases" in s]
    heads = [i for i, s in enumerate(seen) if "audit_heads" in s]
    assert len(cases) == 1, seen
    if BACKEND == "postgres":
        # the head's lock, then one statement: the case, the event, the head
        assert heads == [1, 2] and cases == [2], seen
        assert seen[1].endswith("FOR UPDATE"), seen
        assert "INSERT INTO audit_events" in seen[2], seen
    else:
        assert cases[0] < heads[0], seen
    async with node.sessions() as session:
        after = await session.get(Case, number)
        assert after is not None
        assert (after.version, after.applicant_language) == (version + 1, language)
        stored = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.division_code == written.division_code, AuditEvent.seq == written.seq
            )
        )
        assert stored is not None and stored.hash == written.hash
        report = await verify_division(
            session=session, level="COUNTY", division=written.division_code
        )
    assert report.valid, report


async def test_a_case_changed_behind_the_sessions_back_is_refused_with_its_event(
    nodes: NodeRegistry,
) -> None:
    """The version counter is checked in the append's statement as the flush checks it:
    a case whose stored version is not the one the session read writes nothing."""
    node = nodes[Level.COUNTY]
    number = await a_case(node)
    async with node.sessions() as session:
        events_before = await session.scalar(select(AuditEvent.seq).order_by(-AuditEvent.seq))
    with pytest.raises(StaleDataError):
        async with node.sessions.begin() as session:
            case = await case_service.load_case_for_update(number, session=session)
            stmt = text("UPDATE cases SET version = version + 5 WHERE number = :n")
            await session.execute(stmt, {"n": number})
            case.applicant_language = "zh"
            await case_service.record_event(session, case, STAFF, "NOTE", case.status, DEMO_NOW)
    async with node.sessions() as session:
        assert await session.scalar(select(AuditEvent.seq).order_by(-AuditEvent.seq)) == (
            events_before
        )


async def test_a_case_not_locked_is_written_before_its_head_is_locked(
    nodes: NodeRegistry,
) -> None:
    """Only a case the transaction holds locked goes with its event: one that is not
    is written (and so locked) by the flush before the head's lock — a case is always
    locked before its division's head."""
    node = nodes[Level.COUNTY]
    number = await a_case(node)
    with logged(node) as seen:
        async with node.sessions.begin() as session:
            case = await session.get(Case, number)
            assert case is not None
            case.applicant_language = "bo" if case.applicant_language != "bo" else None
            await case_service.record_event(session, case, STAFF, "NOTE", case.status, DEMO_NOW)
    cases = [i for i, s in enumerate(seen) if "UPDATE cases" in s]
    heads = [i for i, s in enumerate(seen) if "audit_heads" in s]
    assert cases and heads and cases == [i for i in cases if i < heads[0]], seen
    assert seen[cases[0]].startswith("UPDATE cases"), seen


@pytest.mark.skipif(BACKEND != "postgres", reason="asyncpg's round trips")
async def test_a_locked_case_write_is_five_round_trips_each_statement_prepared_once(
    nodes: NodeRegistry, round_trips: list[str]
) -> None:
    """BEGIN, the case's lock, the head's lock, the append with the case's UPDATE,
    COMMIT: the statement that carries the case's UPDATE is prepared once per pooled
    connection, like the others (a text that changed every time would be prepared on
    every write, a round trip more)."""
    node = nodes[Level.COUNTY]
    number = await a_case(node)

    async def write() -> None:
        async with node.sessions.begin() as session:
            case = await case_service.load_case_for_update(number, session=session)
            case.version += 1
            await case_service.record_event(session, case, STAFF, "NOTE", case.status, DEMO_NOW)

    # the pool hands its idle connections out in turn: each has prepared the write once
    # (a statement is prepared per connection) before the one counted
    for _ in range(max(3, node.engine.sync_engine.pool.checkedin() + 1)):  # type: ignore[attr-defined]
        await write()
    round_trips.clear()
    await write()
    assert round_trips.count("prepare") == 0, round_trips
    assert len(round_trips) == 2 + CASE_WRITE_STATEMENTS["postgres"], round_trips
