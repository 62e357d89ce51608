"""Rate limits of the identity layer (``limits``, moving windows; Redis-backed when
Redis is configured, in-process otherwise).

Failed logins are counted per account and per client IP, per attempt: a document that
aliases ``login`` a hundred times makes a hundred attempts and is stopped after the
fifth failure like anyone else."""

from __future__ import annotations

import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter


class Throttle:
    def __init__(
        self, storage: Storage, *, login_failures_per_minute: int, handoffs_per_minute: int
    ) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._login: RateLimitItem = RateLimitItemPerMinute(login_failures_per_minute)
        self._handoff: RateLimitItem = RateLimitItemPerMinute(handoffs_per_minute)

    async def login_allowed(self, username: str, ip: str) -> bool:
        return await self._limiter.test(
            self._login, "login-account", username.lower()
        ) and await self._limiter.test(self._login, "login-ip", ip)

    async def login_failed(self, username: str, ip: str) -> None:
        await self._limiter.hit(self._login, "login-account", username.lower())
        await self._limiter.hit(self._login, "login-ip", ip)

    async def handoff(self, action: str, who: str) -> bool:
        """One hand-off step (start by IP, approve by account); False when over."""
        return await self._limiter.hit(self._handoff, "handoff-" + action, who)

    async def retry_after(self, username: str, ip: str) -> int:
        """Seconds until a blocked login may be tried again."""
        resets = [
            (await self._limiter.get_window_stats(self._login, scope, key)).reset_time
            for scope, key in (("login-account", username.lower()), ("login-ip", ip))
        ]
        return max(1, int(max(resets) - time.time()) + 1)
