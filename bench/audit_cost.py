"""What audited staff reads and audited writes cost on PostgreSQL at 16 concurrent
clients, in transactions per second, on the county store of the demo city.

Run ``python -m bench.audit_cost`` (PostgreSQL from ``GOVHUB_BENCH_PG``, databases named
by ``GOVHUB_BENCH_PG_PREFIX``). It works against whichever ``levels`` package is first
on the path, so the release before one chain per division is measured by running the
same file with ``PYTHONPATH`` at a checkout of that release (``git worktree add``): it
then writes every event to the store's one chain, as that release does.

* ``staff-read``: a staff member's read of a case — the case read by key, then its READ
  event appended: before, in the reading session (head locked, event, head, commit),
  now handed to the store's group appender after the connection went back to the pool
  (``levels.audit.batch``), and also timed one read per transaction (``per-read``);
* ``write``: a case row locked and written, and its audit event appended, in one
  transaction.

``--raw``: the append alone in plain SQL over 16 asyncpg connections (lock the head,
INSERT the event, UPDATE the head, COMMIT), every event to one head (as one chain per
store) or to 16 (one per division), optionally with ``GOVHUB_BENCH_AUDIT_RTT_MS`` of
round trip added to every statement (a store some way off), as DESIGN §2 measured it.

``chain_cost`` (used by ``bench.topology``, the per-county section of ``make bench``)
times the same ops on a given county store with the 64 cases over 16 divisions or all in
one division, one shared chain head as one chain per store was, and the plain-SQL
append with 16 heads or one.

The store's pool holds 6 connections (the 16 clients share them). The cases are 64
copies of a demo case spread over 16 divisions (4 each); client i works on case i,
i + 16, … in turn."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select

from bench.backends import DEMO_NOW, PostgresBackend, open_stores
from gateway.nodes import LevelNode, NodeRegistry
from levels.audit import chain
from levels.cases import service as case_service
from levels.cases.models import Case
from levels.common.enums import Level

CLIENTS = 16
POOL = 6
DIVISIONS = 16
PER_DIVISION = 4
SECONDS = float(os.environ.get("GOVHUB_BENCH_AUDIT_SECONDS", "8"))
STAFF = case_service.Actor(id="bench-staff", kind="STAFF", role="SUPERVISOR", channel="WEB")
PER_DIVISION_CHAINS = hasattr(chain, "append_many")


async def _clone_cases(
    node: LevelNode, divisions: int = DIVISIONS, per_division: int = PER_DIVISION, first: int = 0
) -> list[str]:
    """64 cases over 16 divisions (or ``divisions`` × ``per_division`` from division
    number ``first``), copies of the store's first demo case."""
    async with node.sessions.begin() as session:
        model = await session.scalar(select(Case).order_by(Case.number).limit(1))
        assert model is not None, "the demo loads cases into the county store"
        fields = {a.key: getattr(model, a.key) for a in Case.__mapper__.column_attrs}
        numbers = []
        for d in range(first, first + divisions):
            division = f"1407021012{d:02d}"
            for i in range(per_division):
                number = f"{division}-20261120-{90000 + i:05d}"
                session.add(Case(**(fields | {"number": number, "division_code": division})))
                numbers.append(number)
    return numbers


async def _read_in_session(node: LevelNode, number: str) -> None:
    """The staff read as the release before did it: audited in the reading session."""
    async with node.sessions() as session:
        row = await session.get(Case, number)
        assert row is not None
        await case_service.record_event(
            session, row, STAFF, case_service.READ_ACTION, row.status, DEMO_NOW
        )
        await session.commit()


async def _read_grouped(node: LevelNode, number: str) -> None:
    """The staff read as ``Query.case`` does it now."""
    from levels.audit.batch import appender_for

    async with node.sessions() as session:
        row = await session.get(Case, number)
        assert row is not None
    draft = case_service.case_event(row, STAFF, case_service.READ_ACTION, row.status)
    await appender_for(node.sessions).append(draft, DEMO_NOW)


async def _write(node: LevelNode, number: str) -> None:
    async with node.sessions.begin() as session:
        row = await session.get(Case, number, with_for_update=True)
        assert row is not None
        row.version += 1
        await case_service.record_event(session, row, STAFF, "NOTE", row.status, DEMO_NOW)


async def _tps(
    node: LevelNode,
    numbers: list[str],
    op: Callable[[LevelNode, str], Awaitable[None]],
    seconds: float = SECONDS,
) -> float:
    stop = time.perf_counter() + seconds
    done = [0] * CLIENTS

    async def client(i: int) -> None:
        turn = i
        while time.perf_counter() < stop:
            await op(node, numbers[turn % len(numbers)])
            turn += CLIENTS
            done[i] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return sum(done) / (time.perf_counter() - started)


OPS: dict[str, Callable[[LevelNode, str], Awaitable[None]]] = {
    "staff-read, grouped (as Query.case)": _read_grouped,
    "staff-read, per-read transaction": _read_in_session,
    "write (case row + audit event)": _write,
}


@dataclass(frozen=True)
class ChainCost:
    """Transactions per second of each of ``OPS`` at 16 clients, the 64 cases spread over
    16 divisions (a chain each) or all in one division (one shared chain head, as one
    chain per store was), and the 1-minute load average when the row started."""

    shared: bool
    tps: dict[str, float]
    load: float
    # the append alone in plain SQL (``raw``: 16 connections, no RTT added)
    raw: float | None = None
    # why ``raw`` is missing
    problem: str | None = None


async def chain_cost(node: LevelNode, *, shared: bool, seconds: float) -> ChainCost:
    """``OPS`` on ``node``'s store (a county store with the demo loaded): 64 copies of a
    demo case in 16 divisions, or in one (division 16, so both can run on one store);
    each op warmed up for a quarter of ``seconds``, then timed ``seconds``."""
    if shared:
        numbers = await _clone_cases(node, 1, DIVISIONS * PER_DIVISION, first=DIVISIONS)
    else:
        numbers = await _clone_cases(node)
    load = os.getloadavg()[0]
    tps: dict[str, float] = {}
    for name, op in OPS.items():
        await _tps(node, numbers, op, seconds / 4)  # warm-up
        tps[name] = await _tps(node, numbers, op, seconds)
    appends = None
    if node.engine.url.get_backend_name() == "postgresql":
        import asyncpg

        url = node.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        heads = 1 if shared else DIVISIONS
        try:
            await raw(dsn, heads, 0.0, seconds / 4)  # warm-up
            appends = await raw(dsn, heads, 0.0, seconds)
        except (OSError, asyncpg.PostgresError) as exc:
            # 16 connections of its own: a server shared with other work may not have them
            return ChainCost(shared, tps, load, None, f"plain SQL appends not run: {exc}")
    return ChainCost(shared, tps, load, appends)


RAW_APPEND = (
    "SELECT seq, hash FROM audit_heads WHERE division_code = $1 FOR UPDATE",
    "INSERT INTO audit_events (division_code, seq, at, actor_id, actor_kind, level, action,"
    " detail, prev_hash, hash) VALUES ($1, $2, now(), 'bench', 'STAFF', 'COUNTY', 'READ',"
    " '{}', $3, $4)",
    "UPDATE audit_heads SET seq = $2, hash = $3 WHERE division_code = $1",
)


async def raw(url: str, heads: int, rtt: float, seconds: float = SECONDS) -> float:
    """Appends per second in plain SQL, 16 connections, over ``heads`` heads."""
    import asyncpg

    conns: list[asyncpg.Connection] = []
    try:
        for _ in range(CLIENTS):
            conns.append(await asyncpg.connect(url))
        names = [f"1407021012{d:02d}" for d in range(heads)]
        await conns[0].executemany(
            "INSERT INTO audit_heads (division_code, seq, hash, signed_at)"
            " VALUES ($1, 0, $2, now()) ON CONFLICT DO NOTHING",
            [(n, chain.GENESIS) for n in names],
        )
        stop = time.perf_counter() + seconds
        done = [0] * CLIENTS

        async def client(i: int) -> None:
            conn, turn = conns[i], i
            while time.perf_counter() < stop:
                division = names[turn % heads]
                async with conn.transaction():
                    await asyncio.sleep(rtt)  # BEGIN
                    head = await conn.fetchrow(RAW_APPEND[0], division)
                    await asyncio.sleep(rtt)
                    seq = head["seq"] + 1
                    new = chain.link(head["hash"], f"{division}:{seq}".encode())
                    await conn.execute(RAW_APPEND[1], division, seq, head["hash"], new)
                    await asyncio.sleep(rtt)
                    await conn.execute(RAW_APPEND[2], division, seq, new)
                    await asyncio.sleep(rtt)
                await asyncio.sleep(rtt)  # COMMIT
                turn += CLIENTS
                done[i] += 1

        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(CLIENTS)))
        return sum(done) / (time.perf_counter() - started)
    finally:
        for conn in conns:
            await conn.close()


async def main_raw() -> None:
    from levels.common import migrate

    backend = PostgresBackend()
    if reason := await backend.unavailable():
        sys.exit(reason)
    settings = await backend.settings()
    nodes = NodeRegistry.from_settings(settings)
    try:
        await migrate.upgrade(nodes[Level.COUNTY].engine, "levels")
        url = nodes[Level.COUNTY].engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        rtt = float(os.environ.get("GOVHUB_BENCH_AUDIT_RTT_MS", "0")) / 1000
        print(f"PostgreSQL, plain SQL appends, {CLIENTS} connections, {rtt * 1000:.0f} ms RTT")
        for heads in (1, DIVISIONS):
            await raw(dsn, heads, rtt)  # warm-up
            label = "one head (per store)" if heads == 1 else f"{heads} heads (per division)"
            print(f"  {label:<40} {await raw(dsn, heads, rtt):8.0f} tps")
    finally:
        await nodes.dispose()
        await backend.cleanup()


async def main() -> None:
    backend = PostgresBackend()
    if reason := await backend.unavailable():
        sys.exit(reason)
    # a pool smaller than the clients, as a hub under load has: who holds a connection
    # while waiting for a lock keeps the others waiting for the pool
    settings = (await backend.settings()).model_copy(
        update={"db_pool_size": POOL, "db_max_overflow": 0}
    )
    nodes, loaded = await open_stores(settings)
    try:
        node = nodes[Level.COUNTY]
        numbers = await _clone_cases(node)
        code = "one chain per division" if PER_DIVISION_CHAINS else "one chain per store"
        print(
            f"PostgreSQL, county store, {CLIENTS} clients, a pool of {POOL}, "
            f"{SECONDS:.0f}s each ({code})"
        )
        print(f"  {loaded}")
        runs: list[tuple[str, Callable[[LevelNode, str], Awaitable[None]]]] = [
            ("staff-read, per-read transaction", _read_in_session),
            ("write (case row + audit event)", _write),
        ]
        if PER_DIVISION_CHAINS:
            runs.insert(1, ("staff-read, grouped (as Query.case)", _read_grouped))
        for name, op in runs:
            await _tps(node, numbers, op)  # warm-up
            print(f"  {name:<40} {await _tps(node, numbers, op):8.0f} tps")
        async with node.sessions() as session:
            report = await chain.verify_chain(session=session, level="COUNTY")
        print(f"  chains valid: {report.valid} ({report.events} events)")
    finally:
        await nodes.dispose()
        await backend.cleanup()


if __name__ == "__main__":
    asyncio.run(main_raw() if "--raw" in sys.argv[1:] else main())
