"""GraphiQL at ``/graphql`` (dev mode), served entirely by the hub.

React, GraphiQL and its explorer plugin come from ``static/vendor/``, which ``make
graphiql`` fills from the pinned npm packages (``vendor.py``); the page's own script and
style are ``static/graphiql.js`` and ``static/graphiql.css``. The page and its files carry
the supervision page's Content-Security-Policy (scripts, styles, fonts and requests from
the hub only, no inline script or style), and every script and stylesheet is named with
its integrity hash. Where the assets were never installed the page says so, and how to
install them, instead of showing a blank page."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from html import escape
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from gateway.dashboard import SECURITY_HEADERS, SecurityHeaders

STATIC = Path(__file__).with_name("static")
VENDOR = STATIC / "vendor"
PREFIX = "/graphiql/static"

# in the order the page loads them: React first, the page's own script last
SCRIPTS = [
    "vendor/react.production.min.js",
    "vendor/react-dom.production.min.js",
    "vendor/graphiql.min.js",
    "vendor/plugin-explorer.umd.js",
    "graphiql.js",
]
STYLES = ["vendor/graphiql.min.css", "vendor/plugin-explorer.css", "graphiql.css"]

NOT_INSTALLED = """\
GraphiQL's scripts are not installed on this hub, so the page cannot start. Install them
with <code>make graphiql</code> (it needs npm and runs <code>npm ci</code> in
<code>gateway/graphiql</code>), then reload. The API itself works without them: send
queries to this address with any GraphQL client."""


def sha384(data: bytes) -> str:
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def _integrity(static: Path) -> dict[str, str] | None:
    """Each served file's integrity attribute; None when the vendor files are missing."""
    manifest = static / "vendor" / "manifest.json"
    if not manifest.is_file():
        return None
    vendor: dict[str, str] = json.loads(manifest.read_text())
    found = {f"vendor/{name}": value for name, value in vendor.items()}
    if any(not (static / name).is_file() for name in found):
        return None
    for name in ("graphiql.js", "graphiql.css"):
        found[name] = f"sha384-{sha384((static / name).read_bytes())}"
    return found


def render(static: Path = STATIC) -> str:
    """The page's HTML: the GraphiQL app, or what to do when its files are missing."""
    integrity = _integrity(static)
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>GovHub GraphiQL</title>",
        # no icon to fetch (a browser asks for /favicon.ico otherwise)
        '<link rel="icon" href="data:,">',
    ]
    if integrity is None:
        page = f"{PREFIX}/graphiql.css"
        head.append(f'<link rel="stylesheet" href="{page}">')
        body = (
            '<main id="graphiql-missing" class="missing"><h1>GraphiQL is not installed</h1>'
            f"<p>{NOT_INSTALLED}</p></main>"
        )
    else:
        for name in STYLES:
            head.append(
                f'<link rel="stylesheet" href="{PREFIX}/{name}" '
                f'integrity="{escape(integrity[name])}">'
            )
        scripts = "".join(
            f'<script src="{PREFIX}/{name}" integrity="{escape(integrity[name])}"></script>'
            for name in SCRIPTS
        )
        body = f'<div id="graphiql" class="graphiql-container">Loading…</div>{scripts}'
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n'
        + "\n".join(head)
        + f"\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


@cache
def _page() -> str:
    return render()


def page_response() -> Response:
    """The page, under the strict policy. A page saying the assets are missing is not
    kept: once ``make graphiql`` has run, the next request shows GraphiQL."""
    html = _page()
    if "graphiql-missing" in html:
        _page.cache_clear()
    return HTMLResponse(html, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


def installed(static: Path = STATIC) -> bool:
    return _integrity(static) is not None


def routes() -> list[BaseRoute]:
    """The page's scripts, styles and fonts under ``/graphiql/static/``."""
    return [
        Mount(PREFIX, app=SecurityHeaders(StaticFiles(directory=STATIC)), name="graphiql-static")
    ]
