"""The transport between level stores (DESIGN §2): a write that crosses levels.

The source store writes its change and an outbox message in one transaction
(``enqueue``). The message worker (``gateway/messaging/worker.py``) signs and publishes
it, and the target node applies it — its handler's writes and the inbox row with its
id, in one transaction (``apply``) — and sends back a signed receipt, which makes the
outbox row ACKNOWLEDGED. Sending again is always safe: the inbox turns a second
application into nothing, so a message is applied exactly once, or waits.

Every step here takes the caller's session and leaves the commit to the caller."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.outbox.errors import MessageErrorCode
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.registry import HANDLERS, Envelope, Handler, handler

__all__ = [
    "HANDLERS",
    "HANDLER_MODULES",
    "Envelope",
    "Handler",
    "OutOfOrder",
    "RetryPolicy",
    "UnknownTopic",
    "apply",
    "enqueue",
    "handler",
    "load_handlers",
]

# the modules whose handlers the relay needs: importing one registers its topics
HANDLER_MODULES = (
    "levels.cases.referral",
    "levels.cases.withdrawal",
    "levels.county.delegation",
    "levels.licences.service",
)

# audit actions of the transport itself (each topic's handler audits its own change)
FAILED_ACTION = "MESSAGE_FAILED"
RETRIED_ACTION = "MESSAGE_RETRIED"
ABANDONED_ACTION = "MESSAGE_ABANDONED"
_LAST_ERROR_MAX = 2000


def target_division(message: OutboxMessage) -> str:
    """The division whose node a message goes to (at its target level): the one its
    sender named, else its own."""
    return message.target_division or message.division_code


class UnknownTopic(Exception):
    """No handler for the topic in this process (an older relay, a missing module):
    the message waits and is tried again, as with any passing failure."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        super().__init__(f"no handler for topic {topic!r}")


class OutOfOrder(Exception):
    """The message came before its entity's previous one was applied here: it waits
    (no attempt counted) and is sent again later."""

    def __init__(self, entity: str, seq: int) -> None:
        self.entity = entity
        self.seq = seq
        super().__init__(f"{entity} message {seq} came before message {seq - 1}: it waits")


def load_handlers() -> dict[str, Handler]:
    """Import every module of ``HANDLER_MODULES`` that exists (a module not written
    yet is skipped; an import error inside one is not)."""
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return HANDLERS


def envelope_of(message: OutboxMessage) -> Envelope:
    return Envelope(
        id=message.id,
        topic=message.topic,
        source_level=message.source_level,
        target_level=message.target_level,
        case_number=message.case_number,
        payload=message.payload,
        entity=message.entity,
        entity_seq=message.entity_seq,
    )


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


# --- the source store: sending -------------------------------------------------------


async def enqueue(
    session: AsyncSession,
    *,
    topic: str,
    source: Level,
    target: Level,
    payload: dict[str, Any],
    now: dt.datetime,
    case_number: str | None = None,
    division_code: str | None = None,
    entity: str | None = None,
    target_division: str | None = None,
) -> OutboxMessage:
    """Add a PENDING message to the source store, in the caller's transaction: it is
    sent if and only if the caller commits.

    A message belongs to a division, for who may see it: its case's (the first 12
    digits of the case number) unless ``division_code`` (the source org's division)
    says otherwise; a message with neither is refused.

    The messages about one ``entity`` (``case:<number>`` by default for a case's) from
    one source level to one target level are numbered in the order they are written (a
    node holding several levels keeps a sequence per level, as the receiver checks the
    order per source level), and apply in that order
    whatever the delivery timing (the caller holds the entity's row locked, so two
    writers do not number at once; if they did, the unique index refuses one).

    ``target_division`` names the division the message goes to (its node is the owner
    of that division at the target level). Without it the message goes to the owner
    of its own division at the target level."""
    if source is target:
        raise ValueError(f"a message crosses levels: {source.value} → {target.value}")
    division = division_code or (case_number[:12] if case_number else None)
    if division is None:
        raise ValueError(f"a {topic!r} message needs a case_number or a division_code")
    entity = entity or (f"case:{case_number}" if case_number else None)
    seq = None
    if entity is not None:
        last = await session.scalar(
            select(func.max(OutboxMessage.entity_seq)).where(
                OutboxMessage.entity == entity,
                OutboxMessage.source_level == source,
                OutboxMessage.target_level == target,
            )
        )
        # messages of this transaction not flushed yet count too
        unsaved = [
            m.entity_seq or 0
            for m in session.new
            if isinstance(m, OutboxMessage)
            and m.entity == entity
            and m.source_level is source
            and m.target_level is target
        ]
        seq = max([last or 0, *unsaved]) + 1
    message = OutboxMessage(
        id=uuid.uuid4().hex,
        topic=topic,
        source_level=source,
        target_level=target,
        case_number=case_number,
        division_code=division,
        target_division=target_division,
        entity=entity,
        entity_seq=seq,
        # a copy, as the store will give it back (and a payload JSON cannot hold fails
        # here, in the caller's hands)
        payload=orjson.loads(orjson.dumps(payload)),
        state=MessageState.PENDING,
        attempts=0,
        next_attempt_at=now,
        last_error=None,
        created_at=now,
        delivered_at=None,
        acknowledged_at=None,
    )
    session.add(message)
    return message


# --- the target store: applying ------------------------------------------------------


async def apply(target_session: AsyncSession, envelope: Envelope, now: dt.datetime) -> bool:
    """Apply ``envelope`` in the target store, in the caller's transaction: run its
    topic's handler and record its id in the inbox. A message the inbox already holds
    is a duplicate and changes nothing. Returns whether it was applied now."""
    if _is_sqlite(target_session):
        # take the store's write lock before looking: a second relay waits here and
        # then sees the first one's inbox row
        await target_session.execute(
            update(InboxMessage)
            .where(InboxMessage.id == envelope.id)
            .values(topic=InboxMessage.topic)
            .execution_options(synchronize_session=False)
        )
    seen = await target_session.scalar(
        select(InboxMessage.id).where(InboxMessage.id == envelope.id)
    )
    if seen is not None:
        return False
    fn = HANDLERS.get(envelope.topic)
    if fn is None:
        raise UnknownTopic(envelope.topic)
    await _check_order(target_session, envelope)
    target_session.add(
        InboxMessage(
            id=envelope.id,
            topic=envelope.topic,
            source_level=envelope.source_level,
            case_number=envelope.case_number,
            entity=envelope.entity,
            entity_seq=envelope.entity_seq,
            received_at=now,
        )
    )
    # the inbox row first: on PostgreSQL a second relay applying the same message
    # waits on its key here, and fails when this transaction commits
    await target_session.flush()
    await fn(target_session, envelope, now)
    await target_session.flush()
    return True


async def _check_order(target_session: AsyncSession, envelope: Envelope) -> None:
    """Message n of an entity applies only after message n - 1 of it from the same
    source was applied here; one that comes early raises ``OutOfOrder``."""
    if envelope.entity is None or not envelope.entity_seq or envelope.entity_seq <= 1:
        return
    before = await target_session.scalar(
        select(InboxMessage.id).where(
            InboxMessage.source_level == envelope.source_level,
            InboxMessage.entity == envelope.entity,
            InboxMessage.entity_seq == envelope.entity_seq - 1,
        )
    )
    if before is None:
        raise OutOfOrder(envelope.entity, envelope.entity_seq)


async def inbox_holds(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the (target) store's inbox holds."""
    wanted = list(ids)
    if not wanted:
        return set()
    found = await session.scalars(select(InboxMessage.id).where(InboxMessage.id.in_(wanted)))
    return set(found)


# --- the source store: the relay's bookkeeping ---------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """When a message that failed is tried again: after ``first_delay`` seconds,
    doubling each time up to ``max_delay``; after ``max_attempts`` failures it is
    FAILED, an incident for an operator."""

    max_attempts: int = 8
    first_delay: float = 2.0
    max_delay: float = 600.0

    def delay(self, attempts: int) -> dt.timedelta:
        seconds = self.first_delay * 2 ** max(attempts - 1, 0)
        return dt.timedelta(seconds=min(seconds, self.max_delay))


async def take_write_lock(session: AsyncSession) -> None:
    """On SQLite, start the transaction as a writer (so what it reads next stays
    true until it commits); PostgreSQL locks rows instead."""
    if _is_sqlite(session):
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == "")
            .values(attempts=OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        )


def _locked(session: AsyncSession, stmt: Any) -> Any:
    stmt = stmt.execution_options(populate_existing=True)
    if _is_sqlite(session):
        return stmt
    # several relays share the work: each takes rows no other relay holds
    return stmt.with_for_update(skip_locked=True)


async def record_failure(
    session: AsyncSession,
    message: OutboxMessage,
    *,
    error: str,
    now: dt.datetime,
    policy: RetryPolicy,
    permanent: bool = False,
) -> bool:
    """Count a failed attempt: try again later (backing off), or — when the handler
    refused it for good, or after ``policy.max_attempts`` — FAILED, audited in the
    source store. Returns whether the message is FAILED now."""
    message.attempts += 1
    message.last_error = error[:_LAST_ERROR_MAX]
    if not permanent and message.attempts < policy.max_attempts:
        message.next_attempt_at = now + policy.delay(message.attempts)
        return False
    message.state = MessageState.FAILED
    await append(
        EventDraft(
            actor_id="relay",
            actor_kind="SYSTEM",
            role=None,
            channel="SYSTEM",
            org_code=None,
            level=message.source_level.value,
            action=FAILED_ACTION,
            case_number=message.case_number,
            detail=_detail(message) | {"error": message.last_error},
        ),
        session=session,
        now=now,
    )
    return True


def _detail(message: OutboxMessage) -> dict[str, Any]:
    return {
        "message": message.id,
        "topic": message.topic,
        "to": message.target_level.value,
        "attempts": message.attempts,
    }


@dataclass(frozen=True)
class Operator:
    """Who sends a FAILED message again, as the audit trail records it."""

    id: str
    kind: str
    role: str | None = None
    channel: str | None = None
    org_code: str | None = None
    request_id: str | None = None


async def retry(
    session: AsyncSession, message_id: str, *, now: dt.datetime, by: Operator
) -> OutboxMessage:
    """Put a FAILED (or DEAD) message back to PENDING, due now, its attempts counted
    afresh; audited in the source store."""
    message = await _incident(session, message_id, (MessageState.FAILED, MessageState.DEAD))
    detail = _detail(message) | {"error": message.last_error}
    message.state = MessageState.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    # signed afresh when sent again (a new message id for the transport's duplicate window)
    message.envelope = None
    await _operated(session, message, RETRIED_ACTION, detail, by=by, now=now)
    return message


async def abandon(
    session: AsyncSession, message_id: str, *, now: dt.datetime, by: Operator
) -> OutboxMessage:
    """Give a FAILED message up: DEAD, no longer an open incident (``retry`` can still
    send it again); audited in the source store. A later message about its entity
    waits at the target for it, and becomes an incident in turn."""
    message = await _incident(session, message_id, (MessageState.FAILED,))
    message.state = MessageState.DEAD
    detail = _detail(message) | {"error": message.last_error}
    await _operated(session, message, ABANDONED_ACTION, detail, by=by, now=now)
    return message


async def _incident(
    session: AsyncSession, message_id: str, states: tuple[MessageState, ...]
) -> OutboxMessage:
    """The message an operator acts on, locked as a writer: it must be in ``states``."""
    await take_write_lock(session)
    message = await session.scalar(
        _locked(session, select(OutboxMessage).where(OutboxMessage.id == message_id))
    )
    if message is None:
        raise DomainError(MessageErrorCode.MESSAGE_NOT_FOUND, field=["input", "id"])
    if message.state not in states:
        raise DomainError(
            MessageErrorCode.MESSAGE_NOT_FAILED, field=["input", "id"], detail=message.state.value
        )
    return message


async def _operated(
    session: AsyncSession,
    message: OutboxMessage,
    action: str,
    detail: dict[str, Any],
    *,
    by: Operator,
    now: dt.datetime,
) -> None:
    """Audit what an operator did to a message, in its source store."""
    await append(
        EventDraft(
            actor_id=by.id,
            actor_kind=by.kind,
            role=by.role,
            channel=by.channel,
            org_code=by.org_code,
            level=message.source_level.value,
            action=action,
            case_number=message.case_number,
            detail=detail,
            request_id=by.request_id,
        ),
        session=session,
        now=now,
    )
    await session.flush()


async def incidents(session: AsyncSession, *, limit: int = 500) -> Sequence[OutboxMessage]:
    """FAILED messages of this store, oldest first: the open incidents."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state == MessageState.FAILED)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()
