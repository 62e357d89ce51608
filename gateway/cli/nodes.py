"""``govhub nodes``: the node map the hub routes by — each node's id, the division-code
prefixes it owns, the levels it holds, its address and database (password masked) —
and each node's health: whether its database answers, and at which migration."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import click

from gateway.breakers import unreachable
from gateway.cli.base import STORES, load_settings, main, masked, reads, with_nodes
from gateway.nodes import Node, NodeRegistry
from levels.common import migrate


@dataclass(frozen=True)
class NodeHealth:
    reachable: bool
    revision: str | None
    current: bool
    problem: str | None = None


async def node_health(node: Node, timeout: float) -> NodeHealth:
    """Whether the node's database answers, its migration head, and whether that is
    this hub's schema."""
    try:
        async with asyncio.timeout(timeout):
            revision = await migrate.revision(node.engine)
            current = await migrate.is_current(node.engine, "levels")
    except Exception as exc:
        if not unreachable(exc):
            raise
        return NodeHealth(False, None, False, type(exc).__name__)
    return NodeHealth(True, revision, current)


def describe(node: Node, health: NodeHealth) -> list[str]:
    levels = "/".join(lv.value for lv in node.levels)
    prefixes = ", ".join(p or "*" for p in node.prefixes)
    if not health.reachable:
        state = f"NOT REACHABLE ({health.problem})"
    elif health.revision is None:
        state = "reachable, not migrated: run 'govhub init'"
    elif not health.current:
        state = f"reachable, at {health.revision}: behind this hub, run 'govhub init'"
    else:
        state = f"reachable, at {health.revision}"
    return [
        f"{node.id}",
        f"  prefixes: {prefixes}",
        f"  levels:   {levels}",
        f"  address:  {node.spec.address}",
        f"  database: {masked(node.url)}",
        f"  health:   {state}",
    ]


@reads(STORES)
@main.command()
def nodes() -> None:
    """List the node map (GOVHUB_NODES, else the embedded default of one node per
    level): each node's id, prefixes, levels, address and database URL (password
    masked), and its health — whether the database answers and its migration head.
    Exit code 1 when a node does not answer or is not at this hub's schema."""
    settings = load_settings()
    timeout = max(settings.node_timeout_seconds, 5.0)

    async def run(registry: NodeRegistry) -> list[tuple[Node, NodeHealth]]:
        healths = await asyncio.gather(*(node_health(n, timeout) for n in registry))
        return list(zip(registry, healths, strict=True))

    found = asyncio.run(with_nodes(settings, run, check=False))
    source = _source(settings.nodes)
    click.echo(f"node map: {source} ({len(found)} nodes)")
    for node, health in found:
        click.echo("\n".join(describe(node, health)))
    bad = [n.id for n, h in found if not (h.reachable and h.current)]
    if bad:
        raise click.ClickException(f"nodes not ready: {', '.join(bad)}")


def _source(configured: str | None) -> str:
    """Where the map comes from: its file, the TOML given inline, or the default."""
    if not configured:
        return "embedded default"
    return "GOVHUB_NODES (inline TOML)" if "[[nodes]]" in configured else configured.strip()
