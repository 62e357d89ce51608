"""A city node and two county nodes as processes of their own (``govhub node init`` and
``govhub node serve`` on free loopback ports, a SQLite store each, the demo loaded), and
a hub in-process whose node map gives their addresses, with stores of its own for the
three nodes that are left empty: what the hub answers with a node's rows came through
the node's API."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from auth.hub_tokens import HubKey
from gateway.demo import load_demo
from gateway.nodes import NodeRegistry, build_registry
from gateway.settings import Settings
from resolvers.breakers import NodeBreakers
from tests.auth.conftest import own_hub
from tests.conftest import (
    BACKEND,
    DEMO_NOW,
    TEST_SECRET,
    fresh_databases,
    migrate_registry,
    suite_settings,
)
from tests.scenarios.desk import Desk
from tests.support import pg
from tests.support.node_process import (
    NodeProcess,
    free_port,
    govhub_env,
    init_node,
    serve_node,
)

CITY, YUCI, TAIGU = "jinzhong", "county-140702", "county-140703"


def node_map(ports: dict[str, int], databases: dict[str, str] | None = None) -> str:
    """The city node holds everything of 晋中市 but the two counties with nodes of
    their own (the longest prefix wins); each node's ``databases`` URL when given, else
    its SQLite file."""
    prefixes = {CITY: "1407", YUCI: "140702", TAIGU: "140703"}
    given = databases or {}
    return "".join(
        f'[[nodes]]\nid = "{node_id}"\nprefixes = ["{prefix}"]\n'
        f'address = "http://127.0.0.1:{ports[node_id]}"\n'
        + (f'database = "{given[node_id]}"\n' if node_id in given else "")
        + "\n"
        for node_id, prefix in prefixes.items()
    )


@dataclass
class Federation:
    desk: Desk
    served: dict[str, NodeProcess]
    stores: NodeRegistry  # the nodes' own stores (as each node process reads them)
    hub: NodeRegistry  # the hub's registry: its own (empty) stores and the API clients
    tmp: Path  # where the nodes run, with their map and the hub's key
    env: dict[str, str]  # the nodes' environment
    ports: dict[str, int]  # each node's port

    async def revive(self) -> None:
        """Every node serving again, on its port, the hub's breakers closed, its clock
        at the demo's and nothing kept of its kit and status lists (they are kept for
        their max-age, and the clock stands still): what a test that stopped a node,
        moved the clock or changed the nodes' stores leaves for the next one sharing
        the federation."""
        if self.desk.hub.clock.now() != DEMO_NOW:
            await self.desk.travel(DEMO_NOW)
        self.desk.hub.app.state.licensing.forget()
        for node_id, process in self.served.items():
            if process.process.returncode is not None:
                self.served[node_id] = await serve_node(
                    node_id, self.env, self.tmp, port=self.ports[node_id]
                )
        breakers = self.hub.breakers
        self.hub.breakers = NodeBreakers(
            failures=breakers.failures, open_seconds=breakers.open_seconds
        )


@asynccontextmanager
async def federation_in(tmp: Path, *, on_backend: bool = False) -> AsyncIterator[Federation]:
    """The nodes' stores in ``tmp`` with the demo, the three node processes serving
    them, and the hub in-process over stores of its own (left empty); all stopped
    and closed at the end. ``on_backend``: with ``GOVHUB_TEST_BACKEND=postgres`` each
    node's store and each of the hub's own is a fresh PostgreSQL database (dropped at
    the end); else SQLite files."""
    (tmp / "nodes").mkdir()
    (tmp / "hub").mkdir()
    key_file = tmp / "hub-key.pem"
    key_file.write_bytes(HubKey.generate().pem())
    ports = {node_id: free_port() for node_id in (CITY, YUCI, TAIGU)}
    created: list[str] = []
    node_dbs: dict[str, str] = {}
    hub_dbs: dict[str, str] = {}
    if on_backend and BACKEND == "postgres":
        await pg.require_services()
        tag = uuid.uuid4().hex[:8]
        node_dbs, made = await fresh_databases(f"{tag}_node", ports)
        hub_dbs, more = await fresh_databases(f"{tag}_hub", ports)
        created = made + more
    (tmp / "nodes.toml").write_text(node_map(ports, node_dbs), encoding="utf-8")
    (tmp / "hub-nodes.toml").write_text(node_map(ports, hub_dbs), encoding="utf-8")
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
        tmp / "hub",
        identity_db_url=node_settings.db_url("identity"),
        **{**common, "nodes": str(tmp / "hub-nodes.toml")},
    )
    hub = build_registry(hub_settings)
    await migrate_registry(hub)

    served: dict[str, NodeProcess] = {}
    try:
        for node_id, port in ports.items():
            served[node_id] = await serve_node(node_id, env, tmp, port=port)
        async with own_hub(hub_settings, hub) as own:
            yield Federation(Desk(own), served, stores, hub, tmp, env, ports)
    finally:
        for process in served.values():
            await process.stop()
        await hub.dispose()
        await stores.dispose()
        for name in created:
            await pg.drop_database(name)


@asynccontextmanager
async def sql_desk(federation: Federation) -> AsyncIterator[Desk]:
    """A hub reading the nodes' own stores by SQL (the same map, its addresses left
    unused): the SQL path the answers through the nodes' API are compared with."""
    stores = federation.stores
    by_sql = stores.replacing(*(dataclasses.replace(n, client=None) for n in stores))
    settings: Settings = federation.desk.hub.app.state.settings
    async with own_hub(settings, by_sql) as own:
        yield Desk(own)


async def count_rows(registry: NodeRegistry, model: Any, at: str = YUCI, **where: Any) -> int:
    """Rows of ``model`` in the store of node ``at`` in ``registry`` (the nodes' own
    stores or the hub's), those whose columns equal ``where`` if given."""
    async with registry[at].sessions() as session:
        stmt = select(func.count()).select_from(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return int(await session.scalar(stmt) or 0)


async def assert_hub_untouched(
    federation: Federation, models: tuple[Any, ...], at: str = YUCI
) -> None:
    """The hub's own store for node ``at`` holds no row of any of ``models``: what
    was written went through the node's API to the node's store."""
    for model in models:
        assert await count_rows(federation.hub, model, at) == 0, model


# what a call to a node is counted by, besides the node: its operation and kind
CallKey = Callable[[str, dict[str, Any]], tuple[str, Any]]


@contextmanager
def counted_calls(
    federation: Federation, monkeypatch: pytest.MonkeyPatch, key: CallKey
) -> Iterator[Counter[Any]]:
    """The hub's calls to the nodes while the block runs: by node and what ``key``
    reads from the document and its variables."""
    counted: Counter[Any] = Counter()
    for node in federation.hub:
        client = node.client
        assert client is not None
        execute = client.execute

        async def counting(
            document: str, variables: Any = None, *, _n: Any = node.id, _e: Any = execute
        ) -> Any:
            counted[(_n, *key(document, variables or {}))] += 1
            return await _e(document, variables)

        monkeypatch.setattr(client, "execute", counting)
    yield counted
    monkeypatch.undo()


async def every_page(
    desk: Desk, who: str, document: str, field: str, **variables: Any
) -> list[dict[str, Any]]:
    """The nodes of every page of the connection ``field`` that ``document`` asks
    ``who``'s hub for, page by page with the hub's cursor."""
    listed: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await desk.run(who, document, after=after, **variables))[field]
        listed += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return listed
        after = page["pageInfo"]["endCursor"]
