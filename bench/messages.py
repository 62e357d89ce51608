"""Cross-node message throughput over NATS JetStream (``make bench``'s message section;
``python -m bench --only messages``): how many messages a second go from the village
node to the county node, and from the county node to the city node — written in the
source outbox, signed, published, verified, applied in the target (inbox row and the
handler's audit event, in order per entity), the signed receipt back and kept
(ACKNOWLEDGED) — with one worker process and with two (``govhub relay`` replicas on the
same durable consumers), the worker next to NATS and PostgreSQL, and with a delay added
each way between the worker and both of them by ``bench.delay.DelayProxy`` (there is no
netem here).

The messages are written before the clock starts, two per entity (an ordered pair, as
a grant and its revocation); the handler appends one audit event, so what is timed is
the transport and the target's transaction, not a heavy handler. Each run checks that
every message was applied exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import multiprocessing
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.backends import PG_ADMIN, PG_PREFIX, STORES, _async_url
from bench.delay import DelayProxy
from gateway.messaging.factory import messenger_for
from gateway.messaging.jetstream import JetStreamTransport
from gateway.nodes import NodeRegistry
from gateway.settings import Mode, Settings
from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditEvent
from levels.common import migrate
from levels.common.clock import Clock
from levels.common.enums import Level
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.service import Envelope, enqueue, handler

TOPIC = "bench.message"
BARE = "bench.bare"  # a handler that writes nothing: the transport and the inbox alone
NOTED = "BENCH_MESSAGE_APPLIED"
NATS_URL = os.environ.get("GOVHUB_BENCH_NATS", "nats://127.0.0.1:4222")
MESSAGES = 200
DELAY_MS = 10.0
ROUTES = (
    (Level.VILLAGE, Level.COUNTY, "140702101201"),
    (Level.COUNTY, Level.CITY, "140702000000"),
)
TIMEOUT = 300.0


@handler(TOPIC)
async def note(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """One audit event in the target's chain, naming the message."""
    await append(
        EventDraft(
            actor_id="bench",
            actor_kind="SYSTEM",
            role=None,
            channel="SYSTEM",
            org_code=None,
            level=envelope.target_level.value,
            action=NOTED,
            detail={"message": envelope.id},
        ),
        session=session,
        now=now,
    )


@handler(BARE)
async def bare(_session: AsyncSession, _envelope: Envelope, _now: dt.datetime) -> None:
    return None


@dataclass(frozen=True)
class Run:
    route: str
    handler: str
    workers: int
    delay_ms: float
    messages: int
    seconds: float
    # where the added delay sits: between the worker and NATS and its stores (a worker
    # far from everything), or only between the worker and NATS (as deployed: a node's
    # worker beside its own store, the link between machine rooms to NATS)
    delayed: str = "NATS + stores"

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


@dataclass
class MessageBench:
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None


def _settings(
    urls: dict[str, str], nats_url: str, stream: str, secret: str, pool: int = 8
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        mode=Mode.PROD,
        secret_key=SecretStr(secret),
        message_transport="nats",
        nats_url=nats_url,
        nats_stream=stream,
        nats_subject_prefix=stream.lower().replace("-", "_"),
        message_nak_delay_seconds=0.05,
        message_ack_wait_seconds=30,
        db_pool_size=pool,
        db_max_overflow=0,
        sql_echo=False,
        **urls,  # type: ignore[arg-type]
    )


def _worker(config: dict[str, Any], ready: Any, go: Any, stop: Any) -> None:
    asyncio.run(_work(config, ready, go, stop))


async def _work(config: dict[str, Any], ready: Any, go: Any, stop: Any) -> None:
    settings = _settings(config["urls"], config["nats"], config["stream"], config["secret"])
    nodes = NodeRegistry.from_settings(settings)
    messenger = messenger_for(settings, nodes, Clock())
    try:
        await messenger.start()
        ready.set()
        await asyncio.to_thread(go.wait)
        while not stop.is_set():
            done = await messenger.once()
            if not done.moved:
                await asyncio.sleep(0.005)
    finally:
        await messenger.transport.close()
        await nodes.dispose()


def _via(url: str, port: int) -> str:
    """``url`` with its host:port replaced by the proxy's."""
    scheme, rest = url.split("://", 1)
    userinfo, _, after = rest.rpartition("@")
    _, _, path = after.partition("/")
    auth = f"{userinfo}@" if userinfo else ""
    return f"{scheme}://{auth}127.0.0.1:{port}/{path}"


async def _seed(
    nodes: NodeRegistry,
    source: Level,
    target: Level,
    division: str,
    tag: str,
    count: int,
    topic: str = TOPIC,
) -> None:
    now = dt.datetime.now(dt.UTC)
    async with nodes[source].sessions.begin() as session:
        for n in range(count):
            await enqueue(
                session,
                topic=topic,
                source=source,
                target=target,
                payload={"n": n},
                now=now,
                division_code=division,
                entity=f"{tag}:{n // 2}",
            )


async def _acknowledged(nodes: NodeRegistry, source: Level, tag: str) -> int:
    async with nodes[source].sessions() as session:
        found = await session.scalar(
            select(func.count()).where(
                OutboxMessage.entity.startswith(f"{tag}:"),
                OutboxMessage.state == MessageState.ACKNOWLEDGED,
            )
        )
    return int(found or 0)


async def _applied_once(
    nodes: NodeRegistry, target: Level, tag: str, count: int, *, audited: bool
) -> None:
    async with nodes[target].sessions() as session:
        inbox = await session.scalar(
            select(func.count()).where(InboxMessage.entity.startswith(f"{tag}:"))
        )
        ids = set(
            await session.scalars(
                select(InboxMessage.id).where(InboxMessage.entity.startswith(f"{tag}:"))
            )
        )
        noted = [
            d["message"]
            for d in await session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == NOTED)
            )
            if d["message"] in ids
        ]
    if not audited:
        noted = list(ids)
    if inbox != count or len(noted) != count or set(noted) != ids:
        raise RuntimeError(f"{tag}: {inbox} in the inbox, {len(noted)} applied, {count} sent")


async def _one_run(
    nodes: NodeRegistry,
    urls: dict[str, str],
    route: tuple[Level, Level, str],
    workers: int,
    delay_ms: float,
    count: int,
    secret: str,
    topic: str = TOPIC,
    stores_delayed: bool = True,
) -> Run:
    source, target, division = route
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    stream = f"GOVHUB_BENCH_{tag.upper().replace('-', '_')}"
    await _seed(nodes, source, target, division, tag, count, topic)
    proxies: list[DelayProxy] = []
    nats_url, worker_urls = NATS_URL, dict(urls)
    if delay_ms > 0:
        host, port = NATS_URL.split("://", 1)[1].rsplit(":", 1)
        nats_proxy = DelayProxy(host, int(port), delay_ms / 1000)
        nats_url = f"nats://127.0.0.1:{await nats_proxy.start()}"
        proxies = [nats_proxy]
    if delay_ms > 0 and stores_delayed:
        pg_host, pg_port = PG_ADMIN.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)
        pg_proxy = DelayProxy(pg_host, int(pg_port), delay_ms / 1000)
        pg_port_local = await pg_proxy.start()
        worker_urls = {k: _via(v, pg_port_local) for k, v in urls.items()}
        proxies.append(pg_proxy)
    context = multiprocessing.get_context("spawn")
    go, stop = context.Event(), context.Event()
    readies = [context.Event() for _ in range(workers)]
    config = {"urls": worker_urls, "nats": nats_url, "stream": stream, "secret": secret}
    procs = [
        context.Process(target=_worker, args=(config, ready, go, stop), daemon=True)
        for ready in readies
    ]
    for proc in procs:
        proc.start()
    try:
        deadline = time.monotonic() + 60
        while not all(r.is_set() for r in readies):
            if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
                raise RuntimeError("a message worker did not start")
            await asyncio.sleep(0.02)
        started = time.perf_counter()
        go.set()
        while await _acknowledged(nodes, source, tag) < count:
            if time.perf_counter() - started > TIMEOUT:
                raise RuntimeError(f"{tag}: not all acknowledged within {TIMEOUT:g}s")
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - started
    finally:
        stop.set()
        go.set()
        for proc in procs:
            await asyncio.to_thread(proc.join, 10)
            if proc.is_alive():
                proc.kill()
        for proxy in proxies:
            await proxy.close()
        transport = JetStreamTransport(NATS_URL, stream=stream)
        with contextlib.suppress(Exception):  # the stream may never have been made
            await transport.delete_stream()
        await transport.close()
    await _applied_once(nodes, target, tag, count, audited=topic == TOPIC)
    name = f"{source.value.lower()} → {target.value.lower()}"
    kind = "audit event" if topic == TOPIC else "inbox row only"
    delayed = "NATS + stores" if stores_delayed else "NATS"
    return Run(name, kind, workers, delay_ms, count, seconds, delayed)


async def _databases() -> dict[str, str]:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    urls: dict[str, str] = {}
    try:
        for store in STORES:
            database = f"{PG_PREFIX}_msg_{store}"
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{database}"')
            urls[f"{store}_db_url"] = _async_url(PG_ADMIN, database)
    finally:
        await conn.close()
    return urls


async def _drop() -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        for store in STORES:
            await conn.execute(f'DROP DATABASE IF EXISTS "{PG_PREFIX}_msg_{store}" WITH (FORCE)')
    finally:
        await conn.close()


async def measure_messages(
    say: Any, *, count: int = MESSAGES, delays: tuple[float, ...] = (0.0, DELAY_MS)
) -> MessageBench:
    try:
        probe = JetStreamTransport(NATS_URL, stream="probe")
        await probe.connect()
        await probe.close()
        urls = await _databases()
    except Exception as exc:
        return MessageBench(skipped=f"NATS at {NATS_URL} or PostgreSQL not reachable ({exc!r})")
    secret = secrets.token_urlsafe(32)
    settings = _settings(urls, NATS_URL, "unused", secret, pool=2)
    nodes = NodeRegistry.from_settings(settings)
    result = MessageBench()
    try:
        for node in nodes:
            await migrate.upgrade(node.engine, "levels")
        plan = [
            (route, workers, delay, TOPIC, True)
            for delay in delays
            for route in ROUTES
            for workers in (1, 2)
        ]
        # the transport alone (a handler writing nothing but the inbox row), at a distance
        plan += [(ROUTES[0], workers, delays[-1], BARE, True) for workers in (1, 2)]
        # as deployed: each node's worker beside its store, only NATS at a distance
        if delays[-1] > 0:
            plan += [
                (route, workers, delays[-1], TOPIC, False) for route in ROUTES for workers in (1, 2)
            ]
        for route, workers, delay, topic, far in plan:
            run = await _one_run(
                nodes, urls, route, workers, delay, count, secret, topic, stores_delayed=far
            )
            say(
                f"  messages {run.route} ({run.handler}), {workers} worker(s), +{delay:g} ms "
                f"each way to {run.delayed}: {run.messages} in {run.seconds:.2f}s, "
                f"{run.rate:.1f}/s"
            )
            result.runs.append(run)
    finally:
        await nodes.dispose()
        await _drop()
    return result


def message_section(bench: MessageBench) -> str:
    lines = ["## Cross-node messages (NATS JetStream, PostgreSQL)", ""]
    if bench.skipped:
        return "\n".join([*lines, f"Not measured: {bench.skipped}."])
    lines += [
        "| route | handler writes | workers | added delay each way | delayed link | "
        "messages | seconds | messages/s |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for run in bench.runs:
        link = run.delayed if run.delay_ms else "—"
        lines.append(
            f"| {run.route} | {run.handler} | {run.workers} | {run.delay_ms:g} ms | {link} | "
            f"{run.messages} | {run.seconds:.2f} | {run.rate:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    bench = asyncio.run(measure_messages(print))
    print(message_section(bench))


if __name__ == "__main__":
    main()
