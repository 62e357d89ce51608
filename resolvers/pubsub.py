"""Publish/subscribe between hub processes: Redis pub/sub when configured, an
in-process stand-in without it (chosen like ``auth/kv.py``, by ``redis_url``). Part of
the hub: subscriptions follow it, mutations and the background workers publish on it.

Messages are notifications ("case X changed"), never the data itself: a subscriber
reads what it needs afresh from the store, with its own viewer's rights. Hence a
subscriber that falls behind loses its oldest pending messages, not memory: what a
dropped notification said, a later one says again.

``subscribe(channel)`` gives a ``Subscription``: an async iterator of the messages of
``channel``, and an async context manager — enter it to be subscribed *before* reading
the state the messages are about (no change slips between the read and the
subscription), leave it (or ``aclose()``, or cancel the task) to unsubscribe."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol, Self

from redis.asyncio import Redis
from redis.exceptions import RedisError

from auth.kv import RedisSettings

log = logging.getLogger("govhub.pubsub")

# messages a slow subscriber may have pending before the oldest are dropped
QUEUE_SIZE = 64
# how long subscribing waits for Redis to confirm the subscription
CONFIRM_SECONDS = 5.0
# what a broker that cannot be reached raises (TimeoutError is an OSError)
DELIVERY_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)
# the message every subscriber gets when Redis came back after its connection was lost:
# what was published meanwhile is gone, so read again
RESYNC = ""


class Subscription:
    """The messages of one channel for one subscriber, in order."""

    def __init__(
        self,
        channel: str,
        attach: Callable[[asyncio.Queue[str]], Awaitable[None]],
        detach: Callable[[asyncio.Queue[str]], Awaitable[None]],
        queue_size: int,
    ) -> None:
        self.channel = channel
        self._attach = attach
        self._detach = detach
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self._state = "new"  # new -> open -> closed

    async def open(self) -> None:
        if self._state == "closed":
            raise RuntimeError(f"subscription to {self.channel} is closed")
        if self._state == "new":
            self._state = "open"
            try:
                await self._attach(self._queue)
            except BaseException:
                self._state = "closed"
                await asyncio.shield(self._detach(self._queue))
                raise

    async def aclose(self) -> None:
        if self._state == "open":
            self._state = "closed"
            # unsubscribing must finish even when the subscriber's task is cancelled
            await asyncio.shield(self._detach(self._queue))
        self._state = "closed"

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def skip_pending(self) -> int:
        """Drop the messages already waiting; how many there were."""
        skipped = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            skipped += 1
        return skipped

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        if self._state == "closed":
            raise StopAsyncIteration
        await self.open()
        return await self._queue.get()


class Broker(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> Subscription: ...

    async def close(self) -> None: ...


def offer(queue: asyncio.Queue[str], message: str) -> None:
    """Put ``message`` on a subscriber's queue; when it is full, drop the oldest."""
    while True:
        try:
            queue.put_nowait(message)
            return
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()


class MemoryBroker:
    """One process's stand-in for Redis pub/sub: every subscriber of a channel in this
    process gets every message published on it here."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._queues: dict[str, set[asyncio.Queue[str]]] = {}

    async def publish(self, channel: str, message: str) -> None:
        self.deliver(channel, message)

    def deliver(self, channel: str, message: str) -> None:
        for queue in tuple(self._queues.get(channel, ())):
            offer(queue, message)

    def add(self, channel: str, queue: asyncio.Queue[str]) -> None:
        self._queues.setdefault(channel, set()).add(queue)

    def remove(self, channel: str, queue: asyncio.Queue[str]) -> None:
        queues = self._queues.get(channel)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[channel]

    def subscribe(self, channel: str) -> Subscription:
        async def attach(queue: asyncio.Queue[str]) -> None:
            self.add(channel, queue)

        async def detach(queue: asyncio.Queue[str]) -> None:
            self.remove(channel, queue)

        return Subscription(channel, attach, detach, self.queue_size)

    async def close(self) -> None:
        self._queues.clear()


class RedisBroker:
    """Redis pub/sub under the deployment's namespace (``Settings.redis_namespace``):
    Redis delivers a message to every subscriber of its channel whatever database they
    selected, so the channel's name is what keeps another deployment's messages on the
    same Redis from ever reaching this one. One Redis connection per hub process listens
    for every channel some subscriber here follows (not one per subscriber) and hands
    each message to the local subscribers of its channel. When that connection is lost,
    redis-py connects and subscribes again; the subscribers then get ``RESYNC``."""

    def __init__(self, url: str, prefix: str, *, queue_size: int = QUEUE_SIZE) -> None:
        self._redis = Redis.from_url(url, decode_responses=True)
        self._pubsub = self._redis.pubsub()
        self._prefix = prefix
        self._local = MemoryBroker(queue_size)
        self._listeners: Counter[str] = Counter()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._prefix + channel, message)

    def subscribe(self, channel: str) -> Subscription:
        counted = False

        async def attach(queue: asyncio.Queue[str]) -> None:
            nonlocal counted
            # listen locally first: nothing Redis sends once subscribed is missed
            self._local.add(channel, queue)
            async with self._lock:
                self._listeners[channel] += 1
                counted = True
                confirmed = self._confirmed.get(channel)
                if confirmed is None:
                    confirmed = self._confirmed[channel] = asyncio.Event()
                    try:
                        await self._pubsub.subscribe(self._prefix + channel)
                    except BaseException:
                        del self._confirmed[channel]
                        raise
                    self._start_reader()
            # messages published once Redis has confirmed reach this subscriber
            async with asyncio.timeout(CONFIRM_SECONDS):
                await confirmed.wait()

        async def detach(queue: asyncio.Queue[str]) -> None:
            nonlocal counted
            self._local.remove(channel, queue)
            if not counted:
                return
            counted = False
            async with self._lock:
                self._listeners[channel] -= 1
                if self._listeners[channel] > 0:
                    return
                del self._listeners[channel]
                if self._confirmed.pop(channel, None) is not None:
                    try:
                        await self._pubsub.unsubscribe(self._prefix + channel)
                    except (RedisError, OSError) as e:
                        log.warning("Redis unsubscribe from %s failed: %r", channel, e)

        return Subscription(channel, attach, detach, self._local.queue_size)

    def _start_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="govhub-pubsub-reader")

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (RedisError, OSError) as e:
                # redis-py reconnects (and subscribes again) on the next read
                log.warning("Redis pub/sub read failed, retrying: %r", e)
                await asyncio.sleep(1.0)
                continue
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        name = message.get("channel")
        if not isinstance(name, str) or not name.startswith(self._prefix):
            return
        channel = name.removeprefix(self._prefix)
        if message.get("type") == "subscribe":
            event = self._confirmed.get(channel)
            if event is not None and event.is_set():
                # subscribed again after a reconnection: messages may have been missed
                self._local.deliver(channel, RESYNC)
            elif event is not None:
                event.set()
        elif message.get("type") == "message":
            self._local.deliver(channel, str(message.get("data")))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()
        await self._redis.aclose()
        await self._local.close()


def broker_for(settings: RedisSettings) -> Broker:
    if settings.redis_url:
        return RedisBroker(settings.redis_url, settings.redis_namespace)
    return MemoryBroker()
