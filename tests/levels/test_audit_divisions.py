"""One audit chain per division: appenders to two divisions do not wait on each other,
a tampered event is found in its own division's chain while the others verify, the
hand-over links between chains hold or are reported broken, and a store from before
the split comes out of its migration verifying, each old event in its division's chain.

Like ``test_audit_chain``, these run on fresh stores of their own (SQLite files, or new
PostgreSQL databases in the PostgreSQL pass)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from alembic import command
from gateway.nodes import LevelNode, NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import (
    GENESIS,
    EventDraft,
    append,
    append_many,
    canonical,
    carry_handover,
    link,
    verify_chain,
    verify_division,
    with_handover,
)
from levels.audit.links import HASH_MISMATCH, check_links, claims_in, sender_hash, verify_links
from levels.audit.models import AuditEvent, AuditHead
from levels.common import migrate
from levels.common.enums import Level
from tests.conftest import BACKEND, DEMO_NOW, make_registry
from tests.support import pg

VILLAGE = "140702101201"  # 修文村
TOWN = "140702101000"  # 修文镇
OTHER_VILLAGE = "140702101202"
NUMBER = f"{VILLAGE}-20261120-00001"


def draft(action: str, level: Level, division: str, **changes: Any) -> EventDraft:
    return EventDraft(
        actor_id="acct-1",
        actor_kind="STAFF",
        role="AGENT",
        channel="COUNTER",
        org_code=None,
        level=level.value,
        action=action,
        case_number=NUMBER,
        division_code=division,
        **changes,
    )


def at(i: int) -> dt.datetime:
    return DEMO_NOW + dt.timedelta(seconds=i, microseconds=5)


@pytest.fixture(scope="module")
async def stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("audit-divisions"), "auditdiv" + uuid.uuid4().hex[:8]
    )
    try:
        yield settings, nodes
    finally:
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


@pytest.fixture
async def nodes(stores: tuple[Settings, NodeRegistry]) -> NodeRegistry:
    """The fresh registry, every store's audit trail empty."""
    registry = stores[1]
    for node in registry:
        async with node.sessions.begin() as session:
            await session.execute(delete(AuditEvent))
            await session.execute(delete(AuditHead))
    return registry


async def record(node: LevelNode, division: str, n: int) -> None:
    for i in range(1, n + 1):
        async with node.sessions.begin() as session:
            await append(draft("READ", node.level, division), session=session, now=at(i))


async def verify_all(node: LevelNode) -> Any:
    async with node.sessions() as session:
        return await verify_chain(session=session, level=node.level.value)


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has one write lock per file")
async def test_two_divisions_append_while_each_holds_its_head(nodes: NodeRegistry) -> None:
    """The first appender holds its division's head (uncommitted); an appender to
    another division appends and commits meanwhile — were it blocked, its lock timeout
    would fail it — while one to the same division cannot get the head."""
    village = nodes[Level.VILLAGE]
    async with village.sessions.begin() as first:
        await append(draft("READ", Level.VILLAGE, VILLAGE), session=first, now=at(1))
        async with village.sessions.begin() as second:
            await second.execute(text("SET LOCAL lock_timeout = '5s'"))
            other = await append(
                draft("READ", Level.VILLAGE, OTHER_VILLAGE), session=second, now=at(2)
            )
        assert other.seq == 1
        with pytest.raises(DBAPIError, match="lock"):
            async with village.sessions.begin() as third:
                await third.execute(text("SET LOCAL lock_timeout = '50ms'"))
                await append(draft("READ", Level.VILLAGE, VILLAGE), session=third, now=at(3))
    report = await verify_all(village)
    assert report.valid and {(d.division_code, d.events) for d in report.divisions} == {
        (VILLAGE, 1),
        (OTHER_VILLAGE, 1),
    }


async def test_a_batch_of_reads_in_several_divisions_is_one_insert_per_batch(
    nodes: NodeRegistry,
) -> None:
    village = nodes[Level.VILLAGE]
    await record(village, VILLAGE, 2)
    batch = [
        (draft("READ", Level.VILLAGE, d), at(10 + i))
        for i, d in enumerate([OTHER_VILLAGE, VILLAGE, OTHER_VILLAGE])
    ]
    async with village.sessions.begin() as session:
        hashes = await append_many(batch, session=session)
    async with village.sessions() as session:
        stored = {
            (e.division_code, e.seq): e.hash for e in await session.scalars(select(AuditEvent))
        }
    assert hashes == [stored[(OTHER_VILLAGE, 1)], stored[(VILLAGE, 3)], stored[(OTHER_VILLAGE, 2)]]
    assert (await verify_all(village)).valid


# --- verification per division -------------------------------------------------------------


async def test_a_tampered_event_is_named_by_division_and_seq_while_others_verify(
    nodes: NodeRegistry,
) -> None:
    village = nodes[Level.VILLAGE]
    await record(village, VILLAGE, 4)
    await record(village, OTHER_VILLAGE, 4)
    async with village.sessions.begin() as session:
        await session.execute(
            update(AuditEvent)
            .where(AuditEvent.division_code == OTHER_VILLAGE, AuditEvent.seq == 3)
            .values(after="APPROVED")
        )
    report = await verify_all(village)
    assert not report.valid
    assert (report.division_code, report.problem, report.first_bad_seq) == (
        OTHER_VILLAGE,
        "TAMPERED",
        3,
    )
    by_division = {d.division_code: d for d in report.divisions}
    assert by_division[VILLAGE].valid and by_division[VILLAGE].events == 4
    assert not by_division[OTHER_VILLAGE].valid


# --- cross-links ---------------------------------------------------------------------------


async def hand_over(nodes: NodeRegistry) -> AuditEvent:
    """The village refers the case to the town: the town's first event records the
    village's REFER event, as the message carried it."""
    async with nodes[Level.VILLAGE].sessions.begin() as session:
        sent = await append(draft("REFER", Level.VILLAGE, VILLAGE), session=session, now=at(1))
    payload = carry_handover({"number": NUMBER}, sent)
    async with nodes[Level.TOWN].sessions.begin() as session:
        await append(
            draft("RECEIVE_REFERRAL", Level.TOWN, TOWN, detail=with_handover({}, payload)),
            session=session,
            now=at(2),
        )
    return sent


async def trail(nodes: NodeRegistry) -> list[AuditEvent]:
    rows: list[AuditEvent] = []
    for level in (Level.VILLAGE, Level.TOWN):
        async with nodes[level].sessions() as session:
            rows += (await session.scalars(select(AuditEvent))).all()
    return rows


async def links_of_store(nodes: NodeRegistry, level: Level) -> Any:
    async with nodes[level].sessions() as session:
        claims = await claims_in(session)

    async def lookup(level: str, division: str, seq: int) -> str | None:
        async with nodes[Level(level)].sessions() as session:
            return await sender_hash(session, division, seq)

    return await verify_links(claims, lookup)


async def test_a_hand_over_links_the_receivers_first_event_to_the_senders(
    nodes: NodeRegistry,
) -> None:
    sent = await hand_over(nodes)
    [report] = check_links(await trail(nodes))
    assert report.valid
    assert (report.claim.division, report.claim.seq) == (TOWN, 1)
    assert (report.claim.from_division, report.claim.from_seq) == (VILLAGE, sent.seq)
    assert [r.valid for r in await links_of_store(nodes, Level.TOWN)] == [True]


async def test_a_receiving_chain_forged_over_another_hash_is_a_broken_link(
    nodes: NodeRegistry,
) -> None:
    """Whoever rewrites the town's event to record another hand-over and re-links the
    town's chain and head (so that the town's chain verifies) still breaks the link."""
    await hand_over(nodes)
    town = nodes[Level.TOWN]
    async with town.sessions.begin() as session:
        event = await session.get(AuditEvent, (TOWN, 1))
        assert event is not None
        detail = dict(event.detail)
        detail["handover"] = {**detail["handover"], "hash": "f" * 64}
        event.detail = detail
        event.hash = link(GENESIS, canonical(TOWN, 1, event.at, event))
        head = await session.get(AuditHead, TOWN)
        assert head is not None
        head.hash = event.hash
    async with town.sessions() as session:
        assert (await verify_division(session=session, level="TOWN", division=TOWN)).valid
    [report] = check_links(await trail(nodes))
    assert (report.valid, report.problem) == (False, HASH_MISMATCH)
    [stored] = await links_of_store(nodes, Level.TOWN)
    assert (stored.valid, stored.problem) == (False, HASH_MISMATCH)


# --- the migration from one chain per store --------------------------------------------------


def _old_canonical(seq: int, at: dt.datetime, row: dict[str, Any]) -> bytes:
    body = {k: v for k, v in row.items() if k not in ("seq", "at", "prev_hash", "hash")}
    body |= {"seq": seq, "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds")}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def _to(revision: str) -> Any:
    def run(connection: Connection) -> None:
        cfg = migrate.alembic_config("levels")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    return run


@pytest.fixture
async def old_store(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A store at the release before (0023) whose one chain holds events of two
    divisions and one of none."""
    name = f"{pg.PREFIX}_oldchain_{uuid.uuid4().hex[:8]}"
    if BACKEND == "postgres":
        await pg.require_services()
        await pg.create_database(name)
        engine = create_async_engine(pg.async_url(name))
    else:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")

    def stored(when: dt.datetime) -> dt.datetime:
        # as the store's column type keeps it: SQLite has no offsets (UTC is stored)
        return when if BACKEND == "postgres" else when.astimezone(dt.UTC).replace(tzinfo=None)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0023"))
        prev, rows = GENESIS, []
        numbers = [NUMBER, f"{OTHER_VILLAGE}-20261120-00002", NUMBER, None]
        for seq, number in enumerate(numbers, start=1):
            when = at(seq)
            row: dict[str, Any] = {
                "seq": seq, "at": when, "actor_id": "a", "actor_kind": "STAFF", "role": None,
                "channel": "WEB", "org_code": None, "level": "VILLAGE", "action": "READ",
                "case_number": number, "before": None, "after": None, "detail": {"n": seq},
                "request_id": None,
            }  # fmt: skip
            row["prev_hash"] = prev
            row["hash"] = prev = hashlib.sha256(
                bytes.fromhex(prev) + _old_canonical(seq, when, row)
            ).hexdigest()
            rows.append(row)
        old = sa.table("audit_events", *(sa.column(k) for k in rows[0]))
        old.c.at.type, old.c.detail.type = sa.DateTime(timezone=True), sa.JSON()
        head = sa.table("audit_head", *(sa.column(k) for k in ("id", "seq", "hash", "signed_at")))
        head.c.signed_at.type = sa.DateTime(timezone=True)
        async with engine.begin() as conn:
            await conn.execute(sa.insert(old), [r | {"at": stored(r["at"])} for r in rows])
            await conn.execute(
                sa.insert(head), {"id": 1, "seq": 4, "hash": prev, "signed_at": stored(at(4))}
            )
        yield engine
    finally:
        await engine.dispose()
        if BACKEND == "postgres":
            await pg.drop_database(name)


async def test_a_store_with_one_chain_comes_out_of_its_upgrade_verifying(
    old_store: AsyncEngine,
) -> None:
    """After the upgrade each old event is in its division's chain, and each verifies."""
    async with old_store.begin() as conn:
        await conn.run_sync(_to("head"))
    async with old_store.connect() as conn:
        session = AsyncSession(bind=conn)
        report = await verify_chain(session=session, level="VILLAGE")
        await session.close()
    assert report.valid, report
    assert [(d.division_code, d.events) for d in report.divisions] == [
        ("000000000000", 1),
        (VILLAGE, 2),
        (OTHER_VILLAGE, 1),
    ]


async def test_a_store_whose_chain_does_not_verify_is_not_upgraded(
    old_store: AsyncEngine,
) -> None:
    """Re-linking a tampered chain would hide the tampering: the upgrade refuses it and
    leaves the store as it was."""
    async with old_store.begin() as conn:
        await conn.execute(text("UPDATE audit_events SET action = 'DECIDE' WHERE seq = 2"))
    with pytest.raises(RuntimeError, match="does not verify at seq 2"):
        async with old_store.begin() as conn:
            await conn.run_sync(_to("head"))
    assert await migrate.revision(old_store) == "0023"
