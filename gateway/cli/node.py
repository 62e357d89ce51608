"""``govhub node serve|migrate|init|sdl``: one node of the node map (``GOVHUB_NODES``,
else the embedded node per level) as a service of its own (DESIGN §2, "A node is a
service"): its store brought to the schema, its API served, its SDL printed."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from gateway.cli.base import (
    CLOCK,
    RELAY,
    SECRET,
    Steps,
    load_settings,
    main,
    masked,
    progress,
    reads,
)
from gateway.node_app import create_node_app, node_spec, store_url
from gateway.settings import SettingMissing, Settings
from levels.common import migrate
from levels.common.store import create_store_engine

# the node map, and where the node's store is (its spec's database, or a level store)
NODE_STORE = (
    "GOVHUB_NODES",
    "GOVHUB_VAR_DIR",
    "GOVHUB_CITY_DB_URL",
    "GOVHUB_COUNTY_DB_URL",
    "GOVHUB_TOWN_DB_URL",
    "GOVHUB_VILLAGE_DB_URL",
    "GOVHUB_SQL_ECHO",
)
# how the node checks the hub's tokens
HUB_KEYS = ("GOVHUB_HUB_JWKS_URL", "GOVHUB_HUB_KEY_FILE", "GOVHUB_MODE")
# the store's pool, sized from the connection budget (every command checks it, as the
# settings are read as a whole)
POOL = (
    "GOVHUB_DB_POOL_SIZE",
    "GOVHUB_DB_MAX_OVERFLOW",
    "GOVHUB_DB_CONNECTION_BUDGET",
    "GOVHUB_WORKERS",
    "GOVHUB_IDENTITY_DB_URL",
)

node_option = click.option(
    "--node", "node_id", required=True, help="The node's id in the node map (GOVHUB_NODES)."
)


@main.group()
def node() -> None:
    """One node of the node map as a service of its own: migrate its store, serve its
    API (for the hub, authenticated with hub tokens), print its SDL."""


def _located(settings: Settings, node_id: str) -> str:
    try:
        _, spec = node_spec(settings, node_id)
        return store_url(settings, spec)
    except SettingMissing as exc:
        raise click.ClickException(str(exc)) from None


async def _migrate(settings: Settings, node_id: str, steps: Steps) -> str:
    url = _located(settings, node_id)
    engine = create_store_engine(url, echo=settings.sql_echo, pool_size=1, max_overflow=0)
    try:
        before = await migrate.revision(engine)
        await migrate.upgrade(engine, "levels")
        after = await migrate.revision(engine)
    finally:
        await engine.dispose()
    if before == after:
        steps.done(f"{node_id} store ({masked(url)}): at {after} already")
    else:
        steps.done(f"{node_id} store ({masked(url)}): {before or 'empty'} → {after}")
    return after or ""


@reads(NODE_STORE, POOL)
@node.command("migrate")
@node_option
def migrate_node(node_id: str) -> None:
    """Bring the node's store to the newest schema (Alembic). Safe to run again."""
    settings = load_settings()
    steps = Steps()
    revision = asyncio.run(_migrate(settings, node_id, steps))
    click.echo(f"node {node_id}: store at {revision} ({steps.elapsed:.1f}s)")


@reads(NODE_STORE, POOL)
@node.command("init")
@node_option
def init_node(node_id: str) -> None:
    """Prepare the node's store to serve: migrate it (the node's signing key for
    messages and receipts is made on first use)."""
    settings = load_settings()
    steps = Steps()
    progress(f"preparing node {node_id}")
    revision = asyncio.run(_migrate(settings, node_id, steps))
    click.echo(f"node {node_id} ready: store at {revision} ({steps.elapsed:.1f}s)")


@reads(NODE_STORE, POOL)
@node.command("sdl")
@node_option
def sdl(node_id: str) -> None:
    """Print the node's GraphQL SDL with its Apollo Federation 2 keys (what
    composition tools read)."""
    from schema.node import node_sdl

    settings = load_settings()
    try:
        node_spec(settings, node_id)
    except SettingMissing as exc:
        raise click.ClickException(str(exc)) from None
    sys.stdout.write(node_sdl())


async def _current(settings: Settings, node_id: str) -> bool:
    engine = create_store_engine(_located(settings, node_id), pool_size=1, max_overflow=0)
    try:
        async with asyncio.timeout(max(settings.node_timeout_seconds, 5.0)):
            return await migrate.is_current(engine, "levels")
    finally:
        await engine.dispose()


@reads(
    NODE_STORE,
    HUB_KEYS,
    POOL,
    SECRET,
    CLOCK,
    "GOVHUB_NODE_TIMEOUT_SECONDS",
    "GOVHUB_MAX_PAGE_SIZE",
    "GOVHUB_DEFAULT_PAGE_SIZE",
    "GOVHUB_HOST",
    "GOVHUB_PORT",
    # its own workers: the timer pass and the relay (RELAY: how messages travel)
    "GOVHUB_NODE_TIMER_INTERVAL_SECONDS",
    "GOVHUB_NODE_RELAY_INTERVAL_SECONDS",
    RELAY,
)
@node.command("serve")
@node_option
@click.option("--host", default=None, help="Default: GOVHUB_HOST or 127.0.0.1")
@click.option("--port", default=None, type=int, help="Default: GOVHUB_PORT or 8000")
def serve_node(node_id: str, host: str | None, port: int | None) -> None:
    """Serve the node's API (uvicorn): /graphql for the hub (a hub token on every
    call, checked against GOVHUB_HUB_JWKS_URL or GOVHUB_HUB_KEY_FILE's public half),
    /inbox for its peers' signed messages and /health; and run, in the same process,
    its timer pass over its own store (GOVHUB_NODE_TIMER_INTERVAL_SECONDS) and its
    relay (GOVHUB_NODE_RELAY_INTERVAL_SECONDS), 0 turning one off. Refuses a store
    that 'govhub node migrate' has not brought to the schema."""
    import uvicorn

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    url = _located(settings, node_id)
    if not asyncio.run(_current(settings, node_id)):
        raise click.ClickException(
            f"the {node_id} store is not at this code's schema: run "
            f"'govhub node migrate --node {node_id}' first"
        )
    from gateway.node_workers import node_workers

    try:
        app = create_node_app(settings, node_id, workers=node_workers)
    except SettingMissing as exc:
        raise click.ClickException(str(exc)) from None
    keys = settings.hub_jwks_url or f"the public half of {settings.hub_key_file or 'the dev key'}"
    click.echo(f"GovHub node {node_id} listening on http://{host}:{port}")
    click.echo(f"  GraphQL  http://{host}:{port}/graphql (hub tokens checked with {keys})")
    click.echo(f"  health   http://{host}:{port}/health")
    click.echo(f"  store    {masked(url)}")
    for worker in app.state.workers:
        every = worker.report().get("intervalSeconds")
        click.echo(f"  {worker.name:<8} " + (f"every {every}s" if every else "off"))
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "log_config": None}
    uvicorn.run(app, **options)
