"""Requests per minute, per address and per client (``limits``, moving windows, in the
storage the login throttle uses: Redis when configured, so every replica counts the
same window; in-process otherwise).

* ``AddressRateLimit`` (app-wide): every request of an address counts, except the
  health and metrics endpoints (``requests_per_minute_per_ip``).
* ``ClientRateLimit`` (GraphQL over HTTP, after the token is read): the signed-in
  account or machine client, or the address of an anonymous one
  (``requests_per_minute``).

Over either: 429, ``Retry-After`` and ``{"errors": [{"extensions": {"code":
"RATE_LIMITED", "retryAfter": …}}]}``.

The address is the socket peer. Behind a load balancer, set ``GOVHUB_TRUSTED_PROXIES``
to its addresses or networks: a request from one of them is taken to come from the
right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy (uvicorn's
``ProxyHeadersMiddleware``), for rate limits, login throttling and logs alike."""

from __future__ import annotations

import time

import orjson
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from auth.backend import viewer_of
from gateway.settings import Settings

EXEMPT = ("/health/", "/metrics")
MESSAGES = ("请求过于频繁，请 {0} 秒后再试", "too many requests; try again in {0} s")


class RateLimiter:
    def __init__(self, storage: Storage) -> None:
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, item: RateLimitItem, scope: str, key: str) -> int | None:
        """Count one request; None when allowed, else seconds until one would be."""
        if await self._limiter.hit(item, scope, key):
            return None
        stats = await self._limiter.get_window_stats(item, scope, key)
        return max(1, int(stats.reset_time - time.time()) + 1)


def too_many(request: HTTPConnection, retry_after: int) -> Response:
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    text = MESSAGES[1 if first.startswith("en") else 0].format(retry_after)
    body = {
        "errors": [
            {"message": text, "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after}}
        ]
    }
    return Response(
        orjson.dumps(body),
        status_code=429,
        media_type="application/json",
        headers={"Retry-After": str(retry_after)},
    )


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class AddressRateLimit:
    def __init__(self, app: ASGIApp, storage: Storage, per_minute: int) -> None:
        self.app = app
        self.limiter = RateLimiter(storage)
        self.item = RateLimitItemPerMinute(per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        retry_after = await self.limiter.hit(self.item, "requests-ip", address_of(scope))
        if retry_after is not None:
            await too_many(HTTPConnection(scope), retry_after)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ClientRateLimit:
    """Behind ``AuthenticationMiddleware``: ``scope["user"]`` is the viewer."""

    def __init__(self, app: ASGIApp, storage: Storage, per_minute: int) -> None:
        self.app = app
        self.limiter = RateLimiter(storage)
        self.item = RateLimitItemPerMinute(per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        subject = viewer_of(HTTPConnection(scope)).subject
        key = f"sub:{subject}" if subject else f"ip:{address_of(scope)}"
        retry_after = await self.limiter.hit(self.item, "requests-client", key)
        if retry_after is not None:
            await too_many(HTTPConnection(scope), retry_after)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def middleware(settings: Settings, storage: Storage) -> list[Middleware]:
    """The app-wide part: the real client address first (when a proxy is trusted), then
    the per-address limit."""
    stack = []
    if settings.trusted_proxies.strip():
        stack.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies))
    stack.append(
        Middleware(
            AddressRateLimit, storage=storage, per_minute=settings.requests_per_minute_per_ip
        )
    )
    return stack
