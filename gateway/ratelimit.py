"""Requests per minute, per address and per client (``limits``, moving windows, in the
storage the login throttle uses: Redis when configured, so every replica counts the
same window; in-process otherwise).

* per address (app-wide, in the request gate, ``gateway/gate.py``): every request of an
  address counts, except the health and metrics endpoints (``requests_per_minute_per_ip``).
* ``ClientRateLimit`` (GraphQL over HTTP, after the token is read): the signed-in
  account or machine client, or the address of an anonymous one
  (``requests_per_minute``).

Over either: 429, ``Retry-After`` and ``{"errors": [{"extensions": {"code":
"RATE_LIMITED", "retryAfter": …}}]}``.

The address is the socket peer. Behind a load balancer, set ``GOVHUB_TRUSTED_PROXIES``
to its addresses or networks: a request from one of them is taken to come from the
right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy (uvicorn's
``ProxyHeadersMiddleware``), for rate limits, login throttling and logs alike.

A GraphQL request adds both limits to its gathered checks (``gateway/admission.py``):
one Redis round trip with the denylist and the cost budget, before it runs."""

from __future__ import annotations

import orjson
from limits import RateLimitItemPerMinute
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from auth.backend import viewer_of
from gateway.admission import (
    Budget,
    Check,
    Checker,
    Refusal,
    Revoked,
    Window,
    pending_of,
    unauthenticated,
)
from gateway.settings import Settings

EXEMPT = ("/health/", "/metrics")
MESSAGES = ("请求过于频繁，请 {0} 秒后再试", "too many requests; try again in {0} s")


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


def refusal_response(request: HTTPConnection, refusal: Refusal) -> Response | None:
    """What a refused request answers instead of its response (the request gate,
    ``gateway/gate.py``): None for the cost budget, which the GraphQL answer reports
    itself."""
    if isinstance(refusal.check, Revoked):
        return unauthenticated(request)
    if isinstance(refusal.check, Budget):
        return None
    return too_many(request, refusal.retry_after)


async def admit(
    checker: Checker, check: Check, scope: Scope, receive: Receive, send: Send, app: ASGIApp
) -> None:
    """Add ``check`` to the request's gathered checks, or ask it now; then go on."""
    pending = pending_of(scope)
    if pending is not None:
        pending.add(check)
    elif (refusal := await checker.run([check])) is not None:
        await too_many(HTTPConnection(scope), refusal.retry_after)(scope, receive, send)
        return
    await app(scope, receive, send)


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class ClientRateLimit:
    """Behind ``AuthenticationMiddleware``: ``scope["user"]`` is the viewer."""

    def __init__(self, app: ASGIApp, checker: Checker, per_minute: int) -> None:
        self.app = app
        self.checker = checker
        self.item = RateLimitItemPerMinute(per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        subject = viewer_of(HTTPConnection(scope)).subject
        key = f"sub:{subject}" if subject else f"ip:{address_of(scope)}"
        check = Window(self.item, "requests-client", key)
        await admit(self.checker, check, scope, receive, send, self.app)


def proxies(settings: Settings) -> list[Middleware]:
    """The real client address (when a proxy is trusted), before anything reads it."""
    if settings.trusted_proxies.strip():
        return [Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)]
    return []


def address_limit(settings: Settings) -> int | None:
    """Requests per minute per address, for the request gate (``gateway/gate.py``);
    None: no per-address limit (the bench's switch)."""
    return settings.requests_per_minute_per_ip
