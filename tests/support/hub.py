"""A hub of its own, over the session's demo stores, with some settings changed: the
limits, persisted-query and rate-limit tests each tighten what they test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gateway.app import create_app
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from tests.conftest import client_transport


@asynccontextmanager
async def hub(
    settings: Settings, nodes: NodeRegistry, clock: Clock, **changes: Any
) -> AsyncIterator[Any]:
    """The app, with ``changes`` applied to the session's settings."""
    app = create_app(settings.model_copy(update=changes), nodes=nodes, clock=clock)
    try:
        yield app
    finally:
        await app.state.broker.close()
        await app.state.identity.close()


@asynccontextmanager
async def client(app: Any, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client from an address of its own."""
    async with httpx.AsyncClient(
        transport=client_transport(app), base_url="http://govhub.test", **kwargs
    ) as http:
        yield http
