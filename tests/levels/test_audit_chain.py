"""The audit trail's hash chain, checked the way an auditor would: every event links to
the one before, any change, deletion or reordering of rows is found at the exact
event, an action rolled back leaves no event, concurrent appenders never fork the
chain, the head's signature verifies with the hub's keys, and ``govhub audit verify``
says which store is broken.

The chain tests run on fresh stores of their own (SQLite files, or new PostgreSQL
databases in the PostgreSQL pass), never on the session's shared demo stores; each
test starts from an empty chain in the city store. The CLI tests are plain functions
(the command runs ``asyncio.run`` itself) on SQLite stores made by ``govhub init``."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr
from sqlalchemy import delete, select, text

from auth.keys import KeyRing
from gateway.cli import main
from gateway.nodes import LevelNode, NodeRegistry
from gateway.settings import Settings
from levels.audit import chain
from levels.audit.chain import (
    GENESIS,
    ChainReport,
    EventDraft,
    KeyRingSigner,
    append,
    canonical,
    link,
    sign_head,
    verify_chain,
    verify_division,
    verify_head_signature,
)
from levels.audit.models import AuditEvent, AuditHead
from levels.common.clock import CHINA, FixedClock
from levels.common.enums import Level
from levels.common.models import Division
from tests.conftest import BACKEND, DEMO_NOW, make_registry
from tests.support import pg

T = TypeVar("T")

CITY = Level.CITY.value
# the division of the city's cases in ``draft``: their numbers name it
DIVISION = "140700000000"
SECRET = "audit-chain-test-secret"
STORES = ("city", "county", "town", "village", "identity")


def draft(i: int, **changes: Any) -> EventDraft:
    """The i-th step of a case, as a clerk at the city centre takes it."""
    event = EventDraft(
        actor_id=f"acct-{i % 3}",
        actor_kind="STAFF",
        role="RECEPTIONIST",
        channel="WINDOW",
        org_code="11140700MB0000000X",
        level=CITY,
        action="ACCEPT" if i % 2 else "SUBMIT",
        case_number=f"1407000000002026112000{i:05d}",
        before="SUBMITTED" if i % 2 else None,
        after="ACCEPTED" if i % 2 else "SUBMITTED",
        detail={"materials": [f"材料{i}", "身份证"], "note": {"z": i, "a": [1.5, None]}},
        request_id=f"req-{i}",
    )
    return dataclasses.replace(event, **changes)


def at(i: int) -> dt.datetime:
    # microseconds, in China time: both must survive the store
    return DEMO_NOW + dt.timedelta(seconds=i, microseconds=123_457)


@pytest.fixture(scope="module")
async def stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("audit-chain"), "audit" + uuid.uuid4().hex[:8]
    )
    try:
        yield settings, nodes
    finally:
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


@pytest.fixture
async def node(stores: tuple[Settings, NodeRegistry]) -> LevelNode:
    """The city store of the fresh registry, with an empty audit trail."""
    city = stores[1][Level.CITY]
    async with city.sessions.begin() as session:
        await session.execute(delete(AuditEvent))
        await session.execute(delete(AuditHead))
    return city


async def record(node: LevelNode, n: int, *, start: int = 1) -> None:
    """``n`` events, each appended and committed in a transaction of its own."""
    for i in range(start, start + n):
        async with node.sessions.begin() as session:
            await append(draft(i), session=session, now=at(i))


async def verify(node: LevelNode, **kwargs: Any) -> ChainReport:
    """The city division's chain (every event of ``draft`` goes there)."""
    async with node.sessions() as session:
        return await verify_division(session=session, level=CITY, division=DIVISION, **kwargs)


async def sql(node: LevelNode, statement: str, **params: Any) -> None:
    """A raw SQL statement, as someone with write access to the store would run it."""
    async with node.sessions.begin() as session:
        await session.execute(text(statement), params)


async def rows(node: LevelNode) -> list[Any]:
    async with node.sessions() as session:
        table = AuditEvent.__table__
        return list((await session.execute(select(table).order_by(table.c.seq))).all())


async def head_of(node: LevelNode) -> AuditHead | None:
    async with node.sessions() as session:
        return await session.get(AuditHead, DIVISION)


def broken(report: ChainReport, problem: str | set[str], seq: int) -> None:
    problems = {problem} if isinstance(problem, str) else problem
    assert not report.valid, report
    assert report.problem in problems, report
    assert report.first_bad_seq == seq, report


# --- the chain ---------------------------------------------------------------------------


async def test_an_empty_chain_verifies(node: LevelNode) -> None:
    assert await verify(node) == ChainReport(
        valid=True,
        events=0,
        first_bad_seq=None,
        problem=None,
        head_signed=False,
        division_code=DIVISION,
    )


async def test_fifty_appends_link_each_event_to_the_one_before(node: LevelNode) -> None:
    await record(node, 50)
    events = await rows(node)
    assert [e.seq for e in events] == list(range(1, 51))
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    for e in events:  # each hash recomputes from what the store holds
        assert e.hash == link(e.prev_hash, canonical(e.division_code, e.seq, e.at, e))
        assert e.at == at(e.seq) and e.at.utcoffset() == dt.timedelta(0)
    assert events[4].detail == draft(5).detail and events[4].case_number == draft(5).case_number
    head = await head_of(node)
    assert head is not None and (head.seq, head.hash) == (50, events[-1].hash)
    assert await verify(node) == ChainReport(
        valid=True,
        events=50,
        first_bad_seq=None,
        problem=None,
        head_signed=False,
        division_code=DIVISION,
    )


async def test_canonical_form_is_independent_of_key_order_and_time_zone() -> None:
    one = draft(1, detail={"b": 1, "a": {"y": 2, "x": 3}})
    other = draft(1, detail={"a": {"x": 3, "y": 2}, "b": 1})
    instant = dt.datetime(2026, 11, 20, 10, 0, 0, 5, tzinfo=CHINA)
    assert canonical(DIVISION, 7, instant, one) == canonical(
        DIVISION, 7, instant.astimezone(dt.UTC), other
    )
    assert b'"at":"2026-11-20T02:00:00.000005+00:00"' in canonical(DIVISION, 7, instant, one)
    assert canonical(DIVISION, 7, instant, one) != canonical(DIVISION, 8, instant, one)
    with pytest.raises(ValueError):
        canonical(DIVISION, 7, instant.replace(tzinfo=None), one)


async def test_a_changed_detail_is_tampered_at_that_event(node: LevelNode) -> None:
    await record(node, 30)
    await sql(node, """UPDATE audit_events SET detail = '{"materials": []}' WHERE seq = 17""")
    broken(await verify(node), "TAMPERED", 17)


async def test_a_changed_status_is_tampered_at_that_event(node: LevelNode) -> None:
    await record(node, 30)
    await sql(
        node, "UPDATE audit_events SET after = :after WHERE seq = :seq", after="REJECTED", seq=9
    )
    report = await verify(node)
    broken(report, "TAMPERED", 9)
    assert report.events == 30  # every row is still counted


async def test_a_deleted_middle_event_is_found_at_the_next(node: LevelNode) -> None:
    await record(node, 30)
    await sql(node, "DELETE FROM audit_events WHERE seq = 12")
    broken(await verify(node), {"GAP", "BROKEN_LINK"}, 13)


async def test_a_deleted_and_renumbered_event_breaks_the_link(node: LevelNode) -> None:
    # the gap closed up: every seq from 12 on moved down by one
    await record(node, 20)
    await sql(node, "DELETE FROM audit_events WHERE seq = 12")
    for seq in range(13, 21):
        await sql(node, "UPDATE audit_events SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    await sql(node, "UPDATE audit_heads SET seq = 19")
    broken(await verify(node), {"BROKEN_LINK", "TAMPERED"}, 12)


async def test_swapped_events_are_found_at_the_first_of_them(node: LevelNode) -> None:
    await record(node, 30)
    await sql(node, "UPDATE audit_events SET seq = -1 WHERE seq = 21")
    await sql(node, "UPDATE audit_events SET seq = 21 WHERE seq = 20")
    await sql(node, "UPDATE audit_events SET seq = 20 WHERE seq = -1")
    broken(await verify(node), {"BROKEN_LINK", "TAMPERED"}, 20)


async def test_a_deleted_last_event_is_a_head_mismatch(node: LevelNode) -> None:
    await record(node, 30)
    await sql(node, "DELETE FROM audit_events WHERE seq = 30")
    report = await verify(node)
    broken(report, "HEAD_MISMATCH", 30)
    assert report.events == 29


async def test_an_event_added_behind_the_heads_back_is_a_head_mismatch(node: LevelNode) -> None:
    await record(node, 10)
    forged = draft(11)
    fields = {f.name: getattr(forged, f.name) for f in dataclasses.fields(forged)}
    fields["division_code"] = DIVISION
    prev = (await rows(node))[-1].hash
    forged_hash = link(prev, canonical(DIVISION, 11, at(11), forged))
    async with node.sessions.begin() as session:
        session.add(AuditEvent(seq=11, at=at(11), prev_hash=prev, hash=forged_hash, **fields))
    broken(await verify(node), "HEAD_MISMATCH", 11)


async def test_a_consistently_forged_event_breaks_the_next_link(node: LevelNode) -> None:
    await record(node, 30)
    row = (await rows(node))[14]
    assert row.seq == 15
    forged = SimpleNamespace(**{**row._asdict(), "after": "APPROVED"})
    new_hash = link(row.prev_hash, canonical(DIVISION, row.seq, row.at, forged))
    await sql(
        node,
        "UPDATE audit_events SET after = 'APPROVED', hash = :hash WHERE seq = 15",
        hash=new_hash,
    )
    broken(await verify(node), "BROKEN_LINK", 16)


async def test_a_chain_longer_than_a_batch_is_read_in_batches(
    node: LevelNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chain, "BATCH", 7)
    await record(node, 50)
    assert (await verify(node)).events == 50 and (await verify(node)).valid
    await sql(node, "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = 36")
    broken(await verify(node), "TAMPERED", 36)


# --- transactions and concurrency --------------------------------------------------------


class Boom(Exception):
    pass


async def test_a_rolled_back_action_leaves_neither_event_nor_moved_head(node: LevelNode) -> None:
    await record(node, 3)
    before = await head_of(node)
    division = Division(code="149900000000", name="试验区", level=Level.CITY, parent_code=None)
    with pytest.raises(Boom):
        async with node.sessions.begin() as session:
            session.add(division)  # the caller's own change ...
            await session.flush()
            event = await append(draft(4), session=session, now=at(4))  # ... and its event
            assert event.seq == 4
            raise Boom
    after = await head_of(node)
    assert before is not None and after is not None
    assert (after.seq, after.hash) == (before.seq, before.hash) == (3, (await rows(node))[-1].hash)
    async with node.sessions() as session:
        assert await session.get(Division, "149900000000") is None
    assert len(await rows(node)) == 3
    assert (await verify(node)).valid
    # the next append continues from the committed head
    await record(node, 1, start=4)
    assert [e.seq for e in await rows(node)] == [1, 2, 3, 4]
    assert (await verify(node)).valid


async def test_a_rolled_back_first_append_leaves_no_head(node: LevelNode) -> None:
    async with node.sessions() as session, session.begin():
        await append(draft(1), session=session, now=at(1))
        await session.rollback()
    assert await head_of(node) is None
    assert await rows(node) == []
    assert (await verify(node)).valid


async def test_concurrent_appenders_never_fork_the_chain(node: LevelNode) -> None:
    """Twenty appenders, each in a session and transaction of its own, first on an
    empty store (all race to create the head), then on a chain that has one."""

    async def appender(i: int) -> int:
        async with node.sessions.begin() as session:
            event = await append(draft(i), session=session, now=at(i))
            await asyncio.sleep(0)  # let the others run while this one holds the head
            return event.seq

    for start in (1, 21):
        seqs = await asyncio.gather(*(appender(i) for i in range(start, start + 20)))
        assert sorted(seqs) == list(range(start, start + 20))
    events = await rows(node)
    assert [e.seq for e in events] == list(range(1, 41))
    assert len({e.prev_hash for e in events}) == 40  # no two events share a parent
    assert await verify(node) == ChainReport(
        valid=True,
        events=40,
        first_bad_seq=None,
        problem=None,
        head_signed=False,
        division_code=DIVISION,
    )


# --- the signed head -------------------------------------------------------------------


@pytest.fixture
async def ring(stores: tuple[Settings, NodeRegistry]) -> KeyRing:
    settings, nodes = stores
    return KeyRing(nodes.identity, secret=settings.identity_secret(), clock=FixedClock(DEMO_NOW))


async def sign(node: LevelNode, ring: KeyRing) -> None:
    async with node.sessions.begin() as session:
        await sign_head(session=session, signer=KeyRingSigner(ring), level=CITY, now=at(100))


async def test_a_signed_head_verifies_with_the_hubs_key(node: LevelNode, ring: KeyRing) -> None:
    await record(node, 5)
    await sign(node, ring)
    kid = (await ring.signing_key()).kid
    head = await head_of(node)
    assert head is not None and head.kid == kid and head.signed_at == at(100)
    public = await ring.public_key(kid)
    assert public is not None and verify_head_signature(head, CITY, public)
    assert not verify_head_signature(head, Level.COUNTY.value, public)  # another node's head
    report = await verify(node, public_key_for=ring.public_key)
    assert report == ChainReport(
        valid=True,
        events=5,
        first_bad_seq=None,
        problem=None,
        head_signed=True,
        head_kid=kid,
        division_code=DIVISION,
    )


async def test_an_empty_chains_head_can_be_signed(node: LevelNode, ring: KeyRing) -> None:
    await sign(node, ring)
    async with node.sessions() as session:
        report = await verify_chain(session=session, level=CITY, public_key_for=ring.public_key)
    assert report.valid and report.events == 0 and report.head_signed
    assert [d.division_code for d in report.divisions] == [chain.NODE_DIVISION]


async def test_an_altered_signature_is_bad(node: LevelNode, ring: KeyRing) -> None:
    await record(node, 5)
    await sign(node, ring)
    head = await head_of(node)
    assert head is not None and head.signature is not None
    flipped = ("A" if head.signature[0] != "A" else "B") + head.signature[1:]
    await sql(node, "UPDATE audit_heads SET signature = :s", s=flipped)
    report = await verify(node, public_key_for=ring.public_key)
    broken(report, "BAD_SIGNATURE", 5)
    assert not report.head_signed
    await sql(node, "UPDATE audit_heads SET signature = 'not base64!'")
    broken(await verify(node, public_key_for=ring.public_key), "BAD_SIGNATURE", 5)


async def test_a_head_signed_by_an_unknown_key_is_bad(node: LevelNode, ring: KeyRing) -> None:
    await record(node, 2)
    await sign(node, ring)
    await sql(node, "UPDATE audit_heads SET kid = 'no-such-key'")
    broken(await verify(node, public_key_for=ring.public_key), "BAD_SIGNATURE", 2)


async def test_a_head_moved_back_over_its_signature_is_found(
    node: LevelNode, ring: KeyRing
) -> None:
    # trailing events deleted and the head set back to match: the signature gives it away
    await record(node, 5)
    await sign(node, ring)
    last_kept = (await rows(node))[2]
    await sql(node, "DELETE FROM audit_events WHERE seq > 3")
    await sql(node, "UPDATE audit_heads SET seq = 3, hash = :h", h=last_kept.hash)
    broken(await verify(node, public_key_for=ring.public_key), "BAD_SIGNATURE", 3)
    assert (await verify(node)).valid  # without the keys only the chain is checked


async def test_an_append_after_signing_leaves_the_head_unsigned(
    node: LevelNode, ring: KeyRing
) -> None:
    await record(node, 5)
    await sign(node, ring)
    await record(node, 1, start=6)
    report = await verify(node, public_key_for=ring.public_key)
    assert report.valid and report.events == 6 and not report.head_signed
    await sign(node, ring)
    assert (await verify(node, public_key_for=ring.public_key)).head_signed


# --- govhub audit verify -------------------------------------------------------------------


def env_for(var: Path) -> dict[str, str | None]:
    """SQLite stores under ``var``, this secret and clock; nothing of the surrounding
    environment (another backend, Redis) leaks in."""
    return {
        "GOVHUB_MODE": "dev",
        "GOVHUB_VAR_DIR": str(var),
        "GOVHUB_SECRET_KEY": SECRET,
        "GOVHUB_CLOCK_OVERRIDE": DEMO_NOW.isoformat(),
        "GOVHUB_REDIS_URL": None,
        "REDIS_URL": None,
        **{f"GOVHUB_{store.upper()}_DB_URL": None for store in STORES},
    }


def govhub(var: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env_for(var))


def with_stores(var: Path, fn: Callable[[NodeRegistry, Settings], Awaitable[T]]) -> T:
    settings = Settings(
        var_dir=var,
        secret_key=SecretStr(SECRET),
        clock_override=DEMO_NOW,
        redis_url=None,
        **{f"{store}_db_url": None for store in STORES},
    )

    async def run() -> T:
        nodes = NodeRegistry.from_settings(settings)
        try:
            return await fn(nodes, settings)
        finally:
            await nodes.dispose()

    return asyncio.run(run())


def test_cli_audit_verify_passes_on_fresh_stores(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert govhub(var, "init").exit_code == 0
    result = govhub(var, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        *(
            f"{level}: 0 events in 0 division chain(s)"
            for level in ("CITY", "COUNTY", "TOWN", "VILLAGE")
        ),
        "links: 0 cross-link(s), 0 broken",
    ]


def test_cli_audit_verify_names_the_tampered_event(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert govhub(var, "init").exit_code == 0

    async def record_and_sign(nodes: NodeRegistry, settings: Settings) -> str:
        county = nodes[Level.COUNTY]
        for i in range(1, 6):
            async with county.sessions.begin() as session:
                await append(draft(i, level="COUNTY"), session=session, now=at(i))
        ring = KeyRing(
            nodes.identity, secret=settings.identity_secret(), clock=FixedClock(DEMO_NOW)
        )
        async with county.sessions.begin() as session:
            await sign_head(session=session, signer=KeyRingSigner(ring), level="COUNTY")
        return (await ring.signing_key()).kid

    kid = with_stores(var, record_and_sign)
    result = govhub(var, "audit", "verify")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "COUNTY: 5 events in 1 division chain(s)" in lines
    assert f"  COUNTY {DIVISION}: 5 events, chain valid, head signed by {kid}" in lines

    with sqlite3.connect(var / "county.sqlite3") as db:
        db.execute("UPDATE audit_events SET after = 'APPROVED' WHERE seq = 3")
    db.close()
    result = govhub(var, "audit", "verify")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert f"  COUNTY {DIVISION}: TAMPERED at event 3" in lines
    assert f"first failure: COUNTY {DIVISION}: TAMPERED at event 3" in lines
    assert "CITY: 0 events in 0 division chain(s)" in lines
    assert "Traceback" not in result.output

    only_city = govhub(var, "audit", "verify", "--level", "city")
    assert only_city.exit_code == 0, only_city.output
    assert only_city.output.splitlines() == [
        "CITY: 0 events in 0 division chain(s)",
        "links: 0 cross-link(s), 0 broken",
    ]
    only_county = govhub(var, "audit", "verify", "--level", "COUNTY")
    assert only_county.exit_code == 1
    assert (
        only_county.output.splitlines()[-1]
        == f"first failure: COUNTY {DIVISION}: TAMPERED at event 3"
    )


def test_cli_audit_verify_refuses_stores_not_initialised(tmp_path: Path) -> None:
    result = govhub(tmp_path / "var", "audit", "verify")
    assert result.exit_code == 1
    assert "govhub init" in result.output and "Traceback" not in result.output
