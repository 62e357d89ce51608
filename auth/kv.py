"""Short-lived shared state: Redis when configured, an in-process stand-in without it.

Used for the session denylist (``auth/identity.py``), and by the hub for anything else
that must be seen by every hub process but need not outlive its TTL (idempotency
locks, persisted queries). Rate limits — the login throttle first — use the same Redis
through ``limits`` (``rate_limit_storage``). It lives in ``auth/``, the lowest layer
that uses it; the hub's settings reach it through ``RedisSettings``."""

from __future__ import annotations

import time
from typing import Protocol

from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from redis.asyncio import Redis


class RedisSettings(Protocol):
    """Where the shared Redis is (``gateway.settings.Settings`` is one)."""

    @property
    def redis_url(self) -> str | None: ...

    @property
    def redis_namespace(self) -> str: ...


class KeyValue(Protocol):
    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def get(self, key: str) -> str | None: ...

    async def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        """Set ``key`` only if it is not there (a short lock); True when this call set it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryKeyValue:
    """One process's stand-in for Redis: values expire after their TTL."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, float]] = {}

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        now = time.monotonic()
        if len(self._items) > 10_000:
            self._items = {k: v for k, v in self._items.items() if v[1] > now}
        self._items[key] = (value, now + ttl_seconds)

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[1] <= time.monotonic():
            return None
        return item[0]

    async def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def close(self) -> None:
        self._items.clear()


class RedisKeyValue:
    """Redis, every key under the deployment's namespace (``Settings.redis_namespace``)."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        await self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        # SET NX EX: one writer wins across every hub process; the TTL frees it if
        # the process that holds it dies
        return bool(await self._redis.set(self._prefix + key, value, ex=ttl_seconds, nx=True))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


def key_value_for(settings: RedisSettings) -> KeyValue:
    if settings.redis_url:
        return RedisKeyValue(settings.redis_url, settings.redis_namespace)
    return MemoryKeyValue()


def rate_limit_storage(settings: RedisSettings) -> Storage:
    if settings.redis_url:
        scheme, rest = settings.redis_url.split("://", 1)
        uri = f"async+{scheme}://{rest}"
        return RedisStorage(
            uri, implementation="redispy", key_prefix=settings.redis_namespace + "limits"
        )
    return MemoryStorage()
