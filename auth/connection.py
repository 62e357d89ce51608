"""What a connection says about its client: the locale its messages are written in
(``Accept-Language``) and its address (what the login throttle counts by). Read by the
authentication middleware, the GraphQL view and the sign-in resolvers alike."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def locale_of(request: HTTPConnection) -> str:
    """Chinese by default; English when the client prefers it (Accept-Language)."""
    accept = request.headers.get("accept-language", "")
    first = accept.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


def client_ip(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"
