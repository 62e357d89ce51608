"""The hub serves the supervision page and its files with a strict Content-Security-Policy;
the page loads nothing from outside the hub and has no inline script or style (no
browser needed for these)."""

from __future__ import annotations

import re

import httpx

from gateway.dashboard import STATIC

PAGES = ["/dashboard", "/dashboard/"]
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
ASSETS = {
    "/dashboard/static/dashboard.js": "javascript",
    "/dashboard/static/dashboard.css": "text/css",
}


def csp_of(response: httpx.Response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


async def test_the_page_is_served_under_a_strict_policy(http: httpx.AsyncClient) -> None:
    for path in PAGES:
        response = await http.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert "政务服务督查" in response.text
        csp = csp_of(response)
        assert csp["default-src"] == "'self'"
        assert csp["script-src"] == "'self'"
        assert csp["connect-src"] == "'self'"
        assert csp["frame-ancestors"] == "'none'"
        assert "unsafe" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"

    for path, kind in ASSETS.items():
        response = await http.get(path)
        assert response.status_code == 200, path
        assert kind in response.headers["content-type"]
        assert csp_of(response)["default-src"] == "'self'"


async def test_nothing_but_the_assets_is_served(http: httpx.AsyncClient) -> None:
    for path in [
        "/dashboard/static/../__init__.py",
        "/dashboard/static/%2e%2e/__init__.py",
        "/dashboard/static/missing.js",
    ]:
        response = await http.get(path)
        assert response.status_code == 404, path
        assert "STATIC" not in response.text


def test_the_page_needs_nothing_from_outside_and_writes_no_html() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    css = (STATIC / "dashboard.css").read_text(encoding="utf-8")
    # every script is a file of the hub's, no inline code, no inline styles or handlers
    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script src="/dashboard/static/dashboard.js" defer>'
    ]
    assert [body.strip() for body in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)] == [
        ""
    ]
    assert re.search(r"\sstyle=|\son[a-z]+=", html) is None
    assert "<style" not in html
    # no CDN, no web font, no remote image: the page works on an intranet
    for text in (html, script, css):
        text = text.replace(SVG_NAMESPACE, "")  # a name, not an address fetched
        assert re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text) is None
        assert "@import" not in text
    # API data reaches the page only through textContent / setAttribute
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
