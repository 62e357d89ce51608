"""Nodes of the embedded map (one per level) served from the session's demo stores, and
the hub's clients of them, in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auth.hub_tokens import HubKey, HubTokenSigner
from gateway.node_app import create_node_app
from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.enums import Level
from resolvers.nodeclient import NodeClient


@pytest.fixture(scope="session")
def hub_key() -> HubKey:
    return HubKey.generate()


@pytest.fixture(scope="session")
def signer(hub_key: HubKey) -> HubTokenSigner:
    return HubTokenSigner(hub_key)


@pytest.fixture(scope="session")
async def node_apps(
    settings: Settings, hub_key: HubKey, clock: FixedClock
) -> AsyncIterator[dict[str, Starlette]]:
    apps = {
        node_id: create_node_app(settings, node_id, hub_keys=hub_key.jwks(), clock=clock)
        for node_id in ("city", "county", "town", "village")
    }
    yield apps
    for app in apps.values():
        await app.state.dispose()


MakeClient = Callable[[str], NodeClient]


@pytest.fixture
async def raw(node_apps: dict[str, Starlette]) -> AsyncIterator[httpx.AsyncClient]:
    """The county node's app over HTTP, without a hub token of its own."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=node_apps["county"]), base_url="http://county.node"
    ) as client:
        yield client


@pytest.fixture
async def node_client(
    node_apps: dict[str, Starlette], signer: HubTokenSigner
) -> AsyncIterator[MakeClient]:
    made: list[NodeClient] = []

    def make(node_id: str) -> NodeClient:
        client = NodeClient.in_process(node_id, node_apps[node_id], signer=signer)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


def statements(app: Starlette) -> Any:
    """A counter of the SQL statements a node app's store runs while a block runs."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting() -> Any:
        counts = {"n": 0}

        def listener(*_args: Any) -> None:
            counts["n"] += 1

        engine = app.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            yield counts
        finally:
            event.remove(engine, "before_cursor_execute", listener)

    return counting()


def per_county_map(settings: Settings) -> str:
    """A city node, a node of its own for 榆次区 (on the county store), and one node for
    the other counties' county, town and village divisions."""
    return f"""
[[nodes]]
id = "jinzhong"
prefixes = ["1407"]
levels = ["CITY"]
database = "{settings.db_url(Level.CITY)}"

[[nodes]]
id = "yuci"
prefixes = ["140702"]
database = "{settings.db_url(Level.COUNTY)}"

[[nodes]]
id = "others"
prefixes = ["1407"]
levels = ["COUNTY", "TOWN", "VILLAGE"]
database = "{settings.db_url(Level.TOWN)}"
"""


@pytest.fixture
async def yuci(
    settings: Settings, hub_key: HubKey, signer: HubTokenSigner, clock: FixedClock
) -> AsyncIterator[tuple[NodeClient, Any]]:
    mapped = settings.model_copy(update={"nodes": per_county_map(settings)})
    app = create_node_app(mapped, "yuci", hub_keys=hub_key.jwks(), clock=clock)
    client = NodeClient.in_process("yuci", app, signer=signer)
    yield client, app
    await client.close()
    await app.state.dispose()
