"""The hub's timer worker: fires due case timers in the stores of the nodes that do not
serve themselves and signs each store's audit-chain head, in the gateway process by
default (``GOVHUB_TIMER_INTERVAL_SECONDS``, 0 = off) and on demand with ``govhub timers
run``. A node the map gives an ``http(s)://`` address runs its own pass
(``govhub node serve``); the hub's leaves its store alone unless told ``--node``. One
store's pass is ``levels/node/timers.py``. Timers are rows, so a worker that stops (or
several that run) loses and doubles nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from gateway.breakers import unreachable
from gateway.nodes import LevelNode, NodeRegistry
from levels.audit.chain import HeadSigner
from levels.common.clock import Clock
from levels.node.timers import COUNTS, fire_store
from resolvers.case_updates import publish_case_updated
from resolvers.pubsub import Broker

log = logging.getLogger("govhub.timers")


def passed(nodes: NodeRegistry, only: Collection[str] | None = None) -> list[LevelNode]:
    """The nodes a hub's pass walks: those the map gives no ``http(s)://`` address (a
    node served on its own runs its own timers, ``govhub node serve``), or the nodes
    ``only`` names, addressed or not."""
    if only is not None:
        return [n for n in nodes if n.id in only]
    return [n for n in nodes if n.spec.in_process]


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
        if not self.timers and not self.down:
            return "no store passed over: every node serves itself (--node ID to pass over one)"
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
    only: Collection[str] | None = None,
) -> Pass:
    """One pass over the stores the hub runs timers for (``passed``): fire what is due
    and issue the yellow and red cards of clocks that turned (telling the subscribers of
    each case that moved, when a broker is given), then sign the audit head (when a
    signer is given). ``only``: these nodes alone, whether they serve themselves or not."""

    async def published(number: str) -> None:
        if broker is not None:
            await publish_case_updated(broker, number)

    counts: dict[str, dict[str, int]] = {k: {} for k in COUNTS}
    down: list[str] = []
    for node in passed(nodes, only):
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


async def _fire_node(
    node: LevelNode,
    clock: Clock,
    signer: HeadSigner | None,
    published: Callable[[str], Awaitable[None]],
) -> dict[str, int]:
    """One store's share of a pass: its counts by kind (``levels/node/timers.py``)."""
    return await fire_store(node.sessions, node.levels, clock.now(), signer, published)


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
