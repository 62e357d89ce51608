"""The relay: carries cross-level messages from each store's outbox to their target
store, in the gateway process by default (``GOVHUB_RELAY_INTERVAL_SECONDS``, 0 = off)
and alone as ``govhub relay``.

For each source store, a pass takes the messages that are due, applies each in its
target store (``levels.outbox.service.apply``: the handler and the inbox row, one
transaction), marks it DELIVERED in the source, then — having seen the target's inbox
row — ACKNOWLEDGED. A relay may stop anywhere: the next pass finishes the job, and the
inbox makes sure nothing is applied twice. On PostgreSQL the messages of a pass stay
locked (``FOR UPDATE SKIP LOCKED``) until the source has recorded the outcome, so
several relays share the work; on SQLite one store's writes are serialised anyway, and
the source records outcomes in a short transaction of its own.

A target that does not answer (or whose circuit breaker is open) leaves its messages
PENDING: they go when it is back. A handler that refuses a message for good, or a
message that keeps failing, makes it FAILED: an incident, shown to staff and auditors
and sent again by ``govhub relay retry`` or the ``retryMessage`` mutation."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.breakers import unreachable
from gateway.nodes import LevelNode, NodeRegistry
from gateway.settings import Settings
from levels.common import migrate
from levels.common.clock import Clock
from levels.common.enums import Level
from levels.common.errors import DomainError, message_for
from levels.outbox import service as outbox
from levels.outbox.models import MessageState, OutboxMessage
from resolvers.case_updates import publish_case_updated
from resolvers.pubsub import Broker

log = logging.getLogger("govhub.relay")
T = TypeVar("T")

# Where a pass stands with one message, for tests that stop a relay there: "claimed"
# (taken from the source, not yet sent), "applied" (committed in the target, not yet
# marked in the source), "delivered" (DELIVERED committed in the source, not yet
# acknowledged).
StepHook = Callable[[str, str], Awaitable[None]]


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the target's inbox had it: applied by an earlier pass
    WAITING = "waiting"  # the target did not answer
    EARLY = "early"  # its entity's previous message is not applied there yet
    REJECTED = "rejected"  # the handler refused it for good
    ERROR = "error"  # a failure that may pass


@dataclass
class RelayPass:
    """What one pass did, summed over the stores."""

    applied: int = 0
    duplicates: int = 0
    acknowledged: int = 0
    waiting: int = 0
    retrying: int = 0
    failed: int = 0
    resent: int = 0
    # came before their entity's previous message: sent again later
    early: int = 0
    down: set[str] = field(default_factory=set)
    # the cases a message changed in its target store this pass
    cases: set[str] = field(default_factory=set)
    # a store had more due messages than one batch: go again without pausing
    more: bool = False

    @property
    def delivered(self) -> int:
        return self.applied + self.duplicates

    @property
    def moved(self) -> bool:
        return bool(
            self.delivered or self.acknowledged or self.retrying or self.failed or self.resent
        )

    def __str__(self) -> str:
        text = (
            f"{self.applied} applied, {self.duplicates} already there, "
            f"{self.acknowledged} acknowledged, {self.waiting} waiting for their store, "
            f"{self.retrying} to retry, {self.failed} failed"
        )
        if self.resent:
            text += f", {self.resent} sent again"
        if self.early:
            text += f", {self.early} waiting for an earlier message"
        if self.down:
            text += f"; not answering: {', '.join(sorted(self.down))}"
        return text


def retry_policy(settings: Settings) -> outbox.RetryPolicy:
    return outbox.RetryPolicy(
        max_attempts=settings.relay_max_attempts,
        first_delay=settings.relay_backoff_seconds,
        max_delay=settings.relay_backoff_max_seconds,
    )


async def _no_hook(_step: str, _message_id: str) -> None:
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        detail = f" ({exc.detail})" if exc.detail else ""
        return f"{exc.code.value}: {message_for(exc.code, 'en')}{detail}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class _Relay:
    nodes: NodeRegistry
    clock: Clock
    batch: int
    policy: outbox.RetryPolicy
    timeout: float
    hook: StepHook
    result: RelayPass = field(default_factory=RelayPass)

    def target_of(self, envelope: outbox.Envelope) -> LevelNode:
        """The node a message goes to: the owner of its target division at its target
        level (the one node of that level when the message names no division)."""
        division = outbox.target_division(envelope)
        found = None
        if division is not None:
            found = self.nodes.owner_or_none(division, envelope.target_level)
        return found if found is not None else self.nodes[envelope.target_level]

    async def call(self, node: LevelNode, fn: Callable[[], Awaitable[T]]) -> T:
        """One call to a node: through its breaker, within the node timeout."""
        async with self.nodes.breakers.guard(node.name):
            return await asyncio.wait_for(fn(), self.timeout)

    # --- sending ----------------------------------------------------------------------

    async def deliver(self, envelope: outbox.Envelope) -> tuple[Outcome, str | None]:
        target = self.target_of(envelope)

        async def run() -> bool:
            async with target.sessions.begin() as session:
                return await outbox.apply(session, envelope, self.clock.now())

        try:
            applied = await self.call(target, run)
        except DomainError as exc:
            return Outcome.REJECTED, _describe(exc)
        except outbox.OutOfOrder as exc:
            return Outcome.EARLY, str(exc)
        except IntegrityError as exc:
            # on PostgreSQL, another relay applying the same message commits first
            if await self.in_inbox(target, envelope.id):
                return Outcome.DUPLICATE, None
            return Outcome.ERROR, _describe(exc)
        except Exception as exc:
            if unreachable(exc):
                self.result.down.add(target.name)
                return Outcome.WAITING, f"{target.name} store not answering: {_describe(exc)}"
            log.warning("message %s (%s) failed: %r", envelope.id, envelope.topic, exc)
            return Outcome.ERROR, _describe(exc)
        return (Outcome.APPLIED if applied else Outcome.DUPLICATE), None

    async def in_inbox(self, target: LevelNode, message_id: str) -> bool:
        async def run() -> set[str]:
            async with target.sessions() as session:
                return await outbox.inbox_holds(session, [message_id])

        try:
            return message_id in await self.call(target, run)
        except Exception as exc:
            if unreachable(exc):
                return False
            raise

    async def deliver_all(
        self, messages: Sequence[OutboxMessage]
    ) -> dict[str, tuple[Outcome, str | None]]:
        outcomes: dict[str, tuple[Outcome, str | None]] = {}
        # entities (to a target) whose message in this batch did not arrive: their
        # later messages wait for the next pass
        held: dict[tuple[str, Level], int] = {}
        for message in messages:
            stream = (message.entity or "", message.target_level)
            seq = message.entity_seq or 0
            if message.entity and seq > held.get(stream, seq):
                outcomes[message.id] = (Outcome.EARLY, f"waits for {message.entity}'s previous")
                continue
            await self.hook("claimed", message.id)
            outcome = await self.deliver(outbox.envelope_of(message))
            if outcome[0] in (Outcome.APPLIED, Outcome.DUPLICATE):
                await self.hook("applied", message.id)
            elif message.entity:
                held[stream] = min(seq, held.get(stream, seq))
            outcomes[message.id] = outcome
        return outcomes

    async def settle(
        self,
        session: AsyncSession,
        messages: Sequence[OutboxMessage],
        outcomes: dict[str, tuple[Outcome, str | None]],
    ) -> None:
        """Record in the source store what became of each message."""
        now = self.clock.now()
        r = self.result
        for message in messages:
            outcome, error = outcomes[message.id]
            if outcome is Outcome.APPLIED or outcome is Outcome.DUPLICATE:
                outbox.mark_delivered(message, now)
                if outcome is Outcome.APPLIED:
                    r.applied += 1
                    if message.case_number:
                        r.cases.add(message.case_number)
                else:
                    r.duplicates += 1
            elif outcome is Outcome.WAITING:
                outbox.mark_waiting(message, error or "")
                r.waiting += 1
            elif outcome is Outcome.EARLY:
                outbox.mark_waiting(message, error or "")
                r.early += 1
            else:
                failed = await outbox.record_failure(
                    session,
                    message,
                    error=error or "",
                    now=now,
                    policy=self.policy,
                    permanent=outcome is Outcome.REJECTED,
                )
                if failed:
                    r.failed += 1
                    log.error("message %s is FAILED: %s", message.id, message.last_error)
                else:
                    r.retrying += 1
        await session.flush()

    async def send(self, source: LevelNode) -> list[str]:
        """Deliver the source's due messages; the ids now DELIVERED."""
        now = self.clock.now()
        async with source.sessions() as session:
            if not _sqlite(session):
                async with session.begin():
                    messages = await outbox.due_messages(session, now=now, limit=self.batch)
                    outcomes = await self.deliver_all(messages)
                    await self.settle(session, messages, outcomes)
            else:
                async with session.begin():
                    messages = await outbox.due_messages(
                        session, now=now, limit=self.batch, lock=False
                    )
                if not messages:
                    return []
                outcomes = await self.deliver_all(messages)
                async with session.begin():
                    await outbox.take_write_lock(session)
                    still = await outbox.in_state(session, outcomes, MessageState.PENDING)
                    await self.settle(session, still, outcomes)
        if len(messages) == self.batch:
            self.result.more = True
        delivered = [m.id for m in messages if m.state is MessageState.DELIVERED]
        for message_id in delivered:
            await self.hook("delivered", message_id)
        return delivered

    # --- acknowledging ----------------------------------------------------------------

    async def inbox_found(self, messages: Sequence[OutboxMessage]) -> dict[str, bool | None]:
        """For each message, whether its target's inbox holds it (None: the target
        did not answer)."""
        by_target: dict[str, list[str]] = {}
        for message in messages:
            node = self.target_of(outbox.envelope_of(message))
            by_target.setdefault(node.id, []).append(message.id)
        found: dict[str, bool | None] = {}
        for node_id, ids in by_target.items():
            target = self.nodes[node_id]

            async def run(target: LevelNode = target, ids: list[str] = ids) -> set[str]:
                async with target.sessions() as session:
                    return await outbox.inbox_holds(session, ids)

            try:
                held: set[str] | None = await self.call(target, run)
            except Exception as exc:
                if not unreachable(exc):
                    raise
                self.result.down.add(target.name)
                held = None
            for message_id in ids:
                found[message_id] = None if held is None else message_id in held
        return found

    def acknowledge(self, messages: Sequence[OutboxMessage], found: dict[str, bool | None]) -> None:
        now = self.clock.now()
        for message in messages:
            seen = found.get(message.id)
            if seen:
                outbox.mark_acknowledged(message, now)
                self.result.acknowledged += 1
            elif seen is False:
                outbox.mark_lost(message, now)
                self.result.resent += 1
                log.warning("message %s: its target has no record of it, sending again", message.id)

    async def acknowledge_all(self, source: LevelNode) -> None:
        async with source.sessions() as session:
            if not _sqlite(session):
                async with session.begin():
                    messages = await outbox.delivered_messages(session, limit=self.batch)
                    self.acknowledge(messages, await self.inbox_found(messages))
                return
            async with session.begin():
                messages = await outbox.delivered_messages(session, limit=self.batch)
            if not messages:
                return
            found = await self.inbox_found(messages)
            async with session.begin():
                await outbox.take_write_lock(session)
                still = await outbox.in_state(session, found, MessageState.DELIVERED)
                self.acknowledge(still, found)

    async def on_source(
        self, source: LevelNode, step: Callable[[LevelNode], Awaitable[object]]
    ) -> None:
        try:
            async with self.nodes.breakers.guard(source.name):
                await step(source)
        except Exception as exc:
            if not unreachable(exc):
                raise
            log.warning("relay: %s store not answering: %r", source.name, exc)
            self.result.down.add(source.name)


def _sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def relay_once(
    nodes: NodeRegistry,
    clock: Clock,
    *,
    batch: int = 100,
    policy: outbox.RetryPolicy | None = None,
    timeout: float = 5.0,
    on_step: StepHook | None = None,
) -> RelayPass:
    """One pass over every level store: send what is due, then acknowledge what the
    targets hold. ``on_step`` is called at each step of each message (tests stop the
    relay there)."""
    outbox.load_handlers()
    relay = _Relay(
        nodes, clock, batch, policy or outbox.RetryPolicy(), timeout, on_step or _no_hook
    )
    for source in nodes:
        await relay.on_source(source, relay.send)
    for source in nodes:
        await relay.on_source(source, relay.acknowledge_all)
    return relay.result


async def run_forever(
    nodes: NodeRegistry,
    clock: Clock,
    interval: float,
    *,
    batch: int = 100,
    policy: outbox.RetryPolicy | None = None,
    timeout: float = 5.0,
    broker: Broker | None = None,
) -> None:
    """Relay every ``interval`` seconds (at once again while a backlog lasts); with a
    broker, tell the subscribers of each case a message changed."""
    while True:
        more = False
        try:
            done = await relay_once(nodes, clock, batch=batch, policy=policy, timeout=timeout)
            if done.moved:
                log.info("relay: %s", done)
            if broker is not None:
                for number in sorted(done.cases):
                    await publish_case_updated(broker, number)
            more = done.more
        except Exception:  # a store that fails now is tried again next round
            log.exception("relay pass failed")
        await asyncio.sleep(0 if more else interval)


async def stores_behind(nodes: NodeRegistry, only: Collection[str] | None = None) -> list[str]:
    """The level stores (of the nodes ``only`` names, else all) that answer but are not
    at this hub's schema (one that does not answer is left to the pass, which goes on
    without it and reports it)."""
    behind = []
    for node in nodes:
        if only is not None and node.name not in only:
            continue
        try:
            if not await migrate.is_current(node.engine, "levels"):
                behind.append(node.name)
        except Exception as exc:
            if not unreachable(exc):
                raise
            log.warning("relay: %s store not answering: %r", node.name, exc)
    return behind


async def find_message(nodes: NodeRegistry, message_id: str) -> LevelNode | None:
    """The store whose outbox holds ``message_id`` (None: no store answering has it)."""
    for node in nodes:
        async with node.sessions() as session:
            found = await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.id == message_id)
            )
        if found is not None:
            return node
    return None
