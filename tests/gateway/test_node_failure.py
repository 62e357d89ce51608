"""One level node down: reads return what the healthy nodes have, plus a
NODE_UNAVAILABLE error naming the level; readiness reports the store."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.app import create_app
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.enums import LEVELS, Level
from levels.common.store import create_store_engine
from tests.conftest import BACKEND
from tests.support import pg


def unreachable_url(tmp: Path) -> str:
    if BACKEND == "postgres":
        return pg.async_url("govhub_test_no_such_database")
    return f"sqlite+aiosqlite:///{tmp}/missing-folder/village.sqlite3"


@pytest.fixture
async def village_down(
    nodes: NodeRegistry, settings: Settings, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    url = unreachable_url(tmp_path)
    engine = create_store_engine(url)
    if BACKEND != "postgres":
        # a store whose file cannot be opened: the folder does not exist
        (tmp_path / "missing-folder").rmdir()
    broken = dataclasses.replace(
        nodes[Level.VILLAGE], url=url, engine=engine, sessions=async_sessionmaker(engine)
    )
    registry = NodeRegistry(
        {lv: broken if lv is Level.VILLAGE else nodes[lv] for lv in LEVELS}, nodes.identity
    )
    app = create_app(settings, nodes=registry, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as client:
        yield client
    await engine.dispose()


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
    assert error["extensions"] == {"code": "NODE_UNAVAILABLE", "level": "VILLAGE"}
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
