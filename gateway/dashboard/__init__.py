"""The supervision page: a small static page served by the hub at ``/dashboard``.

It signs in and reads the ``supervision`` query over the public GraphQL API only, from
the browser; nothing is rendered on the server and nothing is fetched from elsewhere
(it works offline on an intranet). Every response carries a strict
Content-Security-Policy: scripts, styles and requests from the hub only, no inline
script or style, no frames."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).with_name("static")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def index(_request: Request) -> Response:
    # the page itself is tiny and changes with a release: always revalidate
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )


def routes() -> list[BaseRoute]:
    """``/dashboard`` (and ``/dashboard/``) and its scripts and styles under
    ``/dashboard/static/``."""
    return [
        Route("/dashboard", index, methods=["GET", "HEAD"]),
        Route("/dashboard/", index, methods=["GET", "HEAD"]),
        Mount(
            "/dashboard/static",
            app=SecurityHeaders(StaticFiles(directory=STATIC)),
            name="dashboard-static",
        ),
    ]
