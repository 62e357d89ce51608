"""The source store's side of a message transport (``gateway/messaging``): which
messages go out now, marking them SENT, and keeping the receipt that comes back.

A message is PENDING until the transport has taken it, SENT until its receipt comes
back (a SENT message whose receipt has not come within the resend delay is sent again:
the same envelope, which the transport's duplicate window or the target's inbox turns
into nothing), then ACKNOWLEDGED with the receipt kept — or FAILED when its target
refused it (an incident)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.outbox.models import MessageState, OutboxMessage
from levels.outbox.service import RetryPolicy, _is_sqlite, record_failure

OUTGOING = (MessageState.PENDING, MessageState.SENT)


def _locked(session: AsyncSession, stmt: object) -> object:
    stmt = stmt.execution_options(populate_existing=True)  # type: ignore[attr-defined]
    if _is_sqlite(session):
        return stmt
    return stmt.with_for_update(skip_locked=True)  # type: ignore[attr-defined]


async def due_to_send(
    session: AsyncSession, *, now: dt.datetime, limit: int, sent_too: bool = False
) -> Sequence[OutboxMessage]:
    """PENDING messages, and SENT ones whose receipt is late (every SENT one with
    ``sent_too``: a new transport holds none of them), oldest first (locked on
    PostgreSQL, skipping those another publisher holds). Their order per entity is
    the target's business: it applies an entity's messages in sequence."""
    due = OutboxMessage.next_attempt_at <= now
    if sent_too:
        due = or_(due, OutboxMessage.state == MessageState.SENT)
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state.in_(OUTGOING), due)
        .order_by(OutboxMessage.created_at, OutboxMessage.entity_seq, OutboxMessage.id)
        .limit(limit)
    )
    return (await session.scalars(_locked(session, stmt))).all()  # type: ignore[call-overload]


async def outgoing(session: AsyncSession, ids: Iterable[str]) -> Sequence[OutboxMessage]:
    """Those of these messages still waiting for a receipt (locked, as above)."""
    wanted = list(ids)
    if not wanted:
        return []
    stmt = select(OutboxMessage).where(
        OutboxMessage.id.in_(wanted), OutboxMessage.state.in_(OUTGOING)
    )
    return (await session.scalars(_locked(session, stmt))).all()  # type: ignore[call-overload]


def mark_sent(message: OutboxMessage, now: dt.datetime, resend_after: dt.timedelta) -> None:
    message.state = MessageState.SENT
    message.next_attempt_at = now + resend_after
    message.last_error = None


def mark_received(message: OutboxMessage, receipt: str, now: dt.datetime) -> None:
    """Its target applied it (or had already): the receipt is kept with the row."""
    message.receipt = receipt
    message.state = MessageState.ACKNOWLEDGED
    message.delivered_at = message.delivered_at or now
    message.acknowledged_at = now
    message.last_error = None


async def mark_refused(
    session: AsyncSession, message: OutboxMessage, receipt: str, reason: str, now: dt.datetime
) -> None:
    """Its target refused it for good: FAILED, an incident audited in this store."""
    message.receipt = receipt
    await record_failure(
        session,
        message,
        error=f"refused by its target: {reason}",
        now=now,
        policy=RetryPolicy(),
        permanent=True,
    )


async def mark_unroutable(
    session: AsyncSession, message: OutboxMessage, reason: str, now: dt.datetime
) -> None:
    """No node owns the message's target division: FAILED, an incident audited here."""
    await record_failure(
        session,
        message,
        error=f"no target node: {reason}",
        now=now,
        policy=RetryPolicy(),
        permanent=True,
    )
