"""The workers ``govhub node serve`` runs beside a node's API (DESIGN §2: a node is one
deployment, with its own timers): its timer pass over its own store, every
``GOVHUB_NODE_TIMER_INTERVAL_SECONDS``, and its relay, every
``GOVHUB_NODE_RELAY_INTERVAL_SECONDS`` (0: that one off).

* The timer pass is the hub's per-store pass (``levels/node/timers.py``) over this
  node's store alone, its audit heads signed with the node's own key. Timers are rows
  claimed in the transaction that fires them, so the hub's pass (which leaves a node
  with an address alone unless told ``--node``) or a second replica fires nothing
  twice; a node that was down fires what fell due at its first pass.
* The relay publishes this node's outbox and takes the receipts that come back: over
  NATS JetStream when ``GOVHUB_MESSAGE_TRANSPORT=nats`` (as ``govhub relay --node``),
  else by handing each envelope to its target node's ``POST /inbox`` at the map's
  address (``InboxTransport``, gateway/messaging/inbox.py; the hub's relay reaches such a
  node the same way), whose answer carries the target's receipt; a target without an
  address is the hub's, handed to the hub's ``POST /nodes/<id>/inbox`` at
  ``GOVHUB_HUB_URL`` (gateway/messaging/hub_inbox.py). It opens no other node's store; a
  target without an address and no hub's address, or a target or hub that does not
  answer, keeps the message waiting in the outbox (sent again at the next pass).

Each reports to ``/health`` when it last ran (wall-clock UTC) and whether that pass
failed; ``/health`` adds each one's lag, read from the store."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.messaging.factory import transport_for
from gateway.messaging.inbox import InboxTransport
from gateway.messaging.worker import Messenger
from gateway.node_app import NodeRuntime, Worker
from gateway.nodes import Node, NodeRegistry
from levels.common.enums import LEVELS
from levels.common.store import Store
from levels.node.timers import NodeHeadSigner, fire_store
from levels.outbox.signing import NodeSigner

log = logging.getLogger("govhub.node.workers")


@dataclass
class Periodic:
    """``step`` every ``interval`` seconds until cancelled (at once again when it says
    it moved something); a step that fails is logged and tried at the next round."""

    name: str
    interval: float
    step: Callable[[], Awaitable[bool]]
    # what the worker lets go of when it stops (its transport)
    stop: Callable[[], Awaitable[None]] | None = None
    runs: int = 0
    last_run: dt.datetime | None = None
    last_error: str | None = None
    _last: float | None = field(default=None, repr=False)

    async def run(self) -> None:
        try:
            await self._loop()
        finally:
            if self.stop is not None:
                await self.stop()

    async def _loop(self) -> None:
        while True:
            moved = False
            try:
                moved = await self.step()
                self.last_error = None
            except Exception as exc:  # a store or a peer away now: next round
                log.exception("%s pass failed", self.name)
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
            self.runs += 1
            self.last_run = dt.datetime.now(dt.UTC)
            self._last = time.monotonic()
            await asyncio.sleep(0 if moved else self.interval)

    def report(self) -> dict[str, Any]:
        since = None if self._last is None else round(time.monotonic() - self._last, 3)
        return {
            "enabled": True,
            "intervalSeconds": self.interval,
            "runs": self.runs,
            "lastRun": self.last_run.isoformat() if self.last_run else None,
            "secondsSinceLastRun": since,
            "lastError": self.last_error,
        }


@dataclass
class Off:
    """A worker its setting turned off: ``/health`` says so."""

    name: str
    setting: str

    async def run(self) -> None:
        return None

    def report(self) -> dict[str, Any]:
        return {"enabled": False, "setting": self.setting}


def timer_worker(runtime: NodeRuntime) -> Periodic:
    node, sessions, clock = runtime.node, runtime.sessions, runtime.clock
    levels = [lv for lv in LEVELS if node.holds(lv)]
    signer = NodeHeadSigner(
        sessions, node.id, NodeSigner(runtime.settings.identity_secret()), clock.now
    )

    async def step() -> bool:
        await signer.ready()  # the key before any head is locked (``NodeHeadSigner.ready``)
        done = await fire_store(sessions, levels, clock.now(), signer)
        if any(done[k] for k in ("timers", "cards", "expired", "overdue")):
            log.info("node %s timers: %s", node.id, done)
        return False

    return Periodic("timers", runtime.settings.node_timer_interval_seconds, step)


def own_registry(runtime: NodeRuntime) -> NodeRegistry:
    """The registry a node's own messenger is given: the whole map (a registry has a
    node for each), every entry over this node's own store — the messenger serves this
    node alone (``serves``), so it never opens another node's store (who owns what is
    the map, in the keys)."""
    url = runtime.settings.node_db_url(runtime.node)
    nodes = [Node(s.id, url, runtime.engine, runtime.sessions, s) for s in runtime.nodes]
    # a node keeps no accounts: the identity slot is its own store, never read here
    identity = Store("identity", url, runtime.engine, runtime.sessions)
    return NodeRegistry(runtime.nodes, nodes, identity)


def relay_worker(runtime: NodeRuntime) -> Periodic:
    settings = runtime.settings
    transport = (
        transport_for(settings)
        if settings.message_transport == "nats"
        else InboxTransport(runtime.nodes, settings.node_timeout_seconds, hub=settings.hub_url)
    )
    messenger = Messenger(
        own_registry(runtime),
        transport,
        runtime.clock,
        NodeSigner(settings.identity_secret()),
        runtime.keys,
        batch=settings.relay_batch_size,
        nak_delay=settings.message_nak_delay_seconds,
        max_deliveries=settings.message_max_deliveries,
        resend_after=settings.message_resend_seconds,
        serves=frozenset([runtime.node.id]),
    )
    started: list[bool] = []

    async def step() -> bool:
        if not started:
            await messenger.start()
            started.append(True)
        done = await messenger.once()
        if done.moved:
            log.info("node %s messages: %s", runtime.node.id, done)
        return done.moved

    return Periodic("relay", settings.node_relay_interval_seconds, step, transport.close)


def node_workers(runtime: NodeRuntime) -> Sequence[Worker]:
    """The timer pass and the relay of ``govhub node serve``, each off when its
    interval setting is 0."""
    settings = runtime.settings
    workers: list[Worker] = []
    if settings.node_timer_interval_seconds > 0:
        workers.append(timer_worker(runtime))
    else:
        workers.append(Off("timers", "GOVHUB_NODE_TIMER_INTERVAL_SECONDS"))
    if settings.node_relay_interval_seconds > 0:
        workers.append(relay_worker(runtime))
    else:
        workers.append(Off("relay", "GOVHUB_NODE_RELAY_INTERVAL_SECONDS"))
    return workers
