"""``govhub init|demo|serve|export-schema``: bring the stores to this hub's schema, load
the demo city, serve the hub, print its SDL."""

from __future__ import annotations

import asyncio
import importlib.metadata
import sys
from typing import Any

import click

from auth.keys import ensure_signing_key, list_signing_keys
from gateway.breakers import unreachable
from gateway.cli.base import (
    CLOCK,
    SECRET,
    STORES,
    Steps,
    load_settings,
    main,
    masked,
    now_of,
    progress,
    reads,
    secret_of,
    with_nodes,
)
from gateway.nodes import NodeRegistry, Store
from gateway.settings import Settings
from levels.common import migrate


def _chain(nodes: NodeRegistry, store: Store) -> migrate.Chain:
    return "identity" if store is nodes.identity else "levels"


async def migrate_all(nodes: NodeRegistry, steps: Steps | None = None) -> None:
    """Every store to the newest revision of its chain, a progress line per store."""
    for store in nodes.stores():
        before = await migrate.revision(store.engine)
        await migrate.upgrade(store.engine, _chain(nodes, store))
        after = await migrate.revision(store.engine)
        if steps is None:
            continue
        if before == after:
            steps.done(f"{store.name} store: at {after} already")
        else:
            steps.done(f"{store.name} store: {before or 'empty'} → {after}")


@reads(STORES, SECRET, CLOCK)
@main.command()
def init() -> None:
    """Create or upgrade the schema of every store (Alembic); make sure a token
    signing key exists. Safe to run again: a store at this hub's schema is left as is."""
    settings = load_settings()
    secret = secret_of(settings)
    steps = Steps()

    names: list[str] = []

    async def run(nodes: NodeRegistry) -> str:
        names.extend(store.name for store in nodes.stores())
        progress(f"migrating {len(nodes.stores())} stores")
        await migrate_all(nodes, steps)
        async with nodes.identity.sessions.begin() as session:
            await ensure_signing_key(session=session, secret=secret, now=now_of(settings))
            await session.flush()
            signing = [k.kid for k in await list_signing_keys(session=session) if not k.retired_at]
        steps.done("token signing key checked")
        return signing[-1]

    kid = asyncio.run(with_nodes(settings, run))
    click.echo(f"stores migrated: {', '.join(names)} ({steps.elapsed:.1f}s)")
    click.echo(f"signing key: {kid}")


@reads(STORES, SECRET)
@main.command()
@click.option(
    "--if-empty/--always",
    default=True,
    show_default=True,
    help="Load only when the stores hold no demo city yet.",
)
def demo(if_empty: bool) -> None:
    """Load the demo city (Jinzhong 晋中市) into the stores, migrating them first; a
    line per step as it goes (it takes a while: passwords are hashed as in production)."""
    from gateway.demo import is_loaded, load_demo

    settings = load_settings()
    secret = secret_of(settings)
    steps = Steps()

    async def run(nodes: NodeRegistry) -> dict[str, int] | None:
        progress(f"migrating {len(nodes.stores())} stores")
        await migrate_all(nodes, steps)
        if await is_loaded(nodes):
            if if_empty:
                return None
            raise click.ClickException("the demo city is loaded already; use fresh stores")
        progress("loading the demo city (晋中市)")
        return await load_demo(nodes, secret=secret, progress=steps.done)

    counts = asyncio.run(with_nodes(settings, run))
    if counts is None:
        click.echo("demo city already loaded")
        return
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    click.echo(f"demo city loaded in {steps.elapsed:.1f}s: {summary}")


async def _survey(nodes: NodeRegistry, timeout: float) -> list[tuple[Store, str]]:
    """Each store and how it stands; a store behind this hub's schema is refused."""
    found = []
    for store in nodes.stores():
        try:
            async with asyncio.timeout(timeout):
                current = await migrate.is_current(store.engine, _chain(nodes, store))
        except Exception as exc:
            if not unreachable(exc):
                raise
            # the hub serves without it (answers say it is unavailable) until it is back
            found.append((store, f"NOT REACHABLE ({type(exc).__name__}): served as unavailable"))
            continue
        if not current:
            raise click.ClickException(
                f"the {store.name} store is not at this hub's schema: run 'govhub init' first"
            )
        found.append((store, "ready"))
    return found


def _banner(settings: Settings, host: str, port: int, stores: list[tuple[Store, str]]) -> None:
    from gateway import graphiql

    base = f"http://{host}:{port}"
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    version = importlib.metadata.version("govhub")
    click.echo(f"GovHub {version} ({settings.mode.value} mode, {workers}) listening on {base}")
    if settings.is_dev:
        ide = "GraphiQL in a browser" if graphiql.installed() else "GraphiQL: run 'make graphiql'"
        click.echo(f"  GraphQL    {base}/graphql ({ide})")
    else:
        click.echo(f"  GraphQL    {base}/graphql")
    click.echo(f"  dashboard  {base}/dashboard")
    click.echo(f"  metrics    {base}/metrics")
    click.echo(f"  health     {base}/health/live, {base}/health/ready")
    click.echo("stores (the four level nodes and identity):")
    width = max(len(store.name) for store, _ in stores)
    for store, status in stores:
        click.echo(f"  {store.name:<{width}}  {masked(store.url)}  {status}")
    if settings.redis_url:
        click.echo(f"Redis: {masked(settings.redis_url)} (keys under {settings.redis_namespace})")
    else:
        click.echo("Redis: none (in-process stand-ins: limits and subscriptions per process)")
    click.echo(f"token issuer: {settings.issuer}")


@reads(
    STORES,
    SECRET,
    CLOCK,
    "GOVHUB_HOST",
    "GOVHUB_PORT",
    "GOVHUB_WORKERS",
    "GOVHUB_PUBLIC_URL",
    "GOVHUB_REDIS_URL",
    "GOVHUB_REDIS_PREFIX",
    "GOVHUB_LOG_FORMAT",
    "GOVHUB_OTEL_EXPORTER",
    "GOVHUB_TIMER_INTERVAL_SECONDS",
    "GOVHUB_RELAY_INTERVAL_SECONDS",
    "GOVHUB_CORS_ORIGINS",
    "GOVHUB_PERSISTED_ONLY",
    "and every other GOVHUB_* setting (limits, tokens, sign-in)",
)
@main.command()
@click.option("--host", default=None, help="Default: GOVHUB_HOST or 127.0.0.1")
@click.option("--port", default=None, type=int, help="Default: GOVHUB_PORT or 8000")
def serve(host: str | None, port: int | None) -> None:
    """Serve the hub (uvicorn). Prints where it listens and which stores it uses
    (passwords masked); refuses stores that 'govhub init' has not brought to this hub's
    schema, and serves without a store that does not answer until it does."""
    import uvicorn

    from gateway.app import create_app
    from gateway.observability import configure_logging

    settings = load_settings()
    secret_of(settings)  # prod without GOVHUB_SECRET_KEY: one line, before anything starts
    # --host/--port are where this hub is, as GOVHUB_HOST/PORT would say (the token
    # issuer too, unless GOVHUB_PUBLIC_URL names it)
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    host, port = settings.host, settings.port
    timeout = max(settings.node_timeout_seconds, 5.0)
    stores = asyncio.run(with_nodes(settings, lambda n: _survey(n, timeout), check=False))
    _banner(settings, host, port, stores)
    # one JSON object per line in prod (GOVHUB_LOG_FORMAT), uvicorn's lines included
    configure_logging(settings)
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "log_config": None}
    if settings.workers > 1:
        # each worker process builds its own app (engines, pools) from the environment
        uvicorn.run("gateway.app:create_app", factory=True, workers=settings.workers, **options)
        return
    # the app's lifespan freezes what start-up built (gateway.app.settle_heap)
    uvicorn.run(create_app(settings), **options)


@reads()
@main.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (committed as schema.graphql)."""
    from schema.build import export_sdl

    sys.stdout.write(export_sdl())
