"""The GraphiQL page at /graphql is served by the hub alone: every script and style comes
from /graphiql/static with its integrity hash, under the supervision page's strict
Content-Security-Policy, no inline script or style; the vendored files are the pinned
releases; without them the page says what to run instead of being blank. (The page in
a browser with no internet: tests/browser/test_graphiql.py.)"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from gateway import graphiql
from gateway.app import create_app
from gateway.dashboard import CONTENT_SECURITY_POLICY
from gateway.graphiql import vendor
from gateway.nodes import NodeRegistry
from gateway.settings import Mode, Settings
from tests.support.served import unavailable

HTML = {"accept": "text/html"}


def needs_assets() -> None:
    if not graphiql.installed():
        unavailable("GraphiQL's assets are not installed", "run `make graphiql` (needs npm)")


async def test_the_graphiql_page_is_served_under_the_dashboards_strict_policy(
    http: httpx.AsyncClient,
) -> None:
    needs_assets()
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["x-frame-options"] == "DENY"
    html = page.text
    assert "<style" not in html and " style=" not in html
    assert "unpkg" not in html and "https://" not in html and "http://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert len(scripts) == len(graphiql.SCRIPTS)
    assert all(body == "" for _attrs, body in scripts), "an inline script"
    tags = re.findall(r'(?:src|href)="(/graphiql/static/[^"]+)" integrity="sha384-([^"]+)"', html)
    assert len(tags) == len(graphiql.SCRIPTS) + len(graphiql.STYLES)
    for path, digest in tags:
        asset = await http.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        served = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert served == digest, f"{path}: the page's integrity hash is not the file's"


async def test_graphiqls_stylesheet_needs_no_data_url_font(http: httpx.AsyncClient) -> None:
    """font-src falls back to 'self': the embedded fonts are served as files."""
    needs_assets()
    css = (await http.get("/graphiql/static/vendor/graphiql.min.css")).text
    assert "data:font" not in css
    fonts = re.findall(r"url\((fonts/[^)]+)\)", css)
    assert fonts
    font = await http.get(f"/graphiql/static/vendor/{fonts[0]}")
    assert font.status_code == 200 and font.content[:4] in (b"wOF2", b"wOFF")


def test_without_its_assets_the_page_says_how_to_install_them(tmp_path: Path) -> None:
    (tmp_path / "graphiql.css").write_text("")
    html = graphiql.render(tmp_path)
    assert "GraphiQL is not installed" in html and "make graphiql" in html
    assert "<script" not in html


def test_vendoring_refuses_a_file_that_is_not_the_pinned_release(tmp_path: Path) -> None:
    modules = tmp_path / "node_modules"
    react = modules / vendor.PINNED[0].source
    react.parent.mkdir(parents=True)
    react.write_text("/* react, but not 18.2.0 */")
    with pytest.raises(SystemExit, match="not the pinned release"):
        vendor.build(modules, tmp_path / "vendor")
    assert not (tmp_path / "vendor").exists()


def test_vendoring_copies_the_pinned_files_with_their_fonts(tmp_path: Path) -> None:
    if not vendor.NODE_MODULES.is_dir():
        unavailable("gateway/graphiql/node_modules is missing", "run `make graphiql` (needs npm)")
    manifest = vendor.build(vendor.NODE_MODULES, tmp_path / "vendor")
    assert set(manifest) == {pin.served for pin in vendor.PINNED}
    for pin in vendor.PINNED:
        if pin.served.endswith(".js"):  # scripts are served byte for byte
            assert manifest[pin.served] == f"sha384-{pin.sha384}"
    assert list((tmp_path / "vendor" / "fonts").glob("*.woff2"))


async def test_a_prod_hub_serves_neither_graphiql_nor_its_files(
    settings: Settings, nodes: NodeRegistry
) -> None:
    prod = create_app(settings.model_copy(update={"mode": Mode.PROD}), nodes=nodes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=prod), base_url="http://govhub.test"
    ) as client:
        assert (await client.get("/graphiql/static/graphiql.js")).status_code == 404
        page = await client.get("/graphql", headers=HTML)
        assert "graphiql" not in page.text.lower()
    await prod.state.broker.close()
    await prod.state.identity.close()
