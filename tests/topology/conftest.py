"""A per-county topology (DESIGN §2, Nodes): a city node owning 140700 and a node of its
own for each county of the demo city — 榆次区 (140702), 太谷区 (140703), … — each with its
own database (a SQLite file under tmp; with ``GOVHUB_TEST_BACKEND=postgres`` a PostgreSQL
database each), the demo loaded through the node map.

And ``federation``: a city node and two county nodes as processes of their own
(``govhub node serve``, a SQLite store each), with a hub whose map gives their
addresses and whose own stores for them are empty."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auth.hub_tokens import HubKey
from gateway.demo import load_demo
from gateway.demo.plan import load_divisions
from gateway.nodes import NodeRegistry, build_registry
from gateway.settings import Settings
from levels.common.enums import Level
from tests.auth.conftest import own_hub
from tests.conftest import (
    BACKEND,
    DEMO_NOW,
    TEST_SECRET,
    fresh_databases,
    make_registry,
    migrate_registry,
    suite_settings,
)
from tests.scenarios.desk import STAFF, Desk
from tests.support import pg
from tests.support.node_process import (
    NodeProcess,
    free_port,
    govhub_env,
    init_node,
    serve_node,
)

# a node per county of the demo city, named by its code: county-140702 is 榆次区
COUNTIES = {
    f"county-{div.code[:6]}": div.code[:6]
    for div, _name in load_divisions()
    if div.level is Level.COUNTY
}
YUCI = "county-140702"
CITY, TAIGU = "jinzhong", "county-140703"


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
    databases, created = await fresh_databases(tag, ("jinzhong", *COUNTIES, "identity"))
    identity_db_url = databases.pop("identity", None)
    (tmp / "nodes.toml").write_text(node_map(databases), encoding="utf-8")
    settings = suite_settings(tmp, nodes=str(tmp / "nodes.toml"), identity_db_url=identity_db_url)
    nodes = build_registry(settings)
    await migrate_registry(nodes)
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


def process_map(ports: dict[str, int]) -> str:
    """The city node holds everything of 晋中市 but the two counties with nodes of
    their own (the longest prefix wins)."""
    prefixes = {CITY: "1407", YUCI: "140702", TAIGU: "140703"}
    return "".join(
        f'[[nodes]]\nid = "{node_id}"\nprefixes = ["{prefix}"]\n'
        f'address = "http://127.0.0.1:{ports[node_id]}"\n\n'
        for node_id, prefix in prefixes.items()
    )


@dataclass
class Federation:
    desk: Desk
    served: dict[str, NodeProcess]
    stores: NodeRegistry  # the nodes' own stores (as each node process reads them)
    hub: NodeRegistry  # the hub's registry: its own (empty) stores and the API clients


@pytest.fixture(scope="module")
async def federation(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Federation]:
    tmp = tmp_path_factory.mktemp("processes")
    (tmp / "nodes").mkdir()
    (tmp / "hub").mkdir()
    key_file = tmp / "hub-key.pem"
    key_file.write_bytes(HubKey.generate().pem())
    ports = {node_id: free_port() for node_id in (CITY, YUCI, TAIGU)}
    (tmp / "nodes.toml").write_text(process_map(ports), encoding="utf-8")
    common: dict[str, Any] = {"nodes": str(tmp / "nodes.toml"), "hub_key_file": key_file}

    # the nodes' side: each store migrated by `govhub node init`, the demo loaded
    node_settings: Settings = suite_settings(tmp / "nodes", **common)
    env = govhub_env(
        GOVHUB_VAR_DIR=str(tmp / "nodes"),
        GOVHUB_NODES=str(tmp / "nodes.toml"),
        GOVHUB_HUB_KEY_FILE=str(key_file),
        GOVHUB_SECRET_KEY=TEST_SECRET,
        GOVHUB_CLOCK_OVERRIDE=DEMO_NOW.isoformat(),
    )
    for node_id in ports:
        init_node(node_id, env, tmp)
    stores = build_registry(node_settings)
    await migrate_registry(stores)
    await load_demo(stores, secret=node_settings.identity_secret())

    # the hub's side: stores of its own for the nodes (empty), the accounts' store
    hub_settings = suite_settings(
        tmp / "hub", identity_db_url=node_settings.db_url("identity"), **common
    )
    hub = build_registry(hub_settings)
    await migrate_registry(hub)

    served: dict[str, NodeProcess] = {}
    try:
        for node_id, port in ports.items():
            served[node_id] = await serve_node(node_id, env, tmp, port=port)
        async with own_hub(hub_settings, hub) as own:
            yield Federation(Desk(own), served, stores, hub)
    finally:
        for process in served.values():
            await process.stop()
        await hub.dispose()
        await stores.dispose()
