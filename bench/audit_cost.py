"""What audited staff reads and audited writes cost on PostgreSQL at 16 concurrent
clients, in transactions per second, on the county store of the demo city.

Run ``python -m bench.audit_cost`` (PostgreSQL from ``GOVHUB_BENCH_PG``, databases named
by ``GOVHUB_BENCH_PG_PREFIX``). Each run times both layouts on one store: the 64
cases over 16 divisions (a chain each), and 64 more in one division — one shared chain
head, as the one chain per store before chains per division was.

* ``staff-read``: a staff member's read of a case — the case read by key, then its READ
  event appended: before, in the reading session (head locked, event, head, commit),
  now handed to the store's group appender after the connection went back to the pool
  (``levels.audit.batch``), and also timed one read per transaction (``per-read``);
* ``write``: a case row locked and written (its version counter moved), and its audit
  event appended, in one transaction, as a step does it.

``--raw``: the append alone in plain SQL over 16 asyncpg connections (lock the head,
INSERT the event, UPDATE the head, COMMIT), every event to one head (as one chain per
store) or to 16 (one per division), optionally with ``GOVHUB_BENCH_AUDIT_RTT_MS`` of
round trip added to every statement (a store some way off), as DESIGN §2 measured it.

``chain_cost`` (used by ``bench.topology``, the per-county section of ``make bench``)
times the same ops on a given county store with the 64 cases over 16 divisions or all in
one division, one shared chain head as one chain per store was, and the plain-SQL
append with 16 heads or one.

``--pool 6,16`` (the default): the store's pool, per run, with no overflow. The 16
clients share it; a pool smaller than the clients makes a client that waits for a lock
hold a connection others wait for. 16 is what a production node gives each worker per
store and more (``GOVHUB_DB_CONNECTION_BUDGET`` of 80 over one worker's five stores: 8 +
8), so it is sized for the clients; 6 is the pool of the earlier measurements.

``--rtt-ms 0,10`` (the default): the store as it is, and 10 ms away — the bench starts
a TCP proxy (``bench.delay``) in front of PostgreSQL that delays every packet half of it
each way, and points the county store's URL at it.

The cases are 64 copies of a demo case over 16 divisions (4 each); client i works on
the cases of division i in turn (as a desk of its division would: one chain per
division is one appender per chain), or with ``--mixed`` on case i, i + 16, … of the
list in division order, as earlier runs did: then clients 0–3 walk the same four
divisions in step, four appenders a chain."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.backends import DEMO_NOW, PostgresBackend, open_stores
from bench.delay import DelayProxy
from gateway.nodes import LevelNode, NodeRegistry
from gateway.settings import Settings
from levels.audit import chain
from levels.cases import service as case_service
from levels.cases.models import Case
from levels.common.enums import Level

CLIENTS = 16
# the pool of ``chain_cost``'s store in ``bench.topology`` (its servers share
# PostgreSQL's connections); ``main`` takes ``--pool``
POOL = 6
POOLS = (6, 16)
RTTS_MS = (0.0, 10.0)
DIVISIONS = 16
PER_DIVISION = 4
SECONDS = float(os.environ.get("GOVHUB_BENCH_AUDIT_SECONDS", "8"))
STAFF = case_service.Actor(id="bench-staff", kind="STAFF", role="SUPERVISOR", channel="WEB")


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


def one_division_a_client(numbers: list[str]) -> list[str]:
    """``_clone_cases``' numbers (division by division) in the order that makes client
    i (cases i, i + 16, …) work in division i alone."""
    per = len(numbers) // DIVISIONS
    return [numbers[d * per + i] for i in range(per) for d in range(DIVISIONS)]


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
    """A case's write as a step does it: the case locked (``load_case_for_update``),
    changed, and its event appended — on PostgreSQL the case's UPDATE goes in the
    append's statement (BEGIN, the case, the head, the append, COMMIT)."""
    async with node.sessions.begin() as session:
        row = await case_service.load_case_for_update(number, session=session)
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


def _numbers_arg(flag: str, default: tuple[float, ...]) -> tuple[float, ...]:
    args = sys.argv[1:]
    if flag not in args:
        return default
    return tuple(float(v) for v in args[args.index(flag) + 1].split(","))


def _proxied(url: str, port: int) -> str:
    """``url`` with its host and port those of the delay proxy."""
    parsed = make_url(url).set(host="127.0.0.1", port=port)
    return parsed.render_as_string(hide_password=False)


async def _round(
    settings: Settings, numbers: dict[str, list[str]], pool: int, rtt: float
) -> dict[str, dict[str, float]]:
    """Every op on both layouts, on the county store behind ``pool`` connections and
    ``rtt`` ms of round trip: tps by layout, then by op."""
    proxy = None
    url = settings.county_db_url
    assert url is not None, "the PostgreSQL backend names every store"
    if rtt > 0:
        parsed = make_url(url)
        proxy = DelayProxy(parsed.host or "127.0.0.1", parsed.port or 5432, rtt / 2000)
        url = _proxied(url, await proxy.start())
    sized = settings.model_copy(
        update={"db_pool_size": pool, "db_max_overflow": 0, "county_db_url": url}
    )
    nodes = NodeRegistry.from_settings(sized)
    try:
        node = nodes[Level.COUNTY]
        found: dict[str, dict[str, float]] = {}
        for layout, cases in numbers.items():
            found[layout] = {}
            for name, op in OPS.items():
                await _tps(node, cases, op, SECONDS / 4)  # warm-up
                cpu = time.process_time()
                found[layout][name] = tps = await _tps(node, cases, op)
                # the bench's own CPU per operation: a client starved of a core is
                # bound by it, not by the store
                per_op = (time.process_time() - cpu) / max(1.0, tps * SECONDS) * 1000
                print(
                    f"    {layout:<14} {name:<40} {tps:8.0f} tps, {per_op:.2f} ms of CPU an op",
                    flush=True,
                )
        return found
    finally:
        await nodes.dispose()
        if proxy is not None:
            await proxy.close()


async def main() -> None:
    backend = PostgresBackend()
    if reason := await backend.unavailable():
        sys.exit(reason)
    settings = await backend.settings()
    pools = [int(p) for p in _numbers_arg("--pool", POOLS)]
    rtts = _numbers_arg("--rtt-ms", RTTS_MS)
    nodes, loaded = await open_stores(settings)
    try:
        node = nodes[Level.COUNTY]
        spread = await _clone_cases(node)
        if "--mixed" not in sys.argv[1:]:
            spread = one_division_a_client(spread)
        one = await _clone_cases(node, 1, DIVISIONS * PER_DIVISION, first=DIVISIONS)
    finally:
        await nodes.dispose()
    numbers = {"shared head": one, "per division": spread}
    try:
        walk = "four clients a division" if "--mixed" in sys.argv[1:] else "a division a client"
        print(f"PostgreSQL, county store, {CLIENTS} clients ({walk}), {SECONDS:.0f}s each")
        print(f"  {loaded}")
        rows = []
        for rtt in rtts:
            for pool in pools:
                print(f"  {rtt:.0f} ms round trip added, a pool of {pool}", flush=True)
                rows.append((rtt, pool, await _round(settings, numbers, pool, rtt)))
        print("| round trip added | pool | " + " | ".join(OPS) + " |")
        for rtt, pool, found in rows:
            ratios = [found["per division"][n] / found["shared head"][n] for n in OPS]
            cells = [
                f"{found['shared head'][n]:,.0f} → {found['per division'][n]:,.0f} ({r:.1f}×)"
                for n, r in zip(OPS, ratios, strict=True)
            ]
            print(f"| {rtt:.0f} ms | {pool} | " + " | ".join(cells) + " |")
        nodes = NodeRegistry.from_settings(settings)
        try:
            async with nodes[Level.COUNTY].sessions() as session:
                report = await chain.verify_chain(session=session, level="COUNTY")
            print(f"  chains valid: {report.valid} ({report.events} events)")
        finally:
            await nodes.dispose()
    finally:
        await backend.cleanup()


if __name__ == "__main__":
    asyncio.run(main_raw() if "--raw" in sys.argv[1:] else main())
