"""One level node down: reads return what the healthy nodes have, plus a
NODE_UNAVAILABLE error naming the level; readiness reports the store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.breakers import unreachable
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.store import create_store_engine
from tests.conftest import BACKEND
from tests.support import pg
from tests.support.outages import on_store

# the down node named with the prefixes it owns (its level too: it holds one)
VILLAGE_DOWN = {"code": "NODE_UNAVAILABLE", "level": "VILLAGE", "node": "village", "prefixes": [""]}


def unreachable_url(tmp: Path) -> str:
    if BACKEND == "postgres":
        return pg.async_url("govhub_test_no_such_database")
    return f"sqlite+aiosqlite:///{tmp}/missing-folder/village.sqlite3"


def store_at(url: str, tmp: Path) -> AsyncEngine:
    engine = create_store_engine(url)
    if BACKEND != "postgres":
        # a store whose file cannot be opened: the folder does not exist
        (tmp / "missing-folder").rmdir()
    return engine


async def hub_with_village(
    engine: AsyncEngine, nodes: NodeRegistry, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A hub whose village node is the store of ``engine``."""
    broken = on_store(nodes[Level.VILLAGE], engine)
    registry = nodes.replacing(broken)
    app = create_app(settings, nodes=registry, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as client:
        yield client
    await engine.dispose()


@pytest.fixture
async def village_down(
    nodes: NodeRegistry, settings: Settings, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    engine = store_at(unreachable_url(tmp_path), tmp_path)
    async for client in hub_with_village(engine, nodes, settings, clock):
        yield client


@pytest.fixture
async def village_refusing(
    nodes: NodeRegistry, settings: Settings, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The village's database is there but refuses connections (PostgreSQL's
    ALLOW_CONNECTIONS false: SQLSTATE 55000); on SQLite, a store that cannot be opened."""
    if BACKEND != "postgres":
        engine = store_at(unreachable_url(tmp_path), tmp_path)
        async for client in hub_with_village(engine, nodes, settings, clock):
            yield client
        return
    name = f"{pg.PREFIX}_refusing_{uuid.uuid4().hex[:6]}"
    await pg.create_database(name)
    admin = await asyncpg.connect(pg.PG)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    finally:
        await admin.close()
    try:
        engine = create_store_engine(pg.async_url(name))
        async for client in hub_with_village(engine, nodes, settings, clock):
            yield client
    finally:
        await pg.drop_database(name)


async def post(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_fan_out_returns_partial_data_and_names_the_level(
    village_down: httpx.AsyncClient,
) -> None:
    body = await post(village_down, "{ divisions(first: 100) { edges { node { level } } } }")
    levels = {e["node"]["level"] for e in body["data"]["divisions"]["edges"]}
    assert levels == {"CITY", "COUNTY", "TOWN"}
    (error,) = body["errors"]
    assert error["extensions"] == VILLAGE_DOWN
    assert error["path"] == ["divisions"]


async def test_service_routes_of_a_town_do_not_need_the_village_node(
    village_down: httpx.AsyncClient,
) -> None:
    body = await post(
        village_down,
        '{ serviceRoutes(divisionCode: "140702101000", first: 5) '
        "{ edges { node { maxVisits } } } }",
    )
    assert "errors" not in body
    assert len(body["data"]["serviceRoutes"]["edges"]) == 5


async def test_a_relation_into_the_down_node_fails_only_that_field(
    village_down: httpx.AsyncClient,
) -> None:
    body = await post(
        village_down,
        '{ division(code: "140702101000") { name serviceOrg { name } '
        "children(first: 3) { edges { node { code } } } } }",
    )
    assert body["data"]["division"]["name"] == "修文镇"
    assert body["data"]["division"]["serviceOrg"]["name"].endswith("便民服务中心")
    (error,) = body["errors"]
    assert error["path"] == ["division", "children"]
    assert error["extensions"]["code"] == "NODE_UNAVAILABLE"
    assert error["extensions"]["level"] == "VILLAGE"


async def test_readiness_names_the_store_that_is_down(village_down: httpx.AsyncClient) -> None:
    response = await village_down.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["stores"] == {
        "city": True,
        "county": True,
        "town": True,
        "village": False,
        "identity": True,
    }


async def test_a_database_refusing_connections_is_a_node_unavailable(
    village_refusing: httpx.AsyncClient,
) -> None:
    body = await post(village_refusing, "{ divisions(first: 100) { edges { node { level } } } }")
    levels = {e["node"]["level"] for e in body["data"]["divisions"]["edges"]}
    assert levels == {"CITY", "COUNTY", "TOWN"}
    (error,) = body["errors"]
    assert error["extensions"] == VILLAGE_DOWN


class _DriverError(Exception):
    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [
        ("55000", 'database "govhub_village" is not currently accepting connections'),
        ("57P03", "the database system is starting up"),
        ("53300", "sorry, too many clients already"),
    ],
)
def test_a_database_that_refuses_a_connection_is_unreachable(sqlstate: str, message: str) -> None:
    # as SQLAlchemy raises it when connecting: no statement yet
    assert unreachable(DBAPIError(None, None, _DriverError(sqlstate, message)))


def test_object_not_in_prerequisite_state_from_a_statement_is_a_bug() -> None:
    error = _DriverError("55000", "currval of sequence is not yet defined in this session")
    assert not unreachable(DBAPIError("SELECT currval('s')", None, error))
