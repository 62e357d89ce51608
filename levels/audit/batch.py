"""Group appends: events that need no change of their own beside them (a staff member's
read of a case) written together, many reads to one short transaction.

A caller hands its event over and waits until the transaction that holds it has
committed (``GroupAppender.append``): an event that could not be written raises there,
so the read it records is not answered. While one batch is being written, the events
that arrive meanwhile wait for the next: under load each transaction takes every read
that came in during the last one — one INSERT, each division's head locked once — and
no connection is held by a request that only waits. Each store has its appender
(``appender_for``); a node the hub reaches through its API has one whose batches are
one call of the node's (``GroupAppender(write=…)``, ``resolvers/read_audit.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.audit.chain import EventDraft, append_many

# the most events one transaction takes: the rest go in the next
MAX_BATCH = 500

Pending = tuple[EventDraft, dt.datetime, "asyncio.Future[None]"]
# writes one batch of events (each with its time), all or none
BatchWriter = Callable[[Sequence[tuple[EventDraft, dt.datetime]]], Awaitable[None]]


def store_writer(sessions: async_sessionmaker[AsyncSession]) -> BatchWriter:
    """A batch in one transaction of the store ``sessions`` open."""

    async def write(batch: Sequence[tuple[EventDraft, dt.datetime]]) -> None:
        async with sessions.begin() as session:
            await append_many(batch, session=session)

    return write


class GroupAppender:
    """Writes the events handed to it in batches, one transaction (or one call of
    ``write``) each, in order."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        *,
        write: BatchWriter | None = None,
    ) -> None:
        if write is None:
            assert sessions is not None
            write = store_writer(sessions)
        self._write = write
        self._queue: list[Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(self, draft: EventDraft, now: dt.datetime) -> None:
        """Write ``draft`` (at ``now``) and return once it is committed; raise what
        kept it from being written."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((draft, now, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._write([(d, at) for d, at, _ in batch])
            except Exception as e:  # every reader of the batch learns it was not recorded
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(e)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)


_appenders: weakref.WeakKeyDictionary[
    async_sessionmaker[AsyncSession], dict[asyncio.AbstractEventLoop, GroupAppender]
] = weakref.WeakKeyDictionary()


def appender_for(sessions: async_sessionmaker[AsyncSession]) -> GroupAppender:
    """The group appender of the store ``sessions`` open (one per event loop)."""
    loop = asyncio.get_running_loop()
    by_loop = _appenders.setdefault(sessions, {})
    for other in [lp for lp in by_loop if lp.is_closed()]:
        del by_loop[other]
    if loop not in by_loop:
        by_loop[loop] = GroupAppender(sessions)
    return by_loop[loop]
