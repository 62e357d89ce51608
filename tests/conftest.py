"""Shared fixtures: one set of stores per test session on the chosen backend.

``GOVHUB_TEST_BACKEND=sqlite`` (default) uses SQLite files in a temporary folder;
``GOVHUB_TEST_BACKEND=postgres`` creates five fresh PostgreSQL databases on
``GOVHUB_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/test``) and drops them
at the end, and requires Redis at ``GOVHUB_TEST_REDIS`` too; a missing server fails the
run (``make test`` decides whether to run that pass)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.demo import load_demo
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common import migrate
from levels.common.clock import CHINA, FixedClock
from tests.support import pg

BACKEND = os.environ.get("GOVHUB_TEST_BACKEND", "sqlite")
# how the suite's hubs reach the nodes without an address: "sql" (the default) or
# "api" (the node API in-process), as GOVHUB_NODE_CALLS
NODE_CALLS = os.environ.get("GOVHUB_TEST_NODE_CALLS", "sql")
# whether the hub's own engines run the nodes' statements: counts of SQL statements on
# them (``count_statements``) pin the SQL path; through the node API they run on the
# node apps' engines instead, and such a count does not apply
HUB_RUNS_NODE_SQL = NODE_CALLS == "sql"
# a Friday in the demo's present: delegations effective 2026-01-01 are in force,
# the one effective 2027-01-01 is not yet
DEMO_NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)


def pytest_report_header() -> str:
    return f"govhub backend: {BACKEND}, node calls: {NODE_CALLS}"


# the hub secret of the test stores (it also encrypts the orgs' licence keys)
TEST_SECRET = "govhub-test-secret"


@pytest.fixture(scope="session")
def backend() -> str:
    return BACKEND


async def fresh_databases(tag: str, stores: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """On PostgreSQL a fresh database per store: their URLs by store name, and the
    names to drop at the end; on SQLite none (each store gets its file)."""
    urls: dict[str, str] = {}
    created: list[str] = []
    if BACKEND == "postgres":
        for store in stores:
            name = f"{pg.PREFIX}_{tag}_{store}"
            await pg.create_database(name)
            created.append(name)
            urls[store] = pg.async_url(name)
    return urls, created


def suite_settings(tmp: Path, **overrides: Any) -> Settings:
    """The settings of a test's hub and stores: the demo's clock, the test secret, Redis
    on PostgreSQL, limits out of the way."""
    return Settings(
        var_dir=tmp,
        clock_override=DEMO_NOW,
        redis_url=pg.redis_url() if BACKEND == "postgres" else None,
        secret_key=SecretStr(TEST_SECRET),
        # the whole suite signs in as the same demo accounts within a minute: request
        # rates and cost budgets are tested with apps of their own (tests/gateway)
        requests_per_minute=1_000_000,
        requests_per_minute_per_ip=1_000_000,
        cost_budget_per_minute=100_000_000,
        **{"node_calls": NODE_CALLS, **overrides},
    )


async def migrate_registry(nodes: NodeRegistry) -> None:
    """Every node's store and the identity store, at the newest schema."""
    for node in nodes:
        await migrate.upgrade(node.engine, "levels")
    await migrate.upgrade(nodes.identity.engine, "identity")


async def make_registry(tmp: Path, tag: str) -> tuple[Settings, NodeRegistry, list[str]]:
    """Fresh, migrated stores (SQLite files or new PostgreSQL databases)."""
    urls, created = await fresh_databases(tag, ("city", "county", "town", "village", "identity"))
    settings = suite_settings(tmp, **{f"{store}_db_url": url for store, url in urls.items()})
    nodes = NodeRegistry.from_settings(settings)
    await migrate_registry(nodes)
    return settings, nodes, created


@asynccontextmanager
async def demo_in(
    making: Awaitable[tuple[Settings, NodeRegistry, list[str]]],
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """The stores ``making`` makes, with the demo loaded; closed, and their databases
    dropped, at the end."""
    settings, nodes, created = await making
    try:
        await load_demo(nodes, secret=settings.identity_secret())
        yield settings, nodes
    finally:
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


@pytest.fixture(scope="session")
async def demo_stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """The demo city, loaded once per session; tests that read share it."""
    if BACKEND == "postgres":
        await pg.require_services()
    tag = uuid.uuid4().hex[:8]
    async with demo_in(make_registry(tmp_path_factory.mktemp("demo"), tag)) as made:
        yield made


@pytest.fixture(scope="session")
def settings(demo_stores: tuple[Settings, NodeRegistry]) -> Settings:
    return demo_stores[0]


@pytest.fixture(scope="session")
def nodes(demo_stores: tuple[Settings, NodeRegistry]) -> NodeRegistry:
    return demo_stores[1]


@pytest.fixture(scope="session")
def clock() -> FixedClock:
    return FixedClock(DEMO_NOW)


@pytest.fixture(scope="session")
async def app(settings: Settings, nodes: NodeRegistry, clock: FixedClock) -> AsyncIterator[Any]:
    app = create_app(settings, nodes=nodes, clock=clock)
    yield app
    await app.state.broker.close()
    await app.state.identity.close()


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**self.headers, **headers},
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


_client_ips = itertools.count(1)


def client_transport(app: Any) -> httpx.ASGITransport:
    """An in-process transport from an address of its own: per-IP rate limits (failed
    logins, hand-offs) of one test never reach another."""
    n = next(_client_ips)
    return httpx.ASGITransport(
        app=app, client=(f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", 50000)
    )


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=client_transport(app), base_url="http://govhub.test"
    ) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)
