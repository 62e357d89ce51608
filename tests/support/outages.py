"""What the tests of a node or store that does not answer say again and again: a node
at an address that does not answer one call, a store that does not answer at all, the
answers that name the node."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from auth.hub_tokens import HubKey, HubTokenSigner
from gateway.nodes import Node, NodeRegistry
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.store import create_store_engine
from resolvers.nodeclient import NodeClient
from tests.conftest import BACKEND


def _unreachable(_request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("the node's store does not answer")


def on_store(node: Node, engine: AsyncEngine) -> Node:
    """``node`` on the store of ``engine``; a node the hub reaches in-process through
    its API (``GOVHUB_NODE_CALLS=api``) with a client that reaches nothing, as that
    node's app would not answer without its store."""
    url = engine.url.render_as_string(hide_password=False)
    client = node.client
    if client is not None and node.spec.in_process:
        client = NodeClient(
            node.id,
            signer=HubTokenSigner(HubKey.generate()),
            base_url=f"http://{node.id}.node.invalid",
            transport=httpx.MockTransport(_unreachable),
        )
    return dataclasses.replace(
        node, url=url, engine=engine, sessions=async_sessionmaker(engine), client=client
    )


def no_answer(monkeypatch: pytest.MonkeyPatch, hub: NodeRegistry, node: str, call: str) -> None:
    """The hub's client of ``node`` gets no answer to ``call``: NODE_UNAVAILABLE naming
    the node, as when the node's timeout passes."""
    client = hub[node].client
    assert client is not None, f"{node} is not reached through its API"

    async def silent(*_args: Any, **_kwargs: Any) -> Any:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {node}: no answer")

    monkeypatch.setattr(client, call, silent)


def named(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """The code and the node of each error of a GraphQL answer."""
    return [(e["extensions"]["code"], e["extensions"]["node"]) for e in answer["errors"]]


def assert_unavailable(answer: dict[str, Any], node: str, *, field: str | None = None) -> None:
    """Nothing answered — the data null, or with ``field`` that field of it — and one
    error: NODE_UNAVAILABLE naming ``node``."""
    if field is None:
        assert answer["data"] is None, answer
    else:
        assert (answer.get("data") or {}).get(field) is None, answer
    assert named(answer) == [("NODE_UNAVAILABLE", node)], answer


@asynccontextmanager
async def store_down(nodes: NodeRegistry, level: Level, tmp: Path) -> AsyncIterator[NodeRegistry]:
    """``nodes`` with the store of ``level`` not answering: a PostgreSQL port nobody
    listens on, an SQLite "file" that is a folder (made in ``tmp``)."""
    node = nodes[level]
    if BACKEND == "postgres":
        url = make_url(node.url).set(port=1).render_as_string(hide_password=False)
    else:
        folder = tmp / level.value.lower()
        folder.mkdir()
        url = f"sqlite+aiosqlite:///{folder}"
    engine = create_store_engine(url)
    away = on_store(node, engine)
    try:
        yield nodes.replacing(away)
    finally:
        await engine.dispose()
