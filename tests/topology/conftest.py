"""A per-county topology (DESIGN §2, Nodes): a city node owning 140700 and a node of its
own for each county of the demo city — 榆次区 (140702), 太谷区 (140703), … — each with its
own database (a SQLite file under tmp; with ``GOVHUB_TEST_BACKEND=postgres`` a PostgreSQL
database each), the demo loaded through the node map."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.demo import load_demo
from gateway.demo.plan import load_divisions
from gateway.nodes import NodeRegistry, build_registry
from gateway.settings import Settings
from levels.common import migrate
from levels.common.enums import Level
from tests.auth.conftest import own_hub
from tests.conftest import BACKEND, DEMO_NOW, TEST_SECRET, make_registry
from tests.scenarios.desk import STAFF, Desk
from tests.support import pg

# a node per county of the demo city, named by its code: county-140702 is 榆次区
COUNTIES = {
    f"county-{div.code[:6]}": div.code[:6]
    for div, _name in load_divisions()
    if div.level is Level.COUNTY
}
YUCI = "county-140702"


def node_map(databases: dict[str, str]) -> str:
    """The TOML of the per-county map (a node without a database gets its SQLite file)."""

    def database(node_id: str) -> str:
        url = databases.get(node_id)
        return f'database = "{url}"\n' if url else ""

    city = '[[nodes]]\nid = "jinzhong"\nprefixes = ["140700"]\nlevels = ["CITY"]\n'
    text = city + database("jinzhong")
    for node_id, prefix in COUNTIES.items():
        text += f'\n[[nodes]]\nid = "{node_id}"\nprefixes = ["{prefix}"]\n{database(node_id)}'
    return text


async def per_county(tmp: Path, tag: str) -> tuple[Settings, NodeRegistry, list[str]]:
    """Fresh, migrated stores of the per-county map."""
    databases: dict[str, str] = {}
    created: list[str] = []
    identity_db_url: str | None = None
    if BACKEND == "postgres":
        for store in ("jinzhong", *COUNTIES, "identity"):
            name = f"govhub_test_{tag}_{store}"
            await pg.create_database(name)
            created.append(name)
            databases[store] = pg.async_url(name)
        identity_db_url = databases.pop("identity")
    (tmp / "nodes.toml").write_text(node_map(databases), encoding="utf-8")
    settings = Settings(
        var_dir=tmp,
        nodes=str(tmp / "nodes.toml"),
        clock_override=DEMO_NOW,
        redis_url=pg.redis_url() if BACKEND == "postgres" else None,
        secret_key=SecretStr(TEST_SECRET),
        requests_per_minute=1_000_000,
        requests_per_minute_per_ip=1_000_000,
        cost_budget_per_minute=100_000_000,
        identity_db_url=identity_db_url,
    )
    nodes = build_registry(settings)
    for node in nodes:
        await migrate.upgrade(node.engine, "levels")
    await migrate.upgrade(nodes.identity.engine, "identity")
    return settings, nodes, created


@pytest.fixture(scope="module")
async def county_stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await per_county(
        tmp_path_factory.mktemp("per-county"), uuid.uuid4().hex[:8]
    )
    await load_demo(nodes, secret=settings.identity_secret())
    yield settings, nodes
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


@pytest.fixture(scope="module")
def county_nodes(county_stores: tuple[Settings, NodeRegistry]) -> NodeRegistry:
    return county_stores[1]


@pytest.fixture
async def county_desk(county_stores: tuple[Settings, NodeRegistry]) -> AsyncIterator[Desk]:
    settings, nodes = county_stores
    async with own_hub(settings, nodes) as hub:
        d = Desk(hub)
        await d.sign_in("resident1", *STAFF)
        yield d


@pytest.fixture(scope="module")
async def embedded_stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """The embedded default with the demo, fresh (the session's stores are written to by
    other tests): what the per-county answers are compared with."""
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("embedded"), uuid.uuid4().hex[:8]
    )
    await load_demo(nodes, secret=settings.identity_secret())
    yield settings, nodes
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


@pytest.fixture
async def embedded_desk(embedded_stores: tuple[Settings, NodeRegistry]) -> AsyncIterator[Desk]:
    settings, nodes = embedded_stores
    async with own_hub(settings, nodes) as hub:
        yield Desk(hub)
