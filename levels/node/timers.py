"""One store's timer pass (DESIGN §2: a node runs its own timers): fire the case timers
that are due, issue the supervision cards of clocks that turned, mark e-licences whose
validity ended EXPIRED, flag overdue 整改 and 投诉, purge idempotency records past their
retention, then sign the audit heads. The hub's pass (``gateway/timers.py``) runs it over
each store it still reaches by SQL; ``govhub node serve`` runs it over its own store.

Timers are rows, each claimed in the transaction that fires it (a row lock, ``SKIP
LOCKED`` on PostgreSQL), so two passes over one store — a node's and a hub's, or two
replicas — never fire one twice, and a pass after a pause fires whatever fell due
meanwhile. ``NodeHeadSigner`` signs the heads with the node's own key (its ``node:<id>``
key, the one its messages are signed with)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.audit.chain import HeadKey, HeadSigner, sign_head
from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases.models import CaseTimer
from levels.cases.timers import fire_due_timers, issue_cards
from levels.common.enums import Level
from levels.evaluations.timers import flag_overdue
from levels.idempotency.service import purge_expired
from levels.licences.expiry import expire_due
from levels.outbox.models import MessageState, OutboxMessage
from levels.outbox.signing import NODE_KEY_PREFIX, NodeSigner, node_key_source

# what a pass counts, per store
COUNTS = ("timers", "cards", "expired", "overdue", "purged")

Published = Callable[[str], Awaitable[None]]


async def _calendar(session: Any) -> WorkCalendar:
    return await load_calendar(session=session)


async def fire_store(
    sessions: async_sessionmaker[AsyncSession],
    levels: Iterable[Level],
    now: dt.datetime,
    signer: HeadSigner | None = None,
    published: Published | None = None,
) -> dict[str, int]:
    """One store's share of a pass at ``now``, over the ``levels`` it holds: its counts
    by kind (``COUNTS``). ``published(case_number)`` runs after each committed change of
    a case (to tell subscribers)."""
    held = tuple(levels)
    done = {
        "timers": await fire_due_timers(sessions, now=now, calendar=_calendar, on_fired=published),
        "cards": await issue_cards(sessions, now=now, on_fired=published),
        "expired": 0,
        "overdue": 0,
    }
    for level in held:
        async with sessions.begin() as session:
            # a licence's validity end is its deadline row: the pass marks it EXPIRED
            done["expired"] += await expire_due(session, level, now)
        # 整改 and 投诉 past their deadline: flagged once, with an audit event
        done["overdue"] += await flag_overdue(sessions, level=level.value, now=now)
    async with sessions.begin() as session:
        done["purged"] = await purge_expired(session, now)
    if signer is not None:
        for level in held:
            async with sessions.begin() as session:
                await sign_head(session=session, signer=signer, level=level.value, now=now)
    return done


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class NodeHeadSigner:
    """Signs a node's audit heads with the node's own ES256 key (``node:<id>`` in its
    store, made on first use, as its message envelopes are signed): a DER ECDSA
    signature over SHA-256, verified against the node's public key
    (``levels.audit.chain.verify_head_signature``)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        node_id: str,
        signer: NodeSigner,
        now: Callable[[], dt.datetime],
    ) -> None:
        self._sessions = sessions
        self._node = node_id
        self._signer = signer
        self._now = now

    async def ready(self) -> None:
        """Make the node's key now, in a transaction of its own, if it has none yet.
        ``sign`` runs while a head is locked; on SQLite a key first made there would
        wait for the head's own transaction to end (the store's whole busy timeout,
        then fail), so a pass calls this before it locks a head."""
        async with self._sessions.begin() as session:
            await self._signer.current_key(session, self._node, self._now())

    async def sign(self, data: bytes) -> tuple[str, str]:
        async with self._sessions.begin() as session:
            kid, key = await self._signer.current_key(session, self._node, self._now())
        return kid, _b64url(key.sign(data, ec.ECDSA(hashes.SHA256())))


async def lags(sessions: async_sessionmaker[AsyncSession], now: dt.datetime) -> dict[str, float]:
    """How far a store's workers are behind at ``now``, in seconds (0: nothing
    waits): ``timers``, since the oldest timer still due and not fired fell due;
    ``relay``, the age of the oldest message not yet acknowledged (PENDING or SENT)."""
    waiting = OutboxMessage.state.in_([MessageState.PENDING, MessageState.SENT])
    statement = select(
        select(func.min(CaseTimer.due_at))
        .where(
            CaseTimer.fired_at.is_(None),
            CaseTimer.cancelled_at.is_(None),
            CaseTimer.due_at <= now,
        )
        .scalar_subquery(),
        select(func.min(OutboxMessage.created_at)).where(waiting).scalar_subquery(),
    )
    async with sessions() as session:
        due, oldest = (await session.execute(statement)).one()

    def behind(since: dt.datetime | None) -> float:
        if since is None:
            return 0.0
        if since.tzinfo is None:  # SQLite gives naive UTC
            since = since.replace(tzinfo=dt.UTC)
        return round(max((now - since).total_seconds(), 0.0), 3)

    return {"timers": behind(due), "relay": behind(oldest)}


def head_keys(
    sessions: async_sessionmaker[AsyncSession],
    node_id: str,
    ring: Callable[[str], Awaitable[HeadKey | None]],
) -> Callable[[str], Awaitable[HeadKey | None]]:
    """The keys a node's heads verify with: its own (a ``node:`` kid, read from its
    store) or else the hub's key ring's (``ring``), which signed them before."""
    own = node_key_source(sessions, node_id)

    async def lookup(kid: str) -> HeadKey | None:
        if kid.startswith(NODE_KEY_PREFIX):
            return next((k.key for k in await own() if k.kid == kid), None)
        return await ring(kid)

    return lookup
