"""Referral throughput: how many referrals a second the relay carries from a village
store to the county.

Untimed, the 修文村 station receives ``count`` cases of 残疾人证核发 over HTTP (its
receptionist submits for resident4 at the counter, every guide material as a FILE);
the village refers that item straight to 榆次区. Then each case is referred over HTTP
(``referCase``, timed as a transition: the village's row becomes REFERRED and an outbox
message is written, in one transaction), and message passes
(``gateway.messaging.factory.carry_once``: publish, consume, receipts back, over an
in-process bus, signed envelopes) — called here, on the loop that owns the stores'
engines, with the hub's settings (batch size, secret) and frozen clock — are timed
until every message is applied at the county and acknowledged in the village. The hub
serves without its own message worker (``relay_interval_seconds=0``, see
``bench.backends``), so nothing else moves the messages. Every case is then checked:
ACCEPTED at COUNTY in the county store, REFERRED to COUNTY in the village store, its
message ACKNOWLEDGED, and the first and last found by ``case(number)`` over HTTP."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from bench.desk import VILLAGE_DISABILITY_CARD, submit_cases
from bench.measure import BenchError, HubGraphQL, Load, Timing, access_token, drive, post_graphql
from bench.report import grid
from bench.runtime import LoopThread
from gateway.messaging.factory import carry_once, messenger_for
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.clock import Clock
from levels.common.enums import Level
from levels.outbox.models import MessageState, OutboxMessage

REFERRALS = 200
COUNTER = VILLAGE_DISABILITY_CARD
APPLICANT = "resident4"  # whose ID number COUNTER submits with
REFER_QUERY = """
mutation Refer($number: String!) {
  referCase(input: {number: $number}) {
    case { number status level } errors { code field message }
  }
}
"""
CASE_QUERY = "query Where($number: String!) { case(number: $number) { number status level } }"


@dataclass(frozen=True)
class ReferralCost:
    backend: str
    referrals: int
    warmup: int  # referCase requests sent before the timed ones (relayed all the same)
    refer: Timing  # referCase over HTTP
    concurrency: int  # referCase requests in flight
    batch: int  # messages a pass publishes per store
    passes: list[float]  # seconds, one per carry_once call
    applied: int

    @property
    def relay_seconds(self) -> float:
        return sum(self.passes)

    @property
    def per_second(self) -> float:
        return self.applied / self.relay_seconds if self.relay_seconds else math.nan

    @property
    def per_message_ms(self) -> float:
        return self.relay_seconds * 1000 / self.applied if self.applied else math.nan


async def _unsettled(nodes: NodeRegistry) -> int:
    """Messages a pass would still move, over every store."""
    total = 0
    for node in nodes:
        async with node.sessions() as session:
            stmt = select(func.count()).where(
                OutboxMessage.state.in_([MessageState.PENDING, MessageState.SENT])
            )
            total += int(await session.scalar(stmt) or 0)
    return total


async def _relay_all(
    nodes: NodeRegistry, clock: Clock, settings: Settings, expected: int
) -> tuple[list[float], int]:
    """``carry_once`` passes until ``expected`` messages are applied and acknowledged;
    each pass's duration and how many were applied."""
    batch = settings.relay_batch_size
    passes: list[float] = []
    applied = acknowledged = 0
    allowed = 2 * math.ceil(expected / batch) + 5
    while acknowledged < expected:
        if len(passes) >= allowed:
            raise BenchError(
                f"relay: {acknowledged} of {expected} acknowledged after {len(passes)} passes"
            )
        t0 = time.perf_counter()
        done = await carry_once(messenger_for(settings, nodes, clock))
        passes.append(time.perf_counter() - t0)
        if done.failed or done.retrying or done.refused or done.down or done.duplicates:
            raise BenchError(f"relay pass: {done}")
        applied += done.applied
        acknowledged += done.receipts
    if applied != expected:
        raise BenchError(f"relay: {applied} messages applied, {expected} referred")
    return passes, applied


async def _arrival_problems(nodes: NodeRegistry, numbers: list[str]) -> list[str]:
    """What is wrong with where the referred cases are (nothing: an empty list)."""
    problems = []
    async with nodes[Level.COUNTY].sessions() as session:
        county = {
            r.number: (r.status, r.level)
            for r in await session.execute(
                select(Case.number, Case.status, Case.level).where(Case.number.in_(numbers))
            )
        }
    async with nodes[Level.VILLAGE].sessions() as session:
        village = {
            r.number: (r.status, r.referred_to_level)
            for r in await session.execute(
                select(Case.number, Case.status, Case.referred_to_level).where(
                    Case.number.in_(numbers)
                )
            )
        }
        messages = list(
            await session.execute(
                select(OutboxMessage.case_number, OutboxMessage.state).where(
                    OutboxMessage.case_number.in_(numbers)
                )
            )
        )
    arrived = (CaseStatus.ACCEPTED, Level.COUNTY)
    referred = (CaseStatus.REFERRED, Level.COUNTY)
    for number in numbers:
        if county.get(number) != arrived:
            problems.append(f"{number} in the county store: {county.get(number)}")
        if village.get(number) != referred:
            problems.append(f"{number} in the village store: {village.get(number)}")
    states = [m.state for m in messages]
    if len(states) != len(numbers) or any(s is not MessageState.ACKNOWLEDGED for s in states):
        problems.append(f"{len(states)} messages in the village outbox, states {set(states)}")
    return problems


async def measure_referrals(
    backend: str,
    client: httpx.AsyncClient,
    nodes: NodeRegistry,
    stores: LoopThread,
    clock: Clock,
    settings: Settings,
    load: Load,
    count: int = REFERRALS,
) -> ReferralCost:
    if await stores.run_async(_unsettled(nodes)):
        raise BenchError("referral: the outboxes hold messages already; the passes would move them")
    graphql = HubGraphQL(client)
    numbers = await submit_cases(graphql, COUNTER, count, load.concurrency)

    token = await access_token(client, COUNTER.staff)
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    bodies = iter(orjson.dumps({"query": REFER_QUERY, "variables": {"number": n}}) for n in numbers)

    async def refer() -> None:
        body = next(bodies, None)
        if body is None:
            raise BenchError("referCase: every prepared case has been referred")
        data = await post_graphql(client, "referCase", body, headers)
        payload: dict[str, Any] = data.get("referCase") or {}
        case = payload.get("case") or {}
        if payload.get("errors") or case.get("status") != CaseStatus.REFERRED.value:
            raise BenchError(f"referCase did not refer: {orjson.dumps(payload).decode()}")

    warmup = min(load.warmup, count // 10)
    refer_timing = await drive(
        refer,
        warmup=warmup,
        requests=count - warmup,
        max_seconds=math.inf,
        concurrency=load.concurrency,
    )

    passes, applied = await stores.run_async(_relay_all(nodes, clock, settings, count))

    problems = await stores.run_async(_arrival_problems(nodes, numbers))
    for number in {numbers[0], numbers[-1]}:
        data = await graphql(CASE_QUERY, {"number": number}, bearer=APPLICANT)
        found = data.get("case") or {}
        if (found.get("status"), found.get("level")) != ("ACCEPTED", "COUNTY"):
            problems.append(f"case({number}) over HTTP: {found}")
    if problems:
        raise BenchError("referral: " + "; ".join(problems[:5]))
    return ReferralCost(
        backend,
        count,
        warmup,
        refer_timing,
        load.concurrency,
        settings.relay_batch_size,
        passes,
        applied,
    )


HEADERS = (
    "backend",
    "referrals",
    "referCase requests",
    "referCase p50 ms",
    "p99 ms",
    "relay passes",
    "relay s",
    "referrals/s",
    "ms/referral",
    "arrived",
)


def section(costs: Sequence[ReferralCost]) -> str:
    """The referral throughput section printed under the table."""
    if not costs:
        return "Referral throughput: not measured."
    rows = [
        (
            c.backend,
            str(c.referrals),
            str(c.refer.requests),
            f"{c.refer.p50_ms:.2f}",
            f"{c.refer.p99_ms:.2f}",
            f"{len(c.passes)} × batch {c.batch}",
            f"{c.relay_seconds:.2f}",
            f"{c.per_second:.1f}",
            f"{c.per_message_ms:.2f}",
            f"{c.applied}/{c.referrals} ACCEPTED at COUNTY",
        )
        for c in costs
    ]
    c0 = costs[0]
    intro = (
        f"Referral throughput, village → county: {c0.referrals} cases of "
        f"{COUNTER.implementation} (残疾人证核发) received at the 修文村 counter by "
        f"{COUNTER.staff} for {APPLICANT} (untimed), each referred over HTTP "
        f"(`referCase`, {c0.concurrency} in flight, the first {c0.warmup} untimed), then "
        "`gateway.messaging.factory.carry_once` passes (signed envelopes over an in-process "
        "bus, receipts back) called on the stores' loop and timed until every message was "
        "applied at the county and acknowledged in the village (the hub's own message "
        "worker is off); referrals/s = messages "
        "applied ÷ the passes' total time. Every case checked afterwards: ACCEPTED at "
        "COUNTY in the county store, REFERRED in the village store, its message "
        "ACKNOWLEDGED; the first and last also by `case(number)` over HTTP."
    )
    return intro + "\n\n" + grid(HEADERS, rows, {0, 9})
