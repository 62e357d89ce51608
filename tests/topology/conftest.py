"""A per-county topology (DESIGN §2, Nodes): a city node owning 140700 and a node of its
own for each county of the demo city — 榆次区 (140702), 太谷区 (140703), … — each with its
own database (a SQLite file under tmp; with ``GOVHUB_TEST_BACKEND=postgres`` a PostgreSQL
database each), the demo loaded through the node map. The mixed topology is the same map
plus 修文镇 (140702101, a town of 榆次区) on a node of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.demo.plan import load_divisions
from gateway.nodes import NodeRegistry, build_registry
from gateway.settings import Settings
from levels.common.enums import Level
from levels.outbox.models import OutboxMessage
from levels.outbox.ownership import owner
from tests.auth.conftest import own_hub
from tests.conftest import (
    BACKEND,
    demo_in,
    fresh_databases,
    make_registry,
    migrate_registry,
    suite_settings,
)
from tests.scenarios.desk import STAFF, Desk
from tests.support import pg
from tests.support.federation import Federation, federation_in

# a node per county of the demo city, named by its code: county-140702 is 榆次区
COUNTIES = {
    f"county-{div.code[:6]}": div.code[:6]
    for div, _name in load_divisions()
    if div.level is Level.COUNTY
}
YUCI = "county-140702"
# the mixed map's town node: 修文镇 and its villages
XIUWEN = "yuci-xiuwen"


def node_map(databases: dict[str, str], extra: dict[str, str] | None = None) -> str:
    """The TOML of the per-county map, plus the ``extra`` nodes (id → prefix) given (a
    node without a database gets its SQLite file)."""

    def database(node_id: str) -> str:
        url = databases.get(node_id)
        return f'database = "{url}"\n' if url else ""

    city = '[[nodes]]\nid = "jinzhong"\nprefixes = ["140700"]\nlevels = ["CITY"]\n'
    text = city + database("jinzhong")
    for node_id, prefix in {**COUNTIES, **(extra or {})}.items():
        text += f'\n[[nodes]]\nid = "{node_id}"\nprefixes = ["{prefix}"]\n{database(node_id)}'
    return text


async def message_sources(nodes: NodeRegistry) -> dict[tuple[str, Level], set[str]]:
    """The nodes each entity's messages start from, per source level, read from every
    node's outbox; asserting that each message is in the outbox of the node owning its
    division at its source level (``levels/outbox/ownership.py``) and that each
    entity's messages of one level start from one node (its sequence is that node's)."""
    sources: dict[tuple[str, Level], set[str]] = {}
    for node in nodes:
        async with node.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        OutboxMessage.entity,
                        OutboxMessage.division_code,
                        OutboxMessage.source_level,
                    )
                )
            ).all()
        for entity, division, level in rows:
            assert owner(nodes.map, division, level) == node.id, (entity, division, node.id)
            sources.setdefault((entity or division, level), set()).add(node.id)
    assert sources, "the demo sends messages"
    assert {k: s for k, s in sources.items() if len(s) > 1} == {}
    return sources


async def per_county(
    tmp: Path, tag: str, extra: dict[str, str] | None = None
) -> tuple[Settings, NodeRegistry, list[str]]:
    """Fresh, migrated stores of the per-county map (with the ``extra`` nodes); on
    PostgreSQL once its services are there."""
    if BACKEND == "postgres":
        await pg.require_services()
    stores = ("jinzhong", *COUNTIES, *(extra or {}), "identity")
    databases, created = await fresh_databases(tag, stores)
    identity_db_url = databases.pop("identity", None)
    (tmp / "nodes.toml").write_text(node_map(databases, extra), encoding="utf-8")
    settings = suite_settings(tmp, nodes=str(tmp / "nodes.toml"), identity_db_url=identity_db_url)
    nodes = build_registry(settings)
    await migrate_registry(nodes)
    return settings, nodes, created


@asynccontextmanager
async def desk_over(stores: tuple[Settings, NodeRegistry], *signed_in: str) -> AsyncIterator[Desk]:
    """A desk at a hub of its own over ``stores``, the ``signed_in`` users signed in."""
    async with own_hub(*stores) as hub:
        d = Desk(hub)
        if signed_in:
            await d.sign_in(*signed_in)
        yield d


# the session's store registries built so far (the fixtures below): their pools are
# emptied after each module, else the idle connections of a dozen per-county stores,
# the mixed map's, the embedded one's and the federations' stay open all session and
# PostgreSQL refuses more clients ("too many clients already", max_connections=100)
BUILT: list[NodeRegistry] = []


@pytest.fixture(scope="module", autouse=True)
async def connections_released() -> AsyncIterator[None]:
    yield
    # the engines stay usable: the next module's first statement opens a connection
    await asyncio.gather(*(store.engine.dispose() for nodes in BUILT for store in nodes.stores()))


@pytest.fixture(scope="session")
async def county_stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    tmp = tmp_path_factory.mktemp("per-county")
    async with demo_in(per_county(tmp, uuid.uuid4().hex[:8])) as made:
        BUILT.append(made[1])
        yield made


@pytest.fixture(scope="session")
def county_nodes(county_stores: tuple[Settings, NodeRegistry]) -> NodeRegistry:
    return county_stores[1]


@pytest.fixture
async def county_desk(county_stores: tuple[Settings, NodeRegistry]) -> AsyncIterator[Desk]:
    async with desk_over(county_stores, "resident1", *STAFF) as d:
        yield d


@pytest.fixture(scope="session")
async def mixed_stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """The mixed map: per county, and 修文镇 on a node of its own; the demo loaded."""
    tmp = tmp_path_factory.mktemp("mixed")
    async with demo_in(per_county(tmp, uuid.uuid4().hex[:8], {XIUWEN: "140702101"})) as made:
        BUILT.append(made[1])
        yield made


@pytest.fixture
async def mixed_desk(mixed_stores: tuple[Settings, NodeRegistry]) -> AsyncIterator[Desk]:
    async with desk_over(mixed_stores, "resident4", *STAFF) as d:
        yield d


@pytest.fixture(scope="session")
async def embedded_stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """The embedded default with the demo, fresh (the session's stores are written to by
    other tests): what the per-county answers are compared with."""
    tmp = tmp_path_factory.mktemp("embedded")
    async with demo_in(make_registry(tmp, uuid.uuid4().hex[:8])) as made:
        BUILT.append(made[1])
        yield made


@pytest.fixture
async def embedded_desk(embedded_stores: tuple[Settings, NodeRegistry]) -> AsyncIterator[Desk]:
    async with desk_over(embedded_stores) as d:
        yield d


@pytest.fixture(scope="session")
async def sqlite_federation(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Federation]:
    async with federation_in(tmp_path_factory.mktemp("processes")) as made:
        BUILT.extend((made.stores, made.hub))
        yield made


@pytest.fixture(scope="session")
def federation(sqlite_federation: Federation) -> Federation:
    """A city node and two county nodes as processes over SQLite stores, and a hub
    reading them through their API (``tests/support/federation.py``), once per session:
    shared by every module, a test's writes are seen by the tests after it."""
    return sqlite_federation


@pytest.fixture(scope="session")
async def postgres_federation(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Federation]:
    async with federation_in(tmp_path_factory.mktemp("processes-db"), on_backend=True) as made:
        BUILT.extend((made.stores, made.hub))
        yield made


@pytest.fixture(scope="session")
def backend_federation(request: pytest.FixtureRequest) -> Federation:
    """The federation over stores of the run's backend: on PostgreSQL, each node's
    store and each of the hub's own a database of its own (once per session); on SQLite
    the shared ``federation``."""
    # not "federation" on SQLite: a module may name its own fixture so, over this one
    shared = "postgres_federation" if BACKEND == "postgres" else "sqlite_federation"
    made: Federation = request.getfixturevalue(shared)
    return made


@pytest.fixture(autouse=True)
async def nodes_serving(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After a test of the federation, its nodes serving again, the hub's breakers
    closed and its clock at the demo's (a test may stop a node or move the clock): the
    next test finds the federation whole."""
    if "federation" not in request.fixturenames:
        yield
        return
    federation: Federation = request.getfixturevalue("federation")
    yield
    await federation.revive()
