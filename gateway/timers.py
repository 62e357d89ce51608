"""The timer worker: fires due case timers in every level store and signs each store's
audit-chain head, in the gateway process by default (``GOVHUB_TIMER_INTERVAL_SECONDS``,
0 = off) and on demand with ``govhub timers run``. Timers are rows, so a worker that
stops (or several that run) loses and doubles nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.breakers import unreachable
from gateway.nodes import LevelNode, NodeRegistry
from levels.audit.chain import HeadSigner, sign_head
from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases.timers import fire_due_timers, issue_cards
from levels.common.clock import Clock
from levels.evaluations.timers import flag_overdue
from levels.idempotency.service import purge_expired
from levels.licences.expiry import expire_due
from resolvers.case_updates import publish_case_updated
from resolvers.pubsub import Broker

log = logging.getLogger("govhub.timers")


async def _calendar(session: Any) -> WorkCalendar:
    return await load_calendar(session=session)


@dataclass(frozen=True)
class Pass:
    """What one pass did, per store: timers fired, supervision cards issued,
    e-licences whose validity ended marked EXPIRED, and rectifications and complaints
    past their deadline flagged overdue."""

    timers: dict[str, int]
    cards: dict[str, int]
    expired: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    # idempotency records past their retention, deleted
    idempotency_purged: dict[str, int] = field(default_factory=dict)
    # the stores that did not answer: the pass went on with the others
    down: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        timers = ", ".join(f"{store} {n}" for store, n in self.timers.items())
        cards = ", ".join(f"{store} {n}" for store, n in self.cards.items())
        expired = ", ".join(f"{store} {n}" for store, n in self.expired.items())
        said = (
            f"{timers} timers fired; {cards} supervision cards issued; {expired} licences expired"
        )
        if any(self.overdue.values()):  # said when there is something to say
            overdue = ", ".join(f"{store} {n}" for store, n in self.overdue.items())
            said += f"; {overdue} rectifications and complaints flagged overdue"
        if self.down:
            said += f"; not answering: {', '.join(self.down)}"
        return said


async def fire_all(
    nodes: NodeRegistry,
    clock: Clock,
    signer: HeadSigner | None = None,
    broker: Broker | None = None,
) -> Pass:
    """One pass over every level store: fire what is due and issue the yellow and red
    cards of clocks that turned (telling the subscribers of each case that moved, when
    a broker is given), then sign the audit head (when a signer is given)."""

    async def published(number: str) -> None:
        if broker is not None:
            await publish_case_updated(broker, number)

    counts: dict[str, dict[str, int]] = {k: {} for k in _COUNTS}
    down: list[str] = []
    for node in nodes:
        try:
            done = await _fire_node(node, clock, signer, published)
        except Exception as exc:
            if not unreachable(exc):
                raise
            log.warning("timers: %s store not answering: %r", node.name, exc)
            down.append(node.name)
            continue
        for name, n in done.items():
            counts[name][node.name] = n
    return Pass(
        counts["timers"],
        counts["cards"],
        counts["expired"],
        counts["overdue"],
        idempotency_purged=counts["purged"],
        down=down,
    )


_COUNTS = ("timers", "cards", "expired", "overdue", "purged")


async def _fire_node(
    node: LevelNode,
    clock: Clock,
    signer: HeadSigner | None,
    published: Callable[[str], Awaitable[None]],
) -> dict[str, int]:
    """One store's share of a pass: its counts by kind."""
    done = {
        "timers": await fire_due_timers(
            node.sessions, now=clock.now(), calendar=_calendar, on_fired=published
        ),
        "cards": await issue_cards(node.sessions, now=clock.now(), on_fired=published),
    }
    done["expired"] = done["overdue"] = 0
    # each level the node holds (one in the embedded default)
    for level in node.levels:
        async with node.sessions.begin() as session:
            # a licence's validity end is its deadline row: the pass marks it EXPIRED
            done["expired"] += await expire_due(session, level, clock.now())
        # 整改 and 投诉 past their deadline: flagged once, with an audit event
        done["overdue"] += await flag_overdue(node.sessions, level=level.value, now=clock.now())
    async with node.sessions.begin() as session:
        done["purged"] = await purge_expired(session, clock.now())
    if signer is not None:
        for level in node.levels:
            async with node.sessions.begin() as session:
                await sign_head(session=session, signer=signer, level=level.value, now=clock.now())
    return done


async def run_forever(
    nodes: NodeRegistry,
    clock: Clock,
    interval: float,
    signer: HeadSigner | None = None,
    broker: Broker | None = None,
) -> None:
    while True:
        try:
            done = await fire_all(nodes, clock, signer, broker)
            if any(
                any(counts.values())
                for counts in (done.timers, done.cards, done.expired, done.overdue)
            ):
                log.info("%s", done)
        except Exception:  # a store that is down now is retried next round
            log.exception("timer pass failed")
        await asyncio.sleep(interval)
