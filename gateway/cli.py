"""The ``govhub`` command: init, demo, serve, export-schema."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common import migrate

T = TypeVar("T")


async def _init(nodes: NodeRegistry) -> None:
    for node in nodes:
        await migrate.upgrade(node.engine, "levels")
    await migrate.upgrade(nodes.identity.engine, "identity")


async def _with_nodes(settings: Settings, fn: Callable[[NodeRegistry], Awaitable[T]]) -> T:
    nodes = NodeRegistry.from_settings(settings)
    try:
        return await fn(nodes)
    finally:
        await nodes.dispose()


@click.group()
def main() -> None:
    """GovHub: the GraphQL hub of a four-level government-service network."""


@main.command()
def init() -> None:
    """Create or upgrade the schema of every store (Alembic)."""
    settings = Settings()
    asyncio.run(_with_nodes(settings, _init))
    click.echo("stores migrated: city, county, town, village, identity")


@main.command()
@click.option(
    "--if-empty/--always",
    default=True,
    show_default=True,
    help="Load only when the stores hold no demo city yet.",
)
def demo(if_empty: bool) -> None:
    """Load the demo city (Jinzhong 晋中市) into the stores."""
    from gateway.demo import is_loaded, load_demo

    async def run(nodes: NodeRegistry) -> dict[str, int] | None:
        await _init(nodes)
        if await is_loaded(nodes):
            if if_empty:
                return None
            raise click.ClickException("the demo city is loaded already; use fresh stores")
        return await load_demo(nodes, secret=settings.identity_secret())

    settings = Settings()
    started = time.perf_counter()
    counts = asyncio.run(_with_nodes(settings, run))
    if counts is None:
        click.echo("demo city already loaded")
        return
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    click.echo(f"demo city loaded in {time.perf_counter() - started:.1f}s: {summary}")


@main.command()
@click.option("--host", default=None, help="Default: GOVHUB_HOST or 127.0.0.1")
@click.option("--port", default=None, type=int, help="Default: GOVHUB_PORT or 8000")
def serve(host: str | None, port: int | None) -> None:
    """Serve the hub (uvicorn)."""
    import uvicorn

    from gateway.app import create_app

    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


@main.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (committed as schema.graphql)."""
    from schema import export_sdl

    sys.stdout.write(export_sdl())
