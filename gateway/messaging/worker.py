"""The publisher and consumer steps of cross-node messages over a transport.

Publisher (per source node): take its PENDING messages (and SENT ones whose receipt is
late), sign each envelope once and keep it with the row (committed before it leaves, so
a republish sends the same bytes), publish, then mark them SENT.

Consumer (per node): for each delivery, verify the signature and who sent it; a
message is applied in this node's store with ``levels.outbox.service.apply`` (handler
and inbox row in one transaction, so a redelivery changes nothing), then the node
signs a receipt and sends it back, and only then acks. A message whose entity's
previous one has not been applied here is nak'ed and comes again after a delay; past
``max_deliveries`` — or refused for good (bad signature, a sender that does not own
its source, a handler's ``DomainError``) — it is terminated, the refusal audited here,
and a refusal receipt sent back makes it FAILED at its source (the incident an
operator retries). A receipt that comes back is kept with its outbox row
(ACKNOWLEDGED) once its hash matches the envelope the row sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.breakers import unreachable
from gateway.messaging.jwks import PATH, jwks_source
from gateway.messaging.transport import Delivery, Transport, TransportDown
from gateway.nodes import LevelNode, NodeRegistry
from levels.audit.chain import EventDraft, append
from levels.common.clock import Clock
from levels.common.errors import DomainError, message_for
from levels.common.nodemap import NodeMap
from levels.licences.keys import PublicKey
from levels.outbox import sending, signing
from levels.outbox import service as outbox
from levels.outbox.models import OutboxMessage
from levels.outbox.ownership import NotOwned
from resolvers.case_updates import publish_case_updated
from resolvers.nodeclient import NodeCallFailed, NodeClient
from resolvers.pubsub import Broker

log = logging.getLogger("govhub.messaging")
T = TypeVar("T")

REFUSED_ACTION = "MESSAGE_REFUSED"

# tests and fault drills stop a worker at a step of a message: "signed" (its envelope
# committed with its outbox row, before the publish), "published" (on the transport, not
# yet marked SENT in its source), "applied" (committed in its target, before the receipt
# and the ack), "answered" (its receipt sent, the delivery not yet acked)
StepHook = Callable[[str, str], Awaitable[None]]


async def _no_hook(_step: str, _mid: str) -> None:
    return None


@dataclass
class MessagePass:
    published: int = 0
    applied: int = 0
    duplicates: int = 0
    early: int = 0
    refused: int = 0
    receipts: int = 0
    failed: int = 0
    retrying: int = 0
    down: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)

    @property
    def moved(self) -> bool:
        return bool(self.published or self.applied or self.duplicates or self.receipts)

    def __str__(self) -> str:
        # a receipt back is the source acknowledging
        text = (
            f"{self.applied} applied, {self.duplicates} already there, "
            f"{self.receipts} acknowledged, {self.published} published, "
            f"{self.early} early, {self.retrying} to retry, {self.refused} refused, "
            f"{self.failed} failed"
        )
        if self.down:
            text += f"; not answering: {', '.join(sorted(self.down))}"
        return text


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        detail = f" ({exc.detail})" if exc.detail else ""
        return f"{exc.code.value}: {message_for(exc.code, 'en')}{detail}"
    return f"{type(exc).__name__}: {exc}"


def api_key_source(client: NodeClient) -> signing.NodeKeySource:
    """A node's keys as the node publishes them (its own ``/.well-known/node-keys.json``,
    read through the hub's client of it: over HTTP, or in-process): what it lists
    under its own name only. A node that does not answer raises ``SourceDown``."""

    async def read() -> list[PublicKey]:
        try:
            document = await client.node_keys()
            found = signing.keys_from_jwks(document)
        except (DomainError, NodeCallFailed, ValueError, TypeError) as exc:
            raise signing.SourceDown(f"the keys of node {client.node_id}: {exc!r}") from exc
        own = signing.node_org(client.node_id)
        return [k for k in found if k.org_code == own]

    return read


def published_source(node: LevelNode, timeout: float = 5.0) -> signing.NodeKeySource:
    """The keys a node with an address publishes, those under its own name: through the
    registry's client of it (``api_key_source``), else read at its address."""
    if node.client is not None:
        return api_key_source(node.client)
    address = node.spec.address
    assert address is not None, node.name
    read = jwks_source(address.rstrip("/") + PATH, timeout=timeout)
    own = signing.node_org(node.name)

    async def own_only() -> list[PublicKey]:
        return [k for k in await read() if k.org_code == own]

    return own_only


def node_keys(
    nodes: NodeRegistry,
    nodemap: NodeMap | None = None,
    source: signing.NodeKeySource | None = None,
    *,
    serves: frozenset[str] | None = None,
    timeout: float = 5.0,
) -> signing.NodeKeys:
    """The nodes' public keys — from ``source`` (the hub's JWKS of nodes) when given,
    else each node's own: a node with an address that the worker does not work in
    (``serves``: the nodes whose stores it works in, None for every one) lists its own
    (``published_source``: its store is not the worker's to read); a node without one,
    or one the worker works in (the demo loader fills every store before a node
    serves), from its store — and the node map saying who owns what (the embedded one
    by default: one node per level)."""
    if source is not None:
        return signing.NodeKeys({"jwks": source}, nodemap or nodes.map)
    sources = {
        n.name: (
            published_source(n, timeout)
            if not n.spec.in_process and serves is not None and n.name not in serves
            else signing.node_key_source(n.sessions, n.name)
        )
        for n in nodes
    }
    return signing.NodeKeys(sources, nodemap or nodes.map)


def published_keys(nodes: NodeRegistry) -> signing.NodeKeys:
    """The nodes' public keys as the hub publishes them (its JWKS of nodes): a node the
    hub reaches through its API lists its own (its store is not the hub's to read), the
    others' are read from their stores."""
    return node_keys(nodes, serves=frozenset())


def _entity_of(item: tuple[dict[str, Any], Delivery]) -> str:
    claims = item[0]
    return f"{claims.get('iss')}/{claims.get('entity') or claims.get('mid')}"


def _groups(items: list[T], key: Callable[[T], str]) -> list[list[T]]:
    """``items`` grouped by ``key``, each group in the items' order."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


@dataclass
class MessageStats:
    """What a worker did since it started, per node: the counters ``/metrics`` shows."""

    applied: dict[str, int] = field(default_factory=dict)
    redelivered: dict[str, int] = field(default_factory=dict)
    incidents: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def count(counter: dict[str, int], node: str) -> None:
        counter[node] = counter.get(node, 0) + 1


@dataclass
class Messenger:
    nodes: NodeRegistry
    transport: Transport
    clock: Clock
    signer: signing.NodeSigner
    keys: signing.NodeKeys
    batch: int = 100
    nak_delay: float = 1.0
    max_deliveries: int = 20
    resend_after: float = 60.0
    fetch_timeout: float = 0.05
    # deliveries of different entities applied at once per node (PostgreSQL; one at a
    # time on SQLite), and publishes in flight at once per source node
    concurrency: int = 8
    hook: StepHook = _no_hook
    # the transport is new with this messenger (a pass of its own over an in-process
    # bus): a SENT message cannot be on it, so it goes again now, not after its delay
    fresh: bool = False
    stats: MessageStats = field(default_factory=lambda: MessageStats())
    # the nodes this worker publishes and consumes for (a worker on a node's own host
    # serves that node alone); None: every node of the registry
    serves: frozenset[str] | None = None

    def served(self) -> list[LevelNode]:
        return [n for n in self.nodes if self.serves is None or n.name in self.serves]

    async def start(self) -> None:
        outbox.load_handlers()
        await self.transport.start([n.name for n in self.served()])

    def target_of(self, row: OutboxMessage) -> str:
        """The node a message goes to: the owner of its target division (named by the
        sender) or else of its own division, at its target level."""
        return self.keys.owner(outbox.target_division(row), row.target_level)

    # --- publishing -------------------------------------------------------------------

    async def publish(self, source: LevelNode, result: MessagePass) -> None:
        now = self.clock.now()
        async with source.sessions.begin() as session:
            # SQLite: as a writer from the start, so two publishers never sign one row
            # twice (PostgreSQL: the rows are locked, skipped by another publisher)
            await outbox.take_write_lock(session)
            rows = await sending.due_to_send(
                session, now=now, limit=self.batch, sent_too=self.fresh
            )
            out: list[tuple[str, str, str]] = []
            entities: dict[str, str] = {}
            for row in rows:
                try:
                    target = self.target_of(row)
                except NotOwned as exc:  # no node owns its division: an incident
                    await sending.mark_unroutable(session, row, str(exc), now)
                    result.failed += 1
                    continue
                if row.envelope is None:
                    row.envelope = await self.signer.envelope(session, source.name, row, now)
                out.append((row.id, target, row.envelope))
                entities[row.id] = f"{target}/{row.entity or row.id}"
        for mid, _target, _envelope in out:
            await self.hook("signed", mid)
        sent: list[str] = []
        down: list[TransportDown] = []
        gate = asyncio.Semaphore(self.concurrency)

        async def send(group: list[tuple[str, str, str]]) -> None:
            # an entity's messages one after the other (the target would wait for the
            # earlier one anyway); different entities at once
            for mid, target, envelope in group:
                if down:
                    return
                # the same signed envelope, the same id: the server drops a republish
                msg_id = f"{mid}.{signing.digest(envelope)[:12]}"
                try:
                    async with gate:
                        await self.transport.publish(target, msg_id, envelope.encode())
                except TransportDown as exc:
                    down.append(exc)
                    return
                sent.append(mid)
                await self.hook("published", mid)

        await asyncio.gather(*(send(g) for g in _groups(out, lambda o: entities[o[0]])))
        if down:
            log.warning("messages of %s wait: %s", source.name, down[0])
            result.down.add(self.transport.name)
        if not sent:
            return
        async with source.sessions.begin() as session:
            await outbox.take_write_lock(session)
            for row in await sending.outgoing(session, sent):
                sending.mark_sent(row, now, dt.timedelta(seconds=self.resend_after))
        result.published += len(sent)

    # --- consuming --------------------------------------------------------------------

    async def consume(self, node: LevelNode, result: MessagePass) -> int:
        try:
            deliveries = await self.transport.fetch(
                node.name, batch=self.batch, timeout=self.fetch_timeout
            )
        except TransportDown as exc:
            log.warning("%s gets no messages: %s", node.name, exc)
            result.down.add(self.transport.name)
            return 0
        receipts: list[tuple[dict[str, Any], Delivery]] = []
        messages: list[tuple[dict[str, Any], Delivery]] = []
        for delivery in deliveries:
            try:
                claims = await self.keys.open(delivery.data)
                if claims.get("typ") == signing.MESSAGE:
                    self.keys.check_target(claims, node.name)
            except signing.KeysAway as exc:  # the hub's JWKS away: it waits
                log.warning("%s: a message waits: %s", node.name, exc)
                await self.again(node, delivery, exc.claims, str(exc), result)
                continue
            except signing.Refused as exc:
                await self.refuse(node, delivery, exc.claims, exc.reason, result)
                continue
            (receipts if claims["typ"] == signing.RECEIPT else messages).append((claims, delivery))
        if receipts:
            await self.take_receipts(node, receipts, result)
        sqlite = node.engine.dialect.name == "sqlite"
        gate = asyncio.Semaphore(1 if sqlite else self.concurrency)
        away: list[Exception] = []

        async def apply_in_turn(group: list[tuple[dict[str, Any], Delivery]]) -> None:
            for claims, delivery in group:  # an entity's messages in delivery order
                async with gate:
                    await self.apply(node, claims, delivery, result, away)

        entity = _entity_of
        await asyncio.gather(*(apply_in_turn(g) for g in _groups(messages, entity)))
        if away:  # the store did not answer: its breaker counts it, the pass names it
            raise away[0]
        return len(deliveries)

    async def apply(
        self,
        node: LevelNode,
        claims: dict[str, Any],
        delivery: Delivery,
        result: MessagePass,
        away: list[Exception] | None = None,
    ) -> None:
        """Apply one delivery in ``node``'s store; a store that does not answer is put
        in ``away`` (the delivery comes again, no incident nearer)."""
        envelope = signing.envelope_from(claims)
        now = self.clock.now()
        receipt: str | None = None
        try:
            async with node.sessions.begin() as session:
                applied = await outbox.apply(session, envelope, now)
                # the receipt, signed in the same transaction (one round trip less)
                receipt = await self.signer.receipt(
                    session,
                    node.name,
                    claims=claims,
                    received=delivery.data,
                    outcome=signing.APPLIED,
                    now=now,
                )
        except DomainError as exc:
            await self.refuse(node, delivery, claims, _describe(exc), result)
            return
        except IntegrityError:
            # another worker of this node applied it first (PostgreSQL)
            async with node.sessions() as session:
                if envelope.id not in await outbox.inbox_holds(session, [envelope.id]):
                    await self.again(node, delivery, claims, "conflict", result)
                    return
            applied = False
        except outbox.OutOfOrder as exc:
            result.early += 1
            await self.again(node, delivery, claims, str(exc), result)
            return
        except Exception as exc:
            if unreachable(exc) and away is not None:
                # waiting, not failing: it comes again, and no incident is nearer
                away.append(exc)
                await delivery.nak(self.nak_delay)
                return
            log.warning("message %s (%s) failed: %r", envelope.id, envelope.topic, exc)
            await self.again(node, delivery, claims, _describe(exc), result)
            return
        if applied:
            result.applied += 1
            self.stats.count(self.stats.applied, node.name)
            if envelope.case_number:
                result.cases.add(envelope.case_number)
        else:
            result.duplicates += 1
        await self.hook("applied", envelope.id)
        await self.answer(node, claims, delivery.data, signing.APPLIED, None, receipt)
        await self.hook("answered", envelope.id)
        await delivery.ack()

    async def again(
        self,
        node: LevelNode,
        delivery: Delivery,
        claims: dict[str, Any],
        reason: str,
        result: MessagePass,
    ) -> None:
        """Deliver it again later; past the bound, an incident."""
        if delivery.deliveries >= self.max_deliveries:
            reason = f"{reason} (after {delivery.deliveries} deliveries)"
            await self.refuse(node, delivery, claims, reason, result)
            return
        result.retrying += 1
        self.stats.count(self.stats.redelivered, node.name)
        await delivery.nak(self.nak_delay)

    async def refuse(
        self,
        node: LevelNode,
        delivery: Delivery,
        claims: dict[str, Any] | None,
        reason: str,
        result: MessagePass,
    ) -> None:
        """Record why in this node's store, tell the sender (a refusal receipt), and
        never deliver it again."""
        result.refused += 1
        self.stats.count(self.stats.incidents, node.name)
        log.error("%s refused a message: %s", node.name, reason)
        now = self.clock.now()
        claims = claims or {}
        async with node.sessions.begin() as session:
            await append(
                EventDraft(
                    actor_id="relay",
                    actor_kind="SYSTEM",
                    role=None,
                    channel="SYSTEM",
                    org_code=None,
                    # the node's top level: a node may hold several (node.level raises)
                    level=node.levels[0].value,
                    action=REFUSED_ACTION,
                    case_number=claims.get("case") if claims.get("typ") == "msg" else None,
                    detail={
                        "message": claims.get("mid"),
                        "from": claims.get("iss"),
                        "sha256": signing.digest(delivery.data),
                        "error": reason[:2000],
                    },
                ),
                session=session,
                now=now,
            )
        if claims.get("typ") == signing.MESSAGE and claims.get("mid"):
            await self.answer(node, claims, delivery.data, signing.REFUSED, reason)
        await delivery.term()

    async def answer(
        self,
        node: LevelNode,
        claims: dict[str, Any],
        received: bytes,
        outcome: str,
        reason: str | None,
        receipt: str | None = None,
    ) -> None:
        """Sign a receipt (unless given, signed already) and send it to the message's
        source node."""
        try:
            source = self.keys.owner(claims.get("div"), claims.get("src"))
        except NotOwned:
            return
        now = self.clock.now()
        if receipt is None:
            async with node.sessions.begin() as session:
                receipt = await self.signer.receipt(
                    session,
                    node.name,
                    claims=claims,
                    received=received,
                    outcome=outcome,
                    now=now,
                    reason=reason,
                )
        msg_id = f"rcpt.{claims.get('mid')}.{signing.digest(received)[:12]}.{outcome}"
        await self.transport.publish(source, msg_id, receipt.encode())

    async def take_receipts(
        self,
        node: LevelNode,
        receipts: list[tuple[dict[str, Any], Delivery]],
        result: MessagePass,
    ) -> None:
        """Keep the receipts that came back with their outbox rows, in one transaction."""
        now = self.clock.now()
        async with node.sessions.begin() as session:
            await outbox.take_write_lock(session)
            mids = {str(c.get("mid")) for c, _ in receipts}
            rows = {
                r.id: r
                for r in await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_(mids))
                )
            }
            for claims, delivery in receipts:
                row = rows.get(str(claims.get("mid")))
                if row is None or row.state not in sending.OUTGOING or row.envelope is None:
                    continue  # not ours, or settled already
                if claims.get("iss") != self.target_of(row):
                    log.error("receipt for %s from %s, not its target", row.id, claims.get("iss"))
                elif claims.get("sha256") != signing.digest(row.envelope):
                    log.error("receipt for %s names another envelope: ignored", row.id)
                elif claims.get("outcome") == signing.APPLIED:
                    sending.mark_received(row, delivery.data.decode(), now)
                    result.receipts += 1
                else:
                    reason = str(claims.get("reason") or "")
                    await sending.mark_refused(session, row, delivery.data.decode(), reason, now)
                    result.failed += 1
        for _claims, delivery in receipts:
            await delivery.ack()

    # --- a pass, and forever ----------------------------------------------------------

    async def once(self) -> MessagePass:
        """Publish what is due from every node, then drain every node's deliveries
        (messages, then the receipts they produce)."""
        result = MessagePass()
        # every node at once: each has its own store
        await asyncio.gather(
            *(self._on_node(node, result, self.publish(node, result)) for node in self.served())
        )
        for _ in range(3):  # messages, their receipts, an early one's successor
            counts = await asyncio.gather(
                *(
                    self._on_node(node, result, self.consume(node, result))
                    for node in self.served()
                    if node.name not in result.down  # its deliveries wait in the stream
                )
            )
            if not any(counts):
                break
        return result

    async def _on_node(
        self, node: LevelNode, result: MessagePass, step: Awaitable[int | None]
    ) -> int | None:
        """One node's step of a pass; a store that does not answer is left for the next
        pass (named in the pass's summary), and the other nodes go on."""
        try:
            async with self.nodes.breakers.guard(node.name):
                return await step
        except Exception as exc:
            if not unreachable(exc):
                raise
            log.warning("messages: %s store not answering: %r", node.name, exc)
            result.down.add(node.name)
            return None


async def run_forever(
    messenger: Messenger, interval: float, *, broker: Broker | None = None
) -> None:
    """Pass after pass every ``interval`` seconds (at once again while messages move);
    a transport that is away at first is tried again each round."""
    started = False
    while True:
        moved = False
        try:
            if not started:
                await messenger.start()
                started = True
            done = await messenger.once()
            moved = done.moved
            if moved:
                log.info("messages: %s", done)
            if broker is not None:
                for number in sorted(done.cases):
                    await publish_case_updated(broker, number)
        except Exception:
            log.exception("message pass failed")
        await asyncio.sleep(0 if moved else interval)
