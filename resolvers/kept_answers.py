"""Answers the hub keeps for as long as it tells its clients they may keep them (their
HTTP ``max-age``), by the app's clock (``levels.common.clock``): a burst of requests
for the same answer costs one making of it. Used for the offline kit and the issuers'
status lists (``resolvers/licensing.py``), which are signed afresh when made.

An answer is kept per process, under the key of what it depends on; it is fresh from
the instant it was made (the clock's ``now`` then) for ``max_age`` seconds, and never
before that instant (a clock moved back makes it stale). Requests that come while the
answer is being made wait for that one making. What ``keep`` refuses (an incomplete
answer) is given to the requests that waited for it but not kept. Served kept, an
answer's ``max-age`` is what is left of it (``Kept.left``), so a client keeping it in
turn holds it no longer than ``max_age`` after it was made."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from levels.common.clock import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T
    made: dt.datetime
    max_age: int

    def left(self, now: dt.datetime) -> int:
        """The whole seconds it is still fresh at ``now`` (0: stale)."""
        if now < self.made:
            return 0
        return max(0, math.floor(self.max_age - (now - self.made).total_seconds()))


def _always(_value: object) -> bool:
    return True


class KeptAnswers(Generic[T]):
    def __init__(self, clock: Clock, max_age: int) -> None:
        self.clock = clock
        self.max_age = max_age
        self._kept: dict[Hashable, Kept[T]] = {}
        self._making: dict[Hashable, asyncio.Future[Kept[T]]] = {}
        self._generation = 0  # counted up by ``forget``

    def fresh(self, key: Hashable) -> Kept[T] | None:
        kept = self._kept.get(key)
        if kept is not None and kept.left(self.clock.now()) > 0:
            return kept
        return None

    async def get(
        self,
        key: Hashable,
        make: Callable[[dt.datetime], Awaitable[T]],
        keep: Callable[[T], bool] = _always,
    ) -> Kept[T]:
        """The answer kept under ``key`` while fresh, else ``make(now)``'s (one making
        for the requests that come meanwhile), kept when ``keep`` says so."""
        kept = self.fresh(key)
        if kept is not None:
            return kept
        making = self._making.get(key)
        if making is None:
            making = asyncio.ensure_future(self._make(key, make, keep))
            self._making[key] = making
            making.add_done_callback(lambda done: self._done(key, done))
        # a request cancelled while waiting leaves the making to the others
        return await asyncio.shield(making)

    async def _make(
        self,
        key: Hashable,
        make: Callable[[dt.datetime], Awaitable[T]],
        keep: Callable[[T], bool],
    ) -> Kept[T]:
        now, generation = self.clock.now(), self._generation
        made = Kept(await make(now), now, self.max_age)
        # forgotten while it was made, what it says may be older than the change: not kept
        current = generation == self._generation
        if current and keep(made.value):
            # the stale ones go as a new one comes: what is kept stays what is asked for
            self._kept = {k: v for k, v in self._kept.items() if v.left(now) > 0}
            self._kept[key] = made
        elif current:
            self._kept.pop(key, None)
        return made

    def _done(self, key: Hashable, done: asyncio.Future[Kept[T]]) -> None:
        if self._making.get(key) is done:
            del self._making[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter has had it raised

    def forget(self) -> None:
        """Nothing kept: the next request makes its answer afresh (after a change this
        process made to what the answers say); one being made is not kept either."""
        self._kept.clear()
        self._making.clear()
        self._generation += 1
