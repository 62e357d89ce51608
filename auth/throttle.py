"""Rate limits of the identity layer (``limits``, moving windows; Redis-backed when
Redis is configured, in-process otherwise).

A sign-in attempt is counted *before* its password is checked, with one atomic hit per
budget, so that attempts running at the same time cannot all pass a check that none of
them has yet counted: whatever the concurrency, at most the budget is ever checked.

* Per account (strict, ``login_failures_per_minute``): every attempt takes one; a
  successful sign-in gives the account a fresh window (its run of failures is over).
* Per address (``login_attempts_per_minute_per_ip``, much higher): every attempt that
  the account's budget let through takes one, so a spray over many usernames from one
  address is stopped, while one person mistyping at a shared address (a hall's kiosks,
  a carrier's NAT) locks out only their own account.

A document that aliases ``login`` a hundred times makes a hundred attempts."""

from __future__ import annotations

import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

_ACCOUNT = "login-account"
_ADDRESS = "login-ip"


class Throttle:
    def __init__(
        self,
        storage: Storage,
        *,
        login_failures_per_minute: int,
        login_attempts_per_minute_per_ip: int,
        handoffs_per_minute: int,
    ) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._account: RateLimitItem = RateLimitItemPerMinute(login_failures_per_minute)
        self._address: RateLimitItem = RateLimitItemPerMinute(login_attempts_per_minute_per_ip)
        self._handoff: RateLimitItem = RateLimitItemPerMinute(handoffs_per_minute)

    async def login_attempt(self, username: str, ip: str) -> bool:
        """Count one sign-in attempt against the account's and the address's budgets;
        False (and the password must not be checked) when either is spent."""
        # an address already over its budget does not use up the account's as well
        if not await self._limiter.test(self._address, _ADDRESS, ip):
            return False
        if not await self._limiter.hit(self._account, _ACCOUNT, username.lower()):
            return False
        return await self._limiter.hit(self._address, _ADDRESS, ip)

    async def login_succeeded(self, username: str) -> None:
        """The right password: the account's failures so far no longer count."""
        await self._limiter.clear(self._account, _ACCOUNT, username.lower())

    async def handoff(self, action: str, who: str) -> bool:
        """One hand-off step (start by IP, approve by account); False when over."""
        return await self._limiter.hit(self._handoff, "handoff-" + action, who)

    async def retry_after(self, username: str, ip: str) -> int:
        """Seconds until a blocked login may be tried again (the later of the spent
        budgets)."""
        resets = [0.0]
        for item, scope, key in (
            (self._account, _ACCOUNT, username.lower()),
            (self._address, _ADDRESS, ip),
        ):
            stats = await self._limiter.get_window_stats(item, scope, key)
            if stats.remaining <= 0:
                resets.append(stats.reset_time - time.time())
        return max(1, int(max(resets)) + 1)
